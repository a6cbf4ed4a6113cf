"""A replayed stream bound to a consumer's ids: wherever the cuts fall, even across an id, the
consumer gets the recorded bytes with every bound id replaced, in pieces of the recorded sizes."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from lg_testkit.replay.bindings import Bindings
from lg_testkit.replay.tape import Plan

RUN = "1f0a7b7e-0000-7000-8000-000000000002"
THREAD = "1f0a7b7e-0000-7000-8000-000000000001"
BOUND = {RUN: str(uuid.UUID(int=2)), THREAD: str(uuid.UUID(int=1))}


def _blob(events: int) -> bytes:
    parts = []
    for i in range(events):
        other = str(uuid.UUID(int=1000 + i))  # an id of the recording no consumer rebinds
        data = f'{{"run_id":"{RUN}","thread_id":"{THREAD}","n":{i},"other":"{other}"}}'
        parts.append(f"event: values\r\ndata: {data}\r\nid: {i}\r\n\r\n")
    return "".join(parts).encode()


def _plan(blob: bytes, cuts: list[int], start: int = 0) -> Plan:
    return Plan(blob, start, cuts, [0.0] * len(cuts), Bindings(BOUND))


def _expected(blob: bytes) -> bytes:
    for recorded, live in BOUND.items():
        blob = blob.replace(recorded.encode(), live.encode())
    return blob


@settings(max_examples=200, deadline=None)
@given(events=st.integers(1, 400), data=st.data())
def test_every_bound_id_is_replaced_wherever_the_cuts_fall(
    events: int, data: st.DataObject
) -> None:
    blob = _blob(events)
    inner = data.draw(st.lists(st.integers(1, len(blob) - 1), unique=True, max_size=300))
    start = data.draw(st.sampled_from([0, *sorted(inner)[:1]]))
    cuts = [cut for cut in sorted(inner) if cut > start] + [len(blob)]
    pieces = list(_plan(blob, cuts, start).pieces())

    assert b"".join(pieces) == _expected(blob)[start:]  # bound ids replaced, all else kept
    sizes = [cut - begin for begin, cut in zip([start, *cuts], cuts, strict=False)]
    assert [len(piece) for piece in pieces] == sizes


def test_a_long_stream_cut_inside_every_id_is_bound_whole() -> None:
    """Seven-byte pieces (`chunking="bytes:7"`): every id runs across several cuts."""
    blob = _blob(3000)  # several binding windows long
    cuts = [*range(7, len(blob), 7), len(blob)]
    pieces = list(_plan(blob, cuts).pieces())
    assert b"".join(pieces) == _expected(blob)
    assert RUN.encode() not in b"".join(pieces)
