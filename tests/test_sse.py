"""The SSE codec: any chunking parses the same, and encoding gives back the bytes sent."""

from __future__ import annotations

import itertools
import json

import pytest
from langgraph_sdk import sse as sdk_sse

from lg_testkit.cassette import RecordedStream
from lg_testkit.sse import SSEParser, parse

LANGGRAPH = (
    b'event: metadata\r\ndata: {"run_id":"1f0","attempt":1}\r\nid: 1-0\r\n\r\n'
    b": heartbeat\r\n\r\n"
    b'event: messages\r\ndata: [{"content":"caf\xc3\xa9 \xe2\x98\x95",'
    b'"type":"AIMessageChunk"},{}]\r\n'
    b"id: 1-1\r\n\r\n"
)
ODD = (
    b"\xef\xbb\xbfretry: 1500\n"
    b"data: first line\r"
    b"data: second line\r\n"
    b"event\n\n"
    b": just a comment\r\r"
    b"id: 7\ndata:no space\n\n"
    b"data: cut off at the end"
)


def chunkings(raw: bytes, cuts: int) -> list[list[bytes]]:
    """Every way to split `raw` at `cuts` places."""
    out = []
    for points in itertools.combinations(range(1, len(raw)), cuts):
        edges = [0, *points, len(raw)]
        out.append([raw[a:b] for a, b in zip(edges, edges[1:], strict=False)])
    return out


def events_of(chunks: list[bytes]) -> list[tuple[str | None, str | None, str | None]]:
    return [(b.event, b.data, b.id) for b in parse(chunks) if b.is_event]


@pytest.mark.parametrize("raw", [LANGGRAPH, ODD], ids=["langgraph", "odd"])
def test_every_two_cut_chunking_parses_the_same_and_encodes_back_byte_for_byte(raw: bytes) -> None:
    expected = events_of([raw])
    for chunks in [*chunkings(raw, 1), *chunkings(raw, 2)]:
        assert events_of(chunks) == expected
        stream = RecordedStream.from_chunks([(0.0, c) for c in chunks])
        assert stream.encode() == chunks  # same bytes, same boundaries


def test_fields_follow_the_event_stream_rules() -> None:
    blocks = list(parse([ODD]))
    events = [b for b in blocks if b.is_event]
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        (None, "first line\nsecond line", None, 1500),  # CR and CRLF end lines; BOM dropped;
        # an empty `event` line means no name, as in the SDK
        (None, "no space", "7", None),
    ]
    assert blocks[1].comments == (" just a comment",) and not blocks[1].is_event
    assert not blocks[-1].complete and blocks[-1].raw == "data: cut off at the end"


def test_dispatches_what_langgraph_sdk_dispatches() -> None:
    # httpx-sse would also dispatch the heartbeat here, as an empty "message" carrying the
    # previous id; lg-testkit follows the SDK, which dispatches only when a field is set.
    lines, decoder = sdk_sse.BytesLineDecoder(), sdk_sse.SSEDecoder()
    theirs = [part for line in lines.decode(LANGGRAPH) if (part := decoder.decode(line))]
    ours = [b for b in parse([LANGGRAPH]) if b.is_event]
    assert [(b.event, json.loads(b.data or "null"), b.id) for b in ours] == [
        (p.event, p.data, p.id) for p in theirs
    ]


def test_a_crlf_split_across_chunks_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r") == []
    assert parser.feed(b"\n") == []
    [block] = parser.feed(b"\r\n")
    assert block.data == "x" and block.raw == "data: x\r\n\r\n"
    assert parser.newline == "\r\n"


def test_langgraph_streams_store_parsed_events_without_raw_fallback() -> None:
    stream = RecordedStream.from_chunks([(0.01, LANGGRAPH[:40]), (0.02, LANGGRAPH[40:])])
    assert [item.to_dict() for item in stream.items] == [
        {"t": 0.02, "event": "metadata", "data": {"run_id": "1f0", "attempt": 1}, "id": "1-0"},
        {"t": 0.02, "comment": " heartbeat"},
        {
            "t": 0.02,
            "event": "messages",
            "data": [{"content": "café ☕", "type": "AIMessageChunk"}, {}],
            "id": "1-1",
        },
    ]
    assert stream.chunks == [[0.01, 40], [0.02, len(LANGGRAPH) - 40]]
