"""Replaying the thread protocol: commands answered in order, subscriptions fed from the log.

One `ThreadReplay` per thread a consumer uses (the SDKs mint the thread id on the client; it is
bound to a recorded thread at first sight). A command is matched against the next recorded one
(by value, its `id` aside) and answered with the consumer's own `id`. Answering a command that
started or resumed a run releases the events recorded after it, each at its recorded offset
from that moment divided by `speed` (at once with `speed=None`), and not before the client has
opened as many subscriptions on the thread as it had when the event arrived live (a live
server's first event comes a good half second after `run.start`; clients set up their streams
in that window, and the sync SDK loses an interrupt its projection was not yet listening for).
A client that never opens them gets the event anyway, at most `GATE` seconds after its command.

Every subscription (`POST .../stream/events`) is a `LiveStream`: the log's events that match
its channels, namespaces and depth, after its `since`, in `seq` order, each sent as soon as it
is released; then heartbeats until the client hangs up, as the server's streams never end.
`event_id` and `seq` are the recorded ones, so a client reading several connections dedupes
exactly as it did live, whatever filters it uses.
"""

from __future__ import annotations

import threading
import time
import weakref
from bisect import bisect_right
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from itertools import accumulate, compress, islice, repeat
from operator import attrgetter, is_, le
from typing import Any

import anyio
import httpx

from lg_testkit.cassette import RecordedRequest, dumps_compact, encode_all
from lg_testkit.protocol import channel_of, delivered, matches_filter, namespace_of
from lg_testkit.replay.bindings import (
    UUID_BYTES,
    Bindings,
    bound_ids_in,
    ids_in_values,
    uuids_in,
)
from lg_testkit.replay.matching import differences
from lg_testkit.replay.tape import DROPPED
from lg_testkit.threadlog import ProtocolEvent, ProtocolThread

__all__ = [
    "LiveStream",
    "ThreadReplay",
    "Wire",
    "one_socket",
    "subscription_filter",
    "thread_ids",
    "wire_of",
]

HEARTBEAT = 5.0  # seconds, as langgraph-api sends them
GATE = 0.5  # seconds an event waits at most for the subscriptions open when it arrived live
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
        stall: tuple[int, float] | None = None,
        heartbeat: float | None = None,
        ignore: Sequence[str] = (),
    ) -> None:
        self.recorded, self.bindings = recorded, bindings
        self.speed, self.drop_after = speed, drop_after
        self.stall = stall  # (after N events, S seconds): the first subscription to get there
        self.heartbeat = heartbeat or HEARTBEAT
        self.ignore = tuple(ignore)
        self.answered: list[float | None] = [None] * len(recorded.commands)
        self.next_command = 0
        self.changed = threading.Condition()
        self.version = 0
        self.opened = 0  # subscriptions the client has opened on the thread
        self.wire = wire_of(recorded)
        self._sendable: dict[str, list[bytes]] = {}  # per framing, the events as sent
        self._sendable_for = -1  # the number of bindings they were made with
        # the thread, run and checkpoint ids the server handed out: never taken as client-minted
        self.issued = self.wire.ids()

    # -- commands ------------------------------------------------------------------------------

    def command(self, path: str, body: Any) -> tuple[int, bytes] | list[str]:
        """(status, reply body) for a command, or the differences from the expected one."""
        live_id = body.get("id") if isinstance(body, dict) else None
        expected = self.next_command
        if expected >= len(self.recorded.commands):
            return [f"the recording has {len(self.recorded.commands)} commands; this is one more"]
        recorded = self.recorded.commands[expected]
        wanted = _without_id(recorded.command)
        given = self.bindings.recorded_json(_without_id(body))
        minted = dict(_minted_ids(wanted, given, {*self.issued, *self.bindings.forward}))
        if minted:
            given = _swap_ids(given, minted)
        found = differences(
            RecordedRequest("POST", path, json=wanted),
            RecordedRequest("POST", path, json=given),
            self.ignore,
        )
        if found:
            return found
        for live, recorded_id in minted.items():  # later requests and events: the live id
            self.bindings.bind(recorded_id, live)
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
        at = answered + (event.t / self.speed if self.speed else 0.0)
        if event.opened > self.opened:  # the client is still opening the streams it had live
            at = max(at, answered + min(event.t, GATE))
        return at

    def sendable(self, framing: str) -> list[bytes]:
        """Every event's bytes with the consumer's ids: SSE blocks, or (`framing="ws"`)
        WebSocket text frames; the recorded ones unless some event names an id bound to one of
        this replay's own. Bindings only grow; when they have, worked out again."""
        forward = self.bindings.forward_bytes
        if self._sendable_for != len(forward):
            self._sendable_for = len(forward)
            self._sendable.clear()  # made with the ids known before
        found = self._sendable.get(framing)
        if found is None:
            rewrites = not forward.keys().isdisjoint(self.wire.uuids())
            found = self.wire.rewritten(framing, forward) if rewrites else self.wire.blocks(framing)
            self._sendable[framing] = found
        return found

    def subscribe(self, body: Any, framing: str = "sse") -> LiveStream:
        """A subscription's stream: SSE blocks, or (`framing="ws"`) one JSON frame per event."""
        stream = LiveStream(self, subscription_filter(body), framing)
        with self.changed:
            self.opened += 1
            self.version += 1
            self.changed.notify_all()
        return stream


