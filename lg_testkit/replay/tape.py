"""A recorded event stream as bytes to send: where they are cut, when each piece goes out, and
which faults come between. Every replay path plays a `Plan` through `schedule`, so in-process
transports and the HTTP server send the same bytes at the same moments.

`Tape` is built once per recorded stream and chunking; `Tape.plan` slices it for one response:
a run stream from its first byte, a join from just after the event the client last saw. Ids
are rewritten chunk by chunk as they go out (a bound id has the recorded id's length, so no
cut moves), never on a copy of the whole stream.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from lg_testkit.cassette import RecordedStream
from lg_testkit.replay.bindings import UUID_BYTES, Bindings
from lg_testkit.replay.faults import Faults, cut_points

__all__ = ["DROPPED", "Plan", "Tape"]

DROPPED = "peer closed connection without sending complete message body"
_UUID_REACH = 35  # bytes of a UUID that can lie before the start of a piece it reaches into


@dataclass
class Plan:
    """The pieces of one response: slices of `blob` ending at `cuts`, arriving at `times`."""

    blob: bytes
    start: int
    cuts: list[int]
    times: list[float]
    bindings: Bindings = field(default_factory=lambda: Bindings({}))
    beat_ok: list[bool] | None = None  # a heartbeat may go before piece i (it starts an item)
    stall_before: dict[int, float] = field(default_factory=dict)
    drop: bool = False  # the connection dies after the last piece
    spans: tuple[list[int], list[bytes]] | None = None  # where each UUID in `blob` starts
    heartbeat: float | None = None  # seconds of silence before a `: heartbeat` comment
    heartbeat_bytes: bytes = b": heartbeat\r\n\r\n"

    def pieces(self) -> Iterator[bytes]:
        """The bytes to send, in order, with the consumer's ids."""
        blob, start = self.blob, self.start
        if self.bindings.identity or self.spans is None:
            for cut in self.cuts:
                yield blob[start:cut]
                start = cut
            return
        starts, ids = self.spans
        forward = self.bindings.forward_bytes
        for cut in self.cuts:
            piece = blob[start:cut]
            first = bisect_left(starts, start - _UUID_REACH)
            hits = [n for n in range(first, bisect_left(starts, cut)) if ids[n] in forward]
            if hits:  # a bound id has the recorded one's length: patch it in place
                patched = bytearray(piece)
                for n in hits:
                    at, live = starts[n], forward[ids[n]]
                    low, high = max(at, start), min(at + len(live), cut)
                    patched[low - start : high - start] = live[low - at : high - at]
                piece = bytes(patched)
            yield piece
            start = cut

    def schedule(self, speed: float | None = None) -> Iterator[tuple[float, bytes]]:
        """`(seconds after the response started, bytes)` for every send, heartbeats included.

        `speed=None` sends at once (stalls still wait); 2.0 plays the recorded offsets halved.
        """
        heartbeat = self.heartbeat
        if speed is None and heartbeat is None and not self.stall_before:
            for piece in self.pieces():
                yield 0.0, piece
            return
        paused = 0.0
        sent_at = 0.0
        for index, piece in enumerate(self.pieces()):
            paused += self.stall_before.get(index, 0.0)
            due = (self.times[index] / speed if speed else 0.0) + paused
            if heartbeat and heartbeat > 0 and (self.beat_ok is None or self.beat_ok[index]):
                beat = sent_at + heartbeat
                while beat < due:
                    yield beat, self.heartbeat_bytes
                    beat += heartbeat
            sent_at = max(due, sent_at)
            yield sent_at, piece


