"""A recorded event stream as bytes to send: where to cut them, when, and with which faults.

`Tape` is computed once per recorded stream and chunking; a response (`Tape.plan`) slices it:
a run stream from its first byte, a join from just after the event whose id the client last saw.
Ids are rewritten on the whole body before cutting, which is safe because a bound id has the
recorded id's length, so no cut ever falls somewhere else.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from lg_testkit.cassette import RecordedStream
from lg_testkit.fakeserver.bindings import Bindings
from lg_testkit.fakeserver.faults import Faults, cut_points

__all__ = ["ConnectionDropped", "Plan", "Tape", "play"]

Send = Callable[[dict[str, Any]], Awaitable[None]]


class ConnectionDropped(Exception):
    """Raised by the app after a `drop_after` fault: the connection must close mid-body."""


@dataclass
class Plan:
    """The chunks of one response, their arrival offsets, and the faults placed between them."""

    chunks: list[bytes]
    times: list[float]
    at_item_start: list[bool]  # a comment may be sent before chunk i without splitting an event
    stall_before: dict[int, float] = field(default_factory=dict)
    drop: bool = False
    heartbeat_bytes: bytes = b": heartbeat\r\n\r\n"


class Tape:
    """One recorded stream cut for one chunking."""

    def __init__(self, stream: RecordedStream, chunking: str) -> None:
        recorded_chunks = stream.encode()
        self.blob = b"".join(recorded_chunks)
        recorded_ends = list(accumulate(len(chunk) for chunk in recorded_chunks))
        recorded_times = stream.timings()
        per_item = RecordedStream(stream.items, [], stream.newline).encode()
        self.item_ends = list(accumulate(len(text) for text in per_item))
        self.event_ends: list[int] = []
        self.event_ids: dict[str, int] = {}  # id -> end offset of the event carrying it
        for item, end in zip(stream.items, self.item_ends, strict=True):
            if "event" in item or "data" in item or "text" in item:
                self.event_ends.append(end)
                if "id" in item:
                    self.event_ids[str(item["id"])] = end
        self.cuts = cut_points(chunking, len(self.blob), recorded_ends, self.item_ends)
        last = len(recorded_times) - 1
        self.times = [
            recorded_times[min(bisect_left(recorded_ends, cut), last)] if last >= 0 else 0.0
            for cut in self.cuts
        ]
        self.heartbeat = f": heartbeat{stream.newline}{stream.newline}".encode()
        self.dropped = stream.dropped is not None  # recorded ending: the connection died
        self._chunks: list[bytes] | None = None

    def chunks(self) -> list[bytes]:
        """The whole stream, cut, with recorded ids (cached: the fast path of plain replay)."""
        if self._chunks is None:
            self._chunks = self._cut(self.blob, 0, self.cuts)
        return self._chunks

    def start_after(self, last_event_id: str | None) -> int:
        """Offset a join resumes from: just after the event with that id (`-1`, unknown: 0)."""
        if last_event_id is None:
            return 0
        return self.event_ids.get(last_event_id, 0)

    def plan(self, bindings: Bindings, faults: Faults | None = None, *, start: int = 0) -> Plan:
        faults = faults or Faults()
        events_before = bisect_right(self.event_ends, start)
        extra: set[int] = set()
        end = len(self.blob)
        stall_at = None
        if faults.drop_after is not None:
            index = events_before + faults.drop_after - 1
            if index < len(self.event_ends):
                end = self.event_ends[index] if faults.drop_after > 0 else start
                extra.add(end)
        if faults.stall is not None:
            index = events_before + faults.stall[0] - 1
            if 0 <= index < len(self.event_ends):
                stall_at = self.event_ends[index]
                extra.add(stall_at)
        if start == 0 and end == len(self.blob) and not extra and bindings.identity:
            chunks = self.chunks()
            cuts = self.cuts
            times = self.times
        else:
            cuts = sorted({cut for cut in self.cuts if start < cut <= end} | extra | {end})
            cuts = [cut for cut in cuts if cut > start]
            chunks = self._cut(bindings.live_bytes(self.blob), start, cuts)
            times = [self._time_at(cut) for cut in cuts]
        item_starts = {0, *self.item_ends}
        starts = [start, *cuts[:-1]]
        plan = Plan(
            chunks,
            times,
            [offset in item_starts for offset in starts],
            drop=end < len(self.blob) or self.dropped,
            heartbeat_bytes=self.heartbeat,
        )
        if stall_at is not None and stall_at < end and faults.stall is not None:
            plan.stall_before[cuts.index(stall_at) + 1] = faults.stall[1]
        return plan

    def _time_at(self, cut: int) -> float:
        index = bisect_left(self.cuts, cut)
        return self.times[min(index, len(self.times) - 1)] if self.times else 0.0

    @staticmethod
    def _cut(blob: bytes, start: int, cuts: list[int]) -> list[bytes]:
        chunks = []
        for cut in cuts:
            chunks.append(blob[start:cut])
            start = cut
        return chunks


async def play(
    send: Send, plan: Plan, *, speed: float | None = None, heartbeat: float | None = None
) -> None:
    """Send a plan's chunks as ASGI body messages; raises ConnectionDropped for a drop fault."""
    if speed is None and heartbeat is None and not plan.stall_before:
        for chunk in plan.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    else:
        started = time.monotonic()
        paused = 0.0
        for index, chunk in enumerate(plan.chunks):
            wait = 0.0
            if speed is not None:
                wait = plan.times[index] / speed + paused - (time.monotonic() - started)
            stall = plan.stall_before.get(index, 0.0)
            paused += stall
            wait = max(wait, 0.0) + stall
            if wait > 0:
                beat = heartbeat if plan.at_item_start[index] else None
                await _wait(send, wait, beat, plan.heartbeat_bytes)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    if plan.drop:
        raise ConnectionDropped("connection dropped by the drop_after fault")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _wait(send: Send, seconds: float, heartbeat: float | None, beat: bytes) -> None:
    if heartbeat is None or heartbeat <= 0:
        await asyncio.sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if left <= heartbeat:
            await asyncio.sleep(left)
            return
        await asyncio.sleep(heartbeat)
        await send({"type": "http.response.body", "body": beat, "more_body": True})