class Wire:
    """A recorded thread's events as sent, made once and shared by every replay of it: each
    event's SSE block and WebSocket frame with the recorded ids, and the UUIDs they name (only
    those are rewritten for a consumer with ids of its own, and only if the thread names one)."""

    def __init__(self, recorded: ProtocolThread) -> None:
        self.events = recorded.events
        self.loaded = recorded.loaded_texts
        self.replies = [command.reply for command in recorded.commands]
        self._datas: list[bytes] | None = None
        self._sse: list[bytes] | None = None
        self._ids: set[str] | None = None
        self._seqs: list[int] | None = None
        self._in_order = False  # whether `seqs` never falls
        self._uuids: frozenset[bytes] | None = None
        self._keys: list[Place] | None = None
        self._matching: dict[str, list[int]] = {}

    def matching(self, wanted: _Filter) -> list[int]:
        """Indexes of the events a subscription's filter takes, in `seq` order, after its
        `since` (the channel and namespace part is worked out once per filter, and for each
        channel and namespace once, not for each of thousands of events)."""
        key = dumps_compact({k: v for k, v in wanted.body.items() if k != "since"})
        found = self._matching.get(key)
        if found is None:
            if self._keys is None:
                self._keys = places(self.events)
            verdicts = {key: delivered(*_place(key), wanted.body) for key in set(self._keys)}
            taken = map(verdicts.__getitem__, self._keys)
            found = self._matching[key] = list(compress(range(len(self._keys)), taken))
        if wanted.since is None:
            return found
        seqs, since = self.seqs(), wanted.since
        if self._in_order:  # as recorded: the events after `since` are the last ones
            return found[bisect_right(found, since, key=seqs.__getitem__) :]
        return [n for n in found if seqs[n] > since]

    def seqs(self) -> list[int]:
        """Each event's `seq` (read with a C loop where each is a number, as recorded)."""
        if self._seqs is None:
            seqs: list[Any] = list(
                map(dict.get, map(attrgetter("event"), self.events), repeat("seq"))
            )
            if not set(map(type, seqs)) <= {int}:
                seqs = list(map(attrgetter("seq"), self.events))  # as ProtocolEvent reads them
            self._in_order = all(map(le, seqs, islice(seqs, 1, None)))
            self._seqs = seqs
        return self._seqs

    def datas(self) -> list[bytes]:
        """Every event's JSON text: as a sealed file holds it, or made at once with one check
        of the encodings (encode_all)."""
        if self._datas is None:
            envelopes = list(map(attrgetter("event"), self.events))
            loaded, texts = self.loaded or ([], [])
            same = len(loaded) == len(envelopes) and all(map(is_, loaded, envelopes))
            self._datas = texts if same else encode_all(envelopes)
        return self._datas

    def blocks(self, framing: str) -> list[bytes]:
        """Every event's bytes with the recorded ids: SSE blocks, or (`ws`) their JSON texts."""
        if framing == "ws":
            return self.datas()
        if self._sse is None:
            self._sse = self._sse_blocks()
        return self._sse

    def _sse_blocks(self) -> list[bytes]:
        """Every event's SSE block, made with C loops (thousands of them)."""
        methods: list[Any] = list(
            map(dict.get, map(attrgetter("event"), self.events), repeat("method"))
        )
        if not set(map(type, methods)) <= {str}:
            methods = list(map(attrgetter("method"), self.events))  # as ProtocolEvent reads them
        seqs = self.seqs()
        heads = {method: b"event: %s\r\ndata: " % method.encode() for method in set(methods)}
        tails = map(b"\r\nid: %d\r\n\r\n".__mod__, seqs)
        parts = zip(map(heads.__getitem__, methods), self.datas(), tails, strict=True)
        return list(map(b"".join, parts))

    def rewritten(self, framing: str, forward: dict[bytes, bytes]) -> list[bytes]:
        """Every event's bytes (`blocks`) with the recorded ids bound in `forward` replaced.
        In one pass over them all where each bound id has its recorded id's length (the ids
        replay derives, and the UUIDs a client mints, do), so that each event stays where it
        was; no id runs from one event into the next, which ends in a line break or a brace."""
        blocks = self.blocks(framing)
        swaps = [(old, forward[old]) for old in self.uuids() if old in forward]
        if any(len(old) != len(new) for old, new in swaps):  # a thread id of the client's own
            return [_replaced(block, swaps) for block in blocks]
        joined = _replaced(b"".join(blocks), swaps)
        ends = list(accumulate(map(len, blocks)))
        return list(map(joined.__getitem__, map(slice, [0, *ends[:-1]], ends)))

    def uuids(self) -> frozenset[bytes]:
        """Every UUID any event names (one pass over them all)."""
        if self._uuids is None:
            self._uuids = frozenset(uuids_in(b"\n".join(self.datas())))
        return self._uuids

    def ids(self) -> set[str]:
        """The thread, run and checkpoint ids the replies and events name (what a later replay
        of the thread hands out ids of its own for): bindings.ids_in_values, over the bytes."""
        if self._ids is None:
            found = ids_in_values(self.replies)
            found.update(bound_ids_in(b"\n".join(self.datas())))  # no line break in one
            self._ids = found
        return self._ids