class Tape:
    """One recorded stream, cut for one chunking."""

    def __init__(self, stream: RecordedStream, chunking: str = "recorded") -> None:
        self.stream = stream
        recorded = stream.encode()
        self.blob = b"".join(recorded) if len(recorded) != 1 else recorded[0]
        self.chunk_ends = list(accumulate(len(chunk) for chunk in recorded))
        self.chunk_times = stream.timings()
        self.chunking = chunking
        self.dropped = stream.dropped is not None  # the recorded connection died
        self._items: tuple[list[int], list[int], dict[str, int]] | None = None
        self._cuts: tuple[list[int], list[float]] | None = None
        self._spans: tuple[list[int], list[bytes]] | None = None
        newline = stream.newline
        self.heartbeat_bytes = f": heartbeat{newline}{newline}".encode()

    def id_spans(self) -> tuple[list[int], list[bytes]]:
        """(offset, text) of every UUID in the stream: found once, for every rebound replay."""
        if self._spans is None:
            found = [(m.start(), m[0]) for m in UUID_BYTES.finditer(self.blob)]
            self._spans = ([at for at, _ in found], [text for _, text in found])
        return self._spans

    def _item_layout(self) -> tuple[list[int], list[int], dict[str, int]]:
        """(end offset of each item, of each event, event id -> end of its event)."""
        if self._items is None:
            ends = list(accumulate(len(text) for text in self.stream.encode_items()))
            event_ends: list[int] = []
            ids: dict[str, int] = {}
            for item, end in zip(self.stream.items, ends, strict=True):
                if item.is_event:
                    event_ends.append(end)
                    if item.id is not None:
                        ids[item.id] = end
            self._items = (ends, event_ends, ids)
        return self._items

    def _cut(self) -> tuple[list[int], list[float]]:
        if self._cuts is None:
            if self.chunking == "recorded":
                self._cuts = (self.chunk_ends, self.chunk_times)
            else:
                item_ends = self._item_layout()[0] if self.chunking == "event" else []
                cuts = cut_points(self.chunking, len(self.blob), self.chunk_ends, item_ends)
                self._cuts = (cuts, [self._time_at(cut) for cut in cuts])
        return self._cuts

    def _time_at(self, offset: int) -> float:
        """When the byte before `offset` arrived while recording."""
        if not self.chunk_times:
            return 0.0
        index = min(bisect_left(self.chunk_ends, offset), len(self.chunk_times) - 1)
        return self.chunk_times[index]

    def start_after(self, last_event_id: str | None) -> int:
        """Where a join resumes: just after the event with that id (`-1` or unknown: the start)."""
        if last_event_id is None:
            return 0
        return self._item_layout()[2].get(last_event_id, 0)

    def plan(self, bindings: Bindings, faults: Faults | None = None, *, start: int = 0) -> Plan:
        """The response for one request: from `start` (a join), with `faults` placed."""
        faults = faults or Faults()
        if start == 0 and faults == Faults():  # plain replay: the recorded cuts as they are
            cuts, times = self._cut()
            spans = None if bindings.identity else self.id_spans()
            return Plan(self.blob, 0, cuts, times, bindings, drop=self.dropped, spans=spans)
        return self._faulted(bindings, faults, start)

    def _faulted(self, bindings: Bindings, faults: Faults, start: int) -> Plan:
        item_ends, event_ends, _ = self._item_layout()
        cuts, _ = self._cut()
        before = bisect_right(event_ends, start)  # events the client already has
        end, extra, stall_at = len(self.blob), set(), None
        if faults.drop_after is not None:
            index = before + faults.drop_after - 1
            if index < len(event_ends):
                end = event_ends[index] if faults.drop_after > 0 else start
                extra.add(end)
        if faults.stall is not None:
            index = before + faults.stall[0] - 1
            if 0 <= index < len(event_ends) and event_ends[index] < end:
                stall_at = event_ends[index]
                extra.add(stall_at)
        chosen = sorted({cut for cut in cuts if start < cut <= end} | extra | {end})
        chosen = [cut for cut in chosen if cut > start]
        item_starts = {0, *item_ends}
        plan = Plan(
            self.blob,
            start,
            chosen,
            [self._time_at(cut) for cut in chosen],
            bindings,
            spans=None if bindings.identity else self.id_spans(),
            beat_ok=[offset in item_starts for offset in [start, *chosen[:-1]]],
            drop=end < len(self.blob) or self.dropped,
            heartbeat=faults.heartbeat,
            heartbeat_bytes=self.heartbeat_bytes,
        )
        if stall_at is not None and faults.stall is not None:
            plan.stall_before[chosen.index(stall_at) + 1] = faults.stall[1]
        return plan
