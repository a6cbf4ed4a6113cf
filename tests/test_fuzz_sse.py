"""Differential fuzzing of the SSE codec against the decoders LangGraph consumers really use.

For any SSE-like bytes in any chunking (single bytes, cuts inside CRLF and inside multi-byte
UTF-8), lg-testkit's parser must dispatch exactly the events langgraph_sdk's own decoder
(`BytesLineDecoder` + `SSEDecoder`, over a real `httpx.Response`) dispatches, and must keep
everything httpx-sse (`EventSource.iter_sse`) uses to decide what it yields. Where the two
disagree with each other, lg-testkit follows langgraph_sdk, the client LangGraph code runs:

- dispatch: the SDK dispatches a block with a non-empty event, a data line, an id line or a
  retry line; httpx-sse also dispatches every later blank-line block (even a heartbeat) once any
  id was seen, because it tests the remembered last id instead of "id set in this block".
- a leading BOM: the SDK strips it (the spec says so); httpx-sse keeps it, so a first line
  `\\ufeffdata: x` is an unknown field and the first event is lost.
- retry: the SDK takes `int()` of the bytes, httpx-sse `int()` of the text, so `retry: ١`
  (an Arabic-Indic digit) dispatches in httpx-sse only. Neither follows the spec's ASCII-digits
  rule; lg-testkit follows the SDK.
- bytes that are not UTF-8: both replace them when decoding names and ids; the SDK hands data
  bytes to orjson (which then fails on non-JSON). lg-testkit keeps the exact bytes
  (surrogateescape) so the recording replays byte for byte.

CI runs a fixed number of examples; `LG_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_sse.py`
runs a longer search. Counterexamples found so far are pinned below with `@example`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import httpx_sse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langgraph_sdk import sse as sdk_sse

from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
)
from lg_testkit.sse import SSEBlock, parse

EXAMPLES = int(os.environ.get("LG_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BOM = b"\xef\xbb\xbf"

# Pieces SSE streams are made of, plus the awkward ones: line ends of every kind, NUL, BOM,
# multi-byte UTF-8 (2, 3 and 4 bytes), bytes that are not UTF-8, retry values int() accepts.
FRAGMENTS = [
    b"data:",
    b"data: ",
    b"event:",
    b"event: ",
    b"id:",
    b"id: ",
    b"retry:",
    b"retry: ",
    b":",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\n\n",
    b"\0",
    BOM,
    b"{",
    b"}",
    b'"a"',
    b"[1,2]",
    b"null",
    b"1",
    b"-",
    b"+",
    b"_",
    b"x",
    b"values",
    b"heartbeat",
    "é".encode(),
    "☕".encode(),
    "😀".encode(),
    "١".encode(),
    b"\xff",
    b"\xe2\x82",
    b"\xc3",
]
streams = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=3)), max_size=40).map(
    b"".join
)


@st.composite
def chunked(draw: st.DrawFn, raw: st.SearchStrategy[bytes] = streams) -> tuple[bytes, list[bytes]]:
    data = draw(raw)
    cuts = sorted(draw(st.sets(st.integers(0, len(data)), max_size=max(len(data), 1))))
    edges = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def single_bytes(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def response(chunks: list[bytes]) -> httpx.Response:
    """A streaming response whose body arrives in exactly these chunks."""
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))


# -- what each decoder yields --------------------------------------------------------------------


class _RawJson:
    """Stands in for orjson inside langgraph_sdk.sse: hands the data bytes back unparsed, so
    the comparison covers streams whose data is not JSON (the SDK itself would raise)."""

    JSONDecodeError = ValueError

    @staticmethod
    def loads(body: Any) -> bytes:
        return bytes(body)


def sdk_events(chunks: list[bytes]) -> list[tuple[str, bytes | None, str | None]]:
    """langgraph_sdk's decoder over httpx, as its client reads a run stream."""
    decoder = sdk_sse.SSEDecoder()
    out = []
    with mock.patch.object(sdk_sse, "orjson", _RawJson):
        for line in sdk_sse.iter_lines_raw(response(chunks)):
            part = decoder.decode(bytes(line))
            if part is not None:
                out.append((part.event, part.data, part.id))
    return out


def httpx_sse_events(chunks: list[bytes]) -> list[tuple[str, str, str, int | None]]:
    source = httpx_sse.EventSource(response(chunks))
    return [(e.event, e.data, e.id, e.retry) for e in source.iter_sse()]


def _text(value: str) -> str:
    """Our exact text as a consumer decoding with errors='replace' sees it."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def ours_as_sdk(blocks: list[SSEBlock]) -> list[tuple[str, bytes | None, str | None]]:
    """Our blocks, read by the SDK's rules: dispatch `is_event`, id carried, blank data is None."""
    out, last_id = [], None
    for block in blocks:
        if not block.is_event:
            continue
        if block.id is not None:
            last_id = _text(block.id)
        body = None if block.data is None else block.data.encode("utf-8", "surrogateescape")
        data = body if body and not body.isspace() else None
        out.append((_text(block.event or ""), data, last_id or None))
    return out