def _replaced(data: bytes, swaps: list[tuple[bytes, bytes]]) -> bytes:
    for old, new in swaps:
        data = data.replace(old, new)
    return data


# An event's place: what a subscription's filter looks at, its channel and its namespace; as its
# channel alone at the root (most events: a string keeps its hash, a tuple works it out again).
Place = str | None | tuple[str | None, tuple[str, ...]]


def places(events: list[ProtocolEvent]) -> list[Place]:
    """Each event's place, read with C loops where the method is the channel (every event but
    custom and input.requested) and the namespace the root."""
    envelopes = list(map(attrgetter("event"), events))
    channels: list[Any] = list(map(dict.get, envelopes, repeat("method")))
    params = list(map(dict.get, envelopes, repeat("params"), repeat({})))
    plain = set(map(type, params)) <= {dict}
    namespaces: list[Any] = (
        list(map(dict.get, params, repeat("namespace"), repeat(()))) if plain else []
    )
    if not plain or not set(map(type, namespaces)) <= {list}:  # not as recorded: slowly
        namespaces = list(map(namespace_of, envelopes))
    if plain and set(map(type, channels)) <= {str}:
        apart: Iterable[bool] = map(_CHANNEL_APART.__contains__, channels)
    else:
        apart = repeat(True)  # every channel worked out
    for index in compress(range(len(channels)), apart):
        channels[index] = channel_of(envelopes[index])
    for index in compress(range(len(channels)), namespaces):  # in a subgraph
        namespace: Any = tuple(namespaces[index])
        try:
            hash(namespace)
        except TypeError:  # a list or an object in it (not as recorded): a place of its own
            namespace = _Apart(namespace)
        channels[index] = (channels[index], namespace)
    return channels


class _Apart:
    """A namespace that cannot be a key, as a place of its own (the filter sees the names)."""

    def __init__(self, names: tuple[Any, ...]) -> None:
        self.names = names


def _place(place: Place) -> tuple[str | None, tuple[str, ...]]:
    if not isinstance(place, tuple):
        return place, ()
    channel, namespace = place
    return channel, namespace.names if isinstance(namespace, _Apart) else namespace


_CHANNEL_APART = frozenset({"custom", "input.requested"})  # channel_of says what their channel is
_WIRES: dict[int, Wire] = {}


def wire_of(recorded: ProtocolThread) -> Wire:
    """The shared `Wire` of a recorded thread (kept while the thread is)."""
    wire = _WIRES.get(id(recorded))
    if wire is None or wire.events is not recorded.events:
        wire = _WIRES[id(recorded)] = Wire(recorded)
        weakref.finalize(recorded, _WIRES.pop, id(recorded), None)
    return wire


