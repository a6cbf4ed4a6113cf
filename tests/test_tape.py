"""A replayed stream bound to a consumer's ids: wherever the cuts fall, even across an id, the
consumer gets the recorded bytes with every bound id replaced, in pieces of the recorded sizes."""

from __future__ import annotations

import re
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from lg_testkit.replay.bindings import UUID_BYTES, Bindings, bound_ids_in, uuids_in
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


_PIECES = st.sampled_from(
    ["0123abcd", "-", "ABCD", "0", "f", "-0000-", "7000-8000-", "000000000002", '"', ":", "x"]
    + ['"run_id":"', '"thread_id":"', '"parent_checkpoint_id":"', '"checkpoint_id":"', '_id":"']
)
_BOUND = re.compile(
    rb'"(?:checkpoint_id|parent_checkpoint_id|run_id|thread_id)":"(' + UUID_BYTES.pattern + rb')"'
)


@settings(max_examples=500, deadline=None)
@given(pieces=st.lists(st.one_of(_PIECES, st.uuids().map(str)), max_size=40))
def test_the_fast_uuid_finder_finds_what_the_regular_expression_finds(pieces: list[str]) -> None:
    """Ids to rewrite in thread-protocol events are found by `uuids_in`: the same ids as
    `UUID_BYTES.findall`, in text made of UUIDs and pieces that almost make one."""
    data = "".join(pieces).encode()
    assert uuids_in(data) == UUID_BYTES.findall(data)


_KEYS = st.sampled_from(["run_id", "thread_id", "checkpoint_id", "parent_checkpoint_id", "id"])
_FIELDS = st.builds('"{}":"{}"'.format, _KEYS, st.uuids().map(str))


@settings(max_examples=500, deadline=None)
@given(pieces=st.lists(st.one_of(_PIECES, _FIELDS, st.uuids().map(str)), max_size=40))
def test_bound_ids_are_those_named_under_a_bound_key(pieces: list[str]) -> None:
    """The thread, run and checkpoint ids a recording hands out are found in its bytes under
    their keys, and nowhere else (in JSON text: its fields apart by commas)."""
    data = ",".join(pieces).encode()
    assert bound_ids_in(data) == set(map(bytes.decode, _BOUND.findall(data)))
