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
_WINDOW = 1 << 16  # bytes of a stream bound to a consumer's ids at a time


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
    dropped_with: str | None = None  # ... with the error the recorded consumer got (recorder.py)
    crossed: frozenset[int] | None = None  # cuts a UUID runs across (`crossed_cuts`)
    heartbeat: float | None = None  # seconds of silence before a `: heartbeat` comment
    heartbeat_bytes: bytes = b": heartbeat\r\n\r\n"

    def pieces(self) -> Iterator[bytes]:
        """The bytes to send, in order, with the consumer's ids."""
        blob, start = self.blob, self.start
        if self.bindings.identity:
            for cut in self.cuts:
                yield blob[start:cut]
                start = cut
            return
        # A bound id has the recorded one's length, so no cut moves. Pieces are bound a window
        # of about _WINDOW bytes at a time, ending where no id runs across: whole ids are
        # replaced there (C speed); a window whose edge an id crosses is patched by position.
        pairs = list(self.bindings.forward_bytes.items())
        cuts, count, index = self.cuts, len(self.cuts), 0
        crossed = self.crossed if self.crossed is not None else crossed_cuts(blob, cuts)
        clean = not _id_across(blob, start)
        while index < count:
            last = index
            while last < count - 1 and (cuts[last] - start < _WINDOW or last in crossed):
                last += 1
            window = blob[start : cuts[last]]
            if clean and last not in crossed:
                for recorded, live in pairs:
                    if recorded in window:
                        window = window.replace(recorded, live)
            else:
                window = self._patched(window, start, cuts[last])
            offset = start
            for cut in cuts[index : last + 1]:
                yield window[offset - start : cut - start]
                offset = cut
            start, index, clean = cuts[last], last + 1, True

    def _patched(self, piece: bytes, start: int, cut: int) -> bytes:
        """`piece` (blob[start:cut]) with each bound id in it, or in part, written over."""
        forward = self.bindings.forward_bytes
        reach = UUID_BYTES.finditer(self.blob, max(start - _UUID_REACH, 0), cut + _UUID_REACH)
        hits = [(found.start(), forward[found[0]]) for found in reach if found[0] in forward]
        if not hits:
            return piece
        patched = bytearray(piece)
        for at, live in hits:
            low, high = max(at, start), min(at + len(live), cut)
            if low < high:
                patched[low - start : high - start] = live[low - at : high - at]
        return bytes(patched)

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


def crossed_cuts(blob: bytes, cuts: list[int]) -> frozenset[int]:
    """The indexes of the `cuts` in `blob` that a UUID runs across."""
    return frozenset(index for index, cut in enumerate(cuts) if _id_across(blob, cut))


def _id_across(blob: bytes, offset: int) -> bool:
    """Whether a UUID in `blob` runs across `offset` (starts before it, ends after it)."""
    window = UUID_BYTES.finditer(blob, max(offset - _UUID_REACH, 0), offset + _UUID_REACH)
    return any(found.start() < offset < found.end() for found in window)


class Tape:
    """One recorded stream, cut for one chunking."""

    def __init__(self, stream: RecordedStream, chunking: str = "recorded") -> None:
        self.stream = stream
        self.blob = stream.blob()
        self.chunk_ends, self.chunk_times = stream.cuts()
        self.chunking = chunking
        self.dropped = stream.dropped is not None  # the recorded connection died
        self._items: tuple[list[int], list[int], dict[str, int]] | None = None
        self._cuts: tuple[list[int], list[float]] | None = None
        self._crossed: frozenset[int] | None = None  # of the plain cuts
        newline = stream.newline
        self.heartbeat_bytes = f": heartbeat{newline}{newline}".encode()

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
            plan = Plan(self.blob, 0, cuts, times, bindings, drop=self.dropped)
            plan.dropped_with = self.stream.dropped
            if not bindings.identity:
                if self._crossed is None:
                    self._crossed = crossed_cuts(self.blob, cuts)
                plan.crossed = self._crossed
            return plan
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
            beat_ok=[offset in item_starts for offset in [start, *chosen[:-1]]],
            drop=end < len(self.blob) or self.dropped,
            dropped_with=self.stream.dropped if end == len(self.blob) else None,
            heartbeat=faults.heartbeat,
            heartbeat_bytes=self.heartbeat_bytes,
        )
        if stall_at is not None and faults.stall is not None:
            plan.stall_before[chosen.index(stall_at) + 1] = faults.stall[1]
        return plan