def thread_ids(recorded: ProtocolThread) -> set[str]:
    """Every thread, run and checkpoint id a recorded thread's replies and events name."""
    return wire_of(recorded).ids()


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
        self.indices = replay.wire.matching(wanted)  # the events it takes, in order
        self.position = 0  # in `indices`
        self.sent = 0
        self.closed = False
        self.last_sent = time.monotonic()
        self.held_until = 0.0  # a stall fault: no event before then (heartbeats still go)

    def pending(self) -> tuple[int, float] | None:
        """(seq, seconds until it may go) of the next event it takes; None when there is none
        yet (all taken, or the next one waits for a command)."""
        if self.closed or self.position >= len(self.indices):
            return None
        event = self.replay.recorded.events[self.indices[self.position]]
        released = self.replay.released_at(event)
        if released is None:
            return None
        return event.seq, max(max(released, self.held_until) - time.monotonic(), 0.0)

    def _step(self) -> bytes | float | None:
        """The next piece to send, or seconds to wait; None when the connection must drop."""
        replay, events, indices = self.replay, self.replay.recorded.events, self.indices
        now = time.monotonic()
        if self.position < len(indices):
            index = indices[self.position]
            released = replay.released_at(events[index])
            if replay.stall is not None and self.sent >= replay.stall[0]:
                self.held_until = now + replay.stall[1]
                replay.stall = None  # one stall per thread, like a drop
            if released is not None and max(released, self.held_until) <= now:
                if replay.drop_after is not None and self.sent >= replay.drop_after:
                    replay.drop_after = None  # one drop per thread: the reconnect goes through
                    return None
                self.position += 1
                self.sent += 1
                self.last_sent = now
                return replay.sendable(self.framing)[index]
        beat_due = self.last_sent + replay.heartbeat
        if now >= beat_due and self.framing == "sse":  # WebSocket peers ping instead
            self.last_sent = now
            return b": heartbeat\r\n\r\n"
        wait = max(beat_due - now, 0.0) or replay.heartbeat
        if self.position < len(indices):
            released = replay.released_at(events[indices[self.position]])
            if released is not None:
                wait = min(wait, max(max(released, self.held_until) - now, 0.0))
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

                def moved(seen: int = seen) -> bool:  # something new, or the client hung up
                    return replay.version != seen or self.closed

                replay.changed.wait_for(moved, timeout=step)

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
            while (
                self.replay.version == version and not self.closed and time.monotonic() < deadline
            ):
                await anyio.sleep(min(_POLL, max(deadline - time.monotonic(), 0.0)))

    def close(self) -> None:
        self.closed = True
        with self.replay.changed:
            self.replay.changed.notify_all()

    async def aclose(self) -> None:
        self.close()


async def one_socket(replay: ThreadReplay, streams: list[LiveStream]) -> AsyncIterator[bytes]:
    """The frames of the subscriptions sharing one WebSocket, in `seq` order across them, as a
    server sends one socket's events (the JS SDK puts all its subscriptions on one socket, and
    ends a projection at the lifecycle event that closes the run). `streams` may grow (a new
    subscription) or close (unsubscribed) while this runs; a drop fault raises."""
    while True:
        pending = [(p, n, s) for n, s in enumerate(streams) if (p := s.pending()) is not None]
        due = [(seq, n, stream) for (seq, wait), n, stream in pending if wait <= 0]
        if due:
            step = min(due, key=lambda entry: entry[:2])[2]._step()
            if step is None:
                raise httpx.RemoteProtocolError(DROPPED)
            if isinstance(step, bytes):
                yield step
            continue
        wait = min((wait for (_, wait), _, _ in pending), default=replay.heartbeat)
        version, count, deadline = replay.version, len(streams), time.monotonic() + wait
        while replay.version == version and len(streams) == count and time.monotonic() < deadline:
            await anyio.sleep(min(_POLL, max(deadline - time.monotonic(), 0.0)))


def _minted_ids(recorded: Any, live: Any, issued: set[str]) -> Iterator[tuple[str, str]]:
    """(live id, recorded id) for each UUID the client minted (the JS SDK mints its messages'
    ids) where the recording has another one at the same place; not the server's `issued` ids."""
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key in recorded.keys() & live.keys():
            yield from _minted_ids(recorded[key], live[key], issued)
    elif isinstance(recorded, list) and isinstance(live, list):
        for mine, theirs in zip(recorded, live, strict=False):
            yield from _minted_ids(mine, theirs, issued)
    elif (
        isinstance(recorded, str)
        and isinstance(live, str)
        and recorded != live
        and recorded not in issued
        and UUID_BYTES.fullmatch(recorded.encode())
        and UUID_BYTES.fullmatch(live.encode())
    ):
        yield live, recorded


def _swap_ids(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _swap_ids(inner, ids) for key, inner in value.items()}
    if isinstance(value, list):
        return [_swap_ids(inner, ids) for inner in value]
    return ids.get(value, value) if isinstance(value, str) else value


def _without_id(command: Any) -> Any:
    if isinstance(command, dict):
        return {key: value for key, value in command.items() if key != "id"}
    return command