def ours_as_httpx_sse(blocks: list[SSEBlock]) -> list[tuple[str, str, str, int | None]]:
    """Our blocks, read by httpx-sse's rules: any complete block dispatches once an id was seen."""
    out, last_id = [], ""
    for block in blocks:
        if not block.complete:
            continue
        if block.id is not None:
            last_id = _text(block.id)
        if block.event or block.data is not None or last_id or block.retry is not None:
            data = _text(block.data or "")
            out.append((_text(block.event or "") or "message", data, last_id, block.retry))
    return out


def ours(chunks: list[bytes]) -> list[SSEBlock]:
    return list(parse(chunks))


# -- the properties ------------------------------------------------------------------------------


@FUZZ
@given(chunked())
@example((b"event:\n\n", [b"event:\n\n"]))  # empty event name alone: not dispatched (was)
@example((b"retry: -1\n\n", [b"retry: -1\n\n"]))  # int() accepts it: dispatched (was not)
@example((b"data: x\r\n\r\n", [b"data: x\r", b"\n\r", b"\n"]))
@example((BOM + b"data: 1\n\n", [BOM[:1], BOM[1:], b"data: 1\n\n"]))
def test_dispatches_exactly_what_langgraph_sdk_dispatches(case: tuple[bytes, list[bytes]]) -> None:
    data, chunks = case
    expected = sdk_events([data])
    assert sdk_events(chunks) == expected  # the SDK itself is chunking-proof
    assert ours_as_sdk(ours(chunks)) == expected
    assert ours_as_sdk(ours(single_bytes(data))) == expected


def _int_or_none(value: str | bytes) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def agrees_on_bom_and_retry(raw: bytes) -> bool:
    """No leading BOM, and every retry value means the same to int() of bytes and of text."""
    if raw.startswith(BOM):
        return False
    for line in re.split(rb"\r\n|\r|\n", raw):
        name, _, value = line.partition(b":")
        if name == b"retry":
            value = value.removeprefix(b" ")
            text = value.decode("utf-8", "replace")
            if _int_or_none(value) != _int_or_none(text):
                return False
    return True


@FUZZ
@given(chunked(streams.filter(agrees_on_bom_and_retry)))
@example((b"id: 1\n\n: heartbeat\n\n", [b"id: 1\n\n: heartbeat\n\n"]))
@example((b"data: x\n\r", [b"data: x\n", b"\r"]))
def test_keeps_everything_httpx_sse_yields(case: tuple[bytes, list[bytes]]) -> None:
    data, chunks = case
    assert ours_as_httpx_sse(ours(chunks)) == httpx_sse_events(chunks)


def test_where_the_sdk_and_httpx_sse_disagree_lg_testkit_follows_the_sdk() -> None:
    cases = [
        b"id: 1\ndata: a\n\n: heartbeat\n\n",  # httpx-sse also yields the heartbeat as an event
        BOM + b"data: 1\n\n",  # httpx-sse does not strip the BOM and loses the event
        "retry: ١\n\n".encode(),  # httpx-sse's int() of text accepts Arabic-Indic digits
    ]
    for raw in cases:
        sdk, ours_view = sdk_events([raw]), ours_as_sdk(ours([raw]))
        assert ours_view == sdk
        assert len(httpx_sse_events([raw])) != len(sdk)


# -- round trip through the cassette -------------------------------------------------------------


def _cassette(chunks: list[bytes]) -> Cassette:
    stream = RecordedStream.from_chunks([(i / 1000, c) for i, c in enumerate(chunks)])
    response_ = RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream)
    return Cassette([Interaction(RecordedRequest("POST", "/runs/stream"), response_)])


@FUZZ
@given(case=chunked(st.one_of(streams, st.binary(max_size=64))))
def test_any_bytes_any_chunking_encode_back_and_survive_a_cassette_file(
    case: tuple[bytes, list[bytes]], tmp_path: Path
) -> None:
    data, chunks = case
    stream = RecordedStream.from_chunks([(0.0, c) for c in chunks])
    assert stream.encode() == chunks
    path = tmp_path / "c.json"  # shared by the examples: each save replaces the last
    _cassette(chunks).save(path)
    loaded = Cassette.load(path).interactions[0].response.stream
    assert loaded is not None and loaded.encode() == chunks
    assert b"".join(_replayed(path)) == data


def _replayed(path: Path) -> Iterator[bytes]:
    from lg_testkit.replay import ReplayTransport

    with (
        httpx.Client(
            transport=ReplayTransport(path, validate="off"), base_url="http://lg"
        ) as client,
        client.stream("POST", "/runs/stream") as r,
    ):
        yield from r.iter_raw()
