"""The thread protocol's recorded form: a thread's commands and its event log, each once.

The thread-centric protocol (`client.threads.stream()`, `useStream` from `@langchain/react`)
sends commands to `POST /threads/{t}/commands` and reads events from any number of concurrent
`POST /threads/{t}/stream/events` subscriptions, each of which replays the thread's history
through its own filter. Recorded as plain HTTP that is five overlapping copies of one event
log. A cassette keeps it as a person reads it instead:

    {"thread_id": "...", "stream_headers": {...},
     "commands": [{"t": 0.0, "command": {"id": 1, "method": "run.start", ...},
                   "status": 200, "reply": {"type": "success", ...}}, ...],
     "events": [{"t": 0.012, "after": 0, "opened": 2,
                 "event": {"type": "event", "seq": 1, ...}}, ...]}

`t` of a command is seconds from the first request on the thread; `t` of an event is seconds
from the command it came `after` (the last command sent before it first arrived; -1: before
any), so replay can pace each run from the moment its command is answered. `opened` counts the
subscriptions the client had opened on the thread when the event first arrived: a live server
takes its time (the first event of a run comes a good half second after `run.start` is
answered) and clients open their streams in that window; an instant replay waits for them
too, so an SDK that races its own streams (the sync SDK's lifecycle watcher against a
projection it is still setting up) sees them in the order it saw live. Events are
deduplicated by `seq` (the thread's own numbering, the same on every connection) and kept
in `seq` order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lg_testkit.protocol import RouteKind, route
from lg_testkit.sse import SSEParser

__all__ = ["ProtocolCommand", "ProtocolEvent", "ProtocolThread", "TimedExchange", "fold"]


@dataclass
class ProtocolCommand:
    t: float
    command: Any  # the request body: {"id", "method", "params"}
    status: int
    reply: Any  # the JSON answer (None if the body was not JSON)

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "command": self.command, "status": self.status, "reply": self.reply}


@dataclass
class ProtocolEvent:
    t: float
    after: int  # index of the command it followed, -1 for none
    event: dict[str, Any]  # the envelope: {"type": "event", "event_id", "seq", "method", "params"}
    opened: int = 0  # subscriptions open on the thread (counting closed ones) when it arrived

    @property
    def seq(self) -> int:
        seq = self.event.get("seq")
        return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0

    @property
    def method(self) -> str:
        return str(self.event.get("method", ""))

    def to_dict(self) -> dict[str, Any]:
        if self.opened:
            return {"t": self.t, "after": self.after, "opened": self.opened, "event": self.event}
        return {"t": self.t, "after": self.after, "event": self.event}


@dataclass
class ProtocolThread:
    thread_id: str
    commands: list[ProtocolCommand] = field(default_factory=list)
    events: list[ProtocolEvent] = field(default_factory=list)
    stream_headers: dict[str, str] = field(default_factory=dict)
    # From a sealed file (lg_testkit.cassette.lines): (the envelopes as loaded, the JSON text of
    # each as the file holds it), which is what replay sends for an envelope still in place.
    loaded_texts: tuple[list[Any], list[bytes]] | None = field(
        default=None, repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "stream_headers": self.stream_headers,
            "commands": [command.to_dict() for command in self.commands],
            "events": [event.to_dict() for event in self.events],
        }


@dataclass
class TimedExchange:
    """One recorded HTTP exchange with the clock it was recorded on."""

    started: float  # when the request was sent (any monotonic clock shared by the exchanges)
    method: str
    path: str
    request_json: Any
    status: int
    headers: dict[str, str]
    reply_json: Any  # a JSON answer
    chunks: list[tuple[float, bytes]]  # a stream's bytes, seconds after `started`


def is_protocol(method: str, path: str) -> bool:
    """A command or a subscription of the thread protocol."""
    return route(method, path).kind in (RouteKind.COMMAND, RouteKind.SUBSCRIPTION)


def fold(exchanges: Iterable[TimedExchange]) -> list[ProtocolThread]:
    """The threads of the thread-protocol exchanges, in the order each thread first appeared."""
    threads: dict[str, ProtocolThread] = {}
    origin: dict[str, float] = {}
    sent: dict[str, list[float]] = {}  # when each command was sent
    subscribed: dict[str, list[float]] = {}  # when each subscription was asked for
    arrivals: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
    for exchange in sorted(exchanges, key=lambda e: e.started):
        where = route(exchange.method, exchange.path)
        thread_id = where.thread_id
        if thread_id is None:
            continue
        thread = threads.setdefault(thread_id, ProtocolThread(thread_id))
        start = origin.setdefault(thread_id, exchange.started)
        if where.kind is RouteKind.COMMAND:
            thread.commands.append(
                ProtocolCommand(
                    round(exchange.started - start, 6),
                    exchange.request_json,
                    exchange.status,
                    exchange.reply_json,
                )
            )
            sent.setdefault(thread_id, []).append(exchange.started)
        elif where.kind is RouteKind.SUBSCRIPTION and exchange.status == 200:
            thread.stream_headers = thread.stream_headers or exchange.headers
            subscribed.setdefault(thread_id, []).append(exchange.started)
            seen = arrivals.setdefault(thread_id, {})
            for at, envelope in _envelopes(exchange):
                # seq numbers the thread's log, the same on every connection; a synthesized
                # event's event_id can differ per connection
                seq = envelope.get("seq")
                key = f"seq:{seq}" if isinstance(seq, int) else str(envelope.get("event_id"))
                if key not in seen or at < seen[key][0]:
                    seen[key] = (at, envelope)
    for thread_id, thread in threads.items():
        times = sent.get(thread_id, [])
        asked = subscribed.get(thread_id, [])
        for at, envelope in arrivals.get(thread_id, {}).values():
            after = sum(1 for when in times if when <= at) - 1
            base = times[after] if after >= 0 else origin[thread_id]
            opened = sum(1 for when in asked if when <= at)
            thread.events.append(
                ProtocolEvent(round(max(at - base, 0.0), 6), after, envelope, opened)
            )
        thread.events.sort(key=lambda event: (event.seq, event.after, event.t))
    return list(threads.values())


def _envelopes(exchange: TimedExchange) -> Iterable[tuple[float, dict[str, Any]]]:
    """(absolute arrival time, envelope) of every event a subscription received."""
    import json

    parser = SSEParser()
    for t, chunk in exchange.chunks:
        for block in parser.feed(chunk):
            if block.is_event and block.data:
                try:
                    envelope = json.loads(block.data)
                except ValueError:
                    continue
                if isinstance(envelope, dict):
                    yield exchange.started + t, envelope
