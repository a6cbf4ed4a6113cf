"""Replaying the thread protocol: commands answered in order, subscriptions fed from the log.

One `ThreadReplay` per thread a consumer uses (the SDKs mint the thread id on the client; it is
bound to a recorded thread at first sight). A command is matched against the next recorded one
(by value, its `id` aside) and answered with the consumer's own `id`. Answering a command that
started or resumed a run releases the events recorded after it, each at its recorded offset
from that moment divided by `speed` (at once with `speed=None`).

Every subscription (`POST .../stream/events`) is a `LiveStream`: the log's events that match
its channels, namespaces and depth, after its `since`, in `seq` order, each sent as soon as it
is released; then heartbeats until the client hangs up, as the server's streams never end.
`event_id` and `seq` are the recorded ones, so a client reading several connections dedupes
exactly as it did live, whatever filters it uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio
import httpx

from lg_testkit.cassette import RecordedRequest, dumps_compact
from lg_testkit.protocol import matches_filter
from lg_testkit.replay.bindings import Bindings
from lg_testkit.replay.matching import differences
from lg_testkit.replay.tape import DROPPED
from lg_testkit.threadlog import ProtocolEvent, ProtocolThread

__all__ = ["LiveStream", "ThreadReplay", "subscription_filter"]

HEARTBEAT = 5.0  # seconds, as langgraph-api sends them
_POLL = 0.005  # async waiters look again this often (commands arrive on the same loop)


class ThreadReplay:
    """One live thread's replay of a recorded protocol thread."""

    def __init__(
        self,
        recorded: ProtocolThread,
        bindings: Bindings,
        *,
        speed: float | None = None,
        drop_after: int | None = None,
        heartbeat: float | None = None,
        ignore: Sequence[str] = (),
    ) -> None:
        self.recorded, self.bindings = recorded, bindings
        self.speed, self.drop_after = speed, drop_after
        self.heartbeat = heartbeat or HEARTBEAT
        self.ignore = tuple(ignore)
        self.answered: list[float | None] = [None] * len(recorded.commands)
        self.next_command = 0
        self.changed = threading.Condition()
        self.version = 0
        self._encoded: dict[tuple[int, str], bytes] = {}

    # -- commands ------------------------------------------------------------------------------

    def command(self, path: str, body: Any) -> tuple[int, bytes] | list[str]:
        """(status, reply body) for a command, or the differences from the expected one."""
        live_id = body.get("id") if isinstance(body, dict) else None
        expected = self.next_command
        if expected >= len(self.recorded.commands):
            return [f"the recording has {len(self.recorded.commands)} commands; this is one more"]
        recorded = self.recorded.commands[expected]
        found = differences(
            RecordedRequest("POST", path, json=_without_id(recorded.command)),
            RecordedRequest("POST", path, json=self.bindings.recorded_json(_without_id(body))),
            self.ignore,
        )
        if found:
            return found
        reply = recorded.reply
        if isinstance(reply, dict) and "id" in reply and live_id is not None:
            reply = {**reply, "id": live_id}
        with self.changed:
            self.next_command += 1
            self.answered[expected] = time.monotonic()
            self.version += 1
            self.changed.notify_all()
        text = dumps_compact(reply) if reply is not None else ""
        return recorded.status, self.bindings.live_bytes(text.encode())

    # -- events --------------------------------------------------------------------------------

    def released_at(self, event: ProtocolEvent) -> float | None:
        """When `event` may be sent (monotonic clock), None while its command is unanswered."""
        if event.after < 0:
            return 0.0
        answered = self.answered[event.after] if event.after < len(self.answered) else None
        if answered is None:
            return None
        return answered + (event.t / self.speed if self.speed else 0.0)

    def encoded(self, index: int, framing: str = "sse") -> bytes:
        """Event `index` with the consumer's ids: an SSE block, or a WebSocket text frame."""
        key = (index, framing)
        block = self._encoded.get(key)
        if block is None:
            event = self.recorded.events[index]
            data = dumps_compact(event.event)
            text = (
                data
                if framing == "ws"
                else f"event: {event.method}\r\ndata: {data}\r\nid: {event.seq}\r\n\r\n"
            )
            block = self._encoded[key] = self.bindings.live_bytes(text.encode())
        return block

    def subscribe(self, body: Any, framing: str = "sse") -> LiveStream:
        """A subscription's stream: SSE blocks, or (`framing="ws"`) one JSON frame per event."""
        return LiveStream(self, subscription_filter(body), framing)


class _Filter:
    """A subscription's filter: langgraph-api's (protocol.matches_filter), after `since`."""

    def __init__(self, body: dict[str, Any], since: int | None) -> None:
        self.body, self.since = body, since

    def __call__(self, event: ProtocolEvent) -> bool:
        if self.since is not None and event.seq <= self.since:
            return False
        return matches_filter(event.event, self.body)


def subscription_filter(body: Any) -> _Filter:
    body = body if isinstance(body, dict) else {}
    since = body.get("since")
    return _Filter(body, since if isinstance(since, int) and not isinstance(since, bool) else None)


class LiveStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One subscription: matching events as they are released, then heartbeats, until closed."""

    def __init__(self, replay: ThreadReplay, wanted: _Filter, framing: str = "sse") -> None:
        self.replay, self.wanted, self.framing = replay, wanted, framing
        self.position = 0
        self.sent = 0
        self.closed = False
        self.last_sent = time.monotonic()

    def _step(self) -> bytes | float | None:
        """The next piece to send, or seconds to wait; None when the connection must drop."""
        replay, events = self.replay, self.replay.recorded.events
        now = time.monotonic()
        while self.position < len(events):
            event = events[self.position]
            if not self.wanted(event):
                self.position += 1
                continue
            released = replay.released_at(event)
            if released is None or released > now:
                break
            if replay.drop_after is not None and self.sent >= replay.drop_after:
                replay.drop_after = None  # one drop per thread: the reconnect goes through
                return None
            self.position += 1
            self.sent += 1
            self.last_sent = now
            return replay.encoded(self.position - 1, self.framing)
        beat_due = self.last_sent + replay.heartbeat
        if now >= beat_due and self.framing == "sse":  # WebSocket peers ping instead
            self.last_sent = now
            return b": heartbeat\r\n\r\n"
        wait = max(beat_due - now, 0.0) or replay.heartbeat
        if self.position < len(events):
            released = replay.released_at(events[self.position])
            if released is not None:
                wait = min(wait, max(released - now, 0.0))
        return wait

    def __iter__(self) -> Iterator[bytes]:
        replay = self.replay
        while not self.closed:
            step = self._step()
            if step is None:
                raise httpx.RemoteProtocolError(DROPPED)
            if isinstance(step, bytes):
                yield step
                continue
            with replay.changed:
                seen = replay.version
                replay.changed.wait_for(lambda seen=seen: replay.version != seen, timeout=step)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.closed:
            step = self._step()
            if step is None:
                raise httpx.RemoteProtocolError(DROPPED)
            if isinstance(step, bytes):
                yield step
                continue
            version = self.replay.version
            deadline = time.monotonic() + step
            while self.replay.version == version and time.monotonic() < deadline:
                await anyio.sleep(min(_POLL, max(deadline - time.monotonic(), 0.0)))

    def close(self) -> None:
        self.closed = True
        with self.replay.changed:
            self.replay.changed.notify_all()

    async def aclose(self) -> None:
        self.close()


def _without_id(command: Any) -> Any:
    if isinstance(command, dict):
        return {key: value for key, value in command.items() if key != "id"}
    return command
