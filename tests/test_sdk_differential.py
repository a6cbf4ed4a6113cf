"""Differential test: lg-testkit's view of a stream's events equals what langgraph_sdk yields.

lg-testkit reads a recorded stream once (`RecordedStream.from_chunks`: the SSE codec, then each
event's data decoded by `parse_json`) and everything else uses that view: validation, faults,
joins, `show`, `diff`, snapshots. The consumer under test reads the same bytes with
langgraph_sdk's client (`client.runs.stream`, orjson for the data). For any bytes in any
chunking, the two must agree event by event, also after the cassette is saved and loaded:

- the same events (the SDK yields a block with a name or a data line; an empty `event:` is no
  name; an unterminated last block is yielded when the server ends the stream cleanly);
- the same name, the same last event id, and the same data: where the SDK's orjson refuses the
  data (NaN, Infinity, 1e400, lone surrogates, not JSON) and the SDK raises, lg-testkit keeps the
  data as `text`; integers beyond 64 bits are floats in both; bytes that are not UTF-8 read as
  U+FFFD in both; blank data is None to the SDK and blank `text` here.

The SSE fuzz strategies of tests/test_fuzz_sse.py make the stream soup; JSON-shaped data with
the values orjson and Python's json read differently is mixed in. `LG_FUZZ_EXAMPLES` sets the
number of examples, as there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson
from hypothesis import example, given
from hypothesis import strategies as st
from langgraph_sdk.client import SyncLangGraphClient
from test_fuzz_sse import FUZZ, chunked, streams

from lg_testkit.cassette import NO_DATA, Cassette, RecordedStream, StreamItem

REJECTED = "<the SDK raises here>"

# Data orjson (the SDK) and Python's json read differently, or that the SDK refuses.
ODD_JSON = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"-1e400",
    b'"\\ud800"',
    b'"\\udc00x"',
    b'"\\ud83d\\ude00"',
    b"123456789012345678901234567890",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1E5",
    b"-0",
    b"1e-400",
    b'"\xff"',
    b'"caf\xe9"',
    b'"\xe2\x82"',
    b"\xef\xbb\xbf1",
    b" ",
    b"\t",
    b"\x0c",
    b"\x0b",
    b"nul",
    b"1.",
    b".5",
    b"01",
    b'{"a":1,"a":2}',
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
).map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
odd = st.sampled_from(ODD_JSON)
payloads = st.one_of(
    odd,
    json_values,
    st.builds(lambda a, b: b"[" + a + b"," + b + b"]", json_values, odd),
    st.builds(lambda a, b: b'{"k":' + a + b',"v":' + b + b"}", odd, json_values),
    st.lists(st.one_of(odd, json_values), min_size=2, max_size=3).map(b"".join),
)


@st.composite
def json_streams(draw: st.DrawFn) -> bytes:
    """Run-stream-like blocks with odd data, some soup, and maybe no final blank line."""
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            blocks.append(draw(streams))
            continue
        name = draw(st.sampled_from([b"values", b"metadata", b"", b"messages/partial"]))
        lines = [b"event: " + name] if name or draw(st.booleans()) else []
        lines += [b"data: " + line for line in draw(payloads).split(b"\n")]
        if draw(st.booleans()):
            lines.append(b"id: " + draw(st.sampled_from([b"1-0", b"", b"\xff"])))
        blocks.append(newline.join(lines) + newline + newline)
    raw = b"".join(blocks)
    cut = draw(st.sampled_from([0, 0, 1, 2]))  # drop the last blank line, or both line ends
    return raw[: len(raw) - cut * len(newline)] if cut else raw


# -- the two views -------------------------------------------------------------------------------


def sdk_view(chunks: list[bytes]) -> list[tuple[str, Any, str | None]]:
    """What `client.runs.stream` yields for a response arriving in these chunks; REJECTED where
    it raises (then it yields nothing more)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
        )

    out: list[tuple[str, Any, str | None]] = []
    with httpx.Client(base_url="http://lg", transport=httpx.MockTransport(answer)) as http:
        try:
            for part in SyncLangGraphClient(http).runs.stream("t1", "agent"):
                out.append((part.event, part.data, part.id))
        except orjson.JSONDecodeError:
            out.append(("", REJECTED, None))
    return out


def _text(value: str | None) -> str | None:
    """Our exact text as the SDK decodes names and ids (errors='replace')."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def lg_view(items: list[StreamItem]) -> list[tuple[str, Any, str | None]]:
    """lg-testkit's events, as the SDK would hand them out (its last-id rule, its name for no
    name), cut after the first event the SDK could not decode."""
    out: list[tuple[str, Any, str | None]] = []
    last_id: str | None = None
    for item in items:
        if item.id is not None:
            last_id = _text(item.id)
        if not item.is_event:
            continue
        data: Any = None
        if item.data is not NO_DATA:
            data = item.data
        elif item.text is not None:
            body = item.text.encode("utf-8", "surrogateescape")
            if body and not body.isspace():
                data = REJECTED
        out.append(
            ("", REJECTED, None)
            if data is REJECTED
            else (_text(item.event) or "", data, last_id or None)
        )
        if data is REJECTED:
            break
    return out


def recorded(chunks: list[bytes]) -> RecordedStream:
    return RecordedStream.from_chunks([(i / 1000, chunk) for i, chunk in enumerate(chunks)])


def _cassette(stream: RecordedStream) -> Cassette:
    from lg_testkit.cassette import Interaction, RecordedRequest, RecordedResponse

    response = RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream)
    return Cassette([Interaction(RecordedRequest("POST", "/threads/t1/runs/stream"), response)])


# -- the property --------------------------------------------------------------------------------


@FUZZ
@given(case=chunked(st.one_of(json_streams(), streams)))
@example(case=(b"data: NaN\n\n", [b"data: NaN\n\n"]))
@example(case=(b'data: "\\ud800"\n\n', [b'data: "\\ud800"\n\n']))  # json reads it, orjson not
@example(
    case=(
        b"data: 123456789012345678901234567890\n\n",
        [b"data: 1234567890123456789", b"01234567890\n\n"],
    )
)
@example(case=(b'data: {"a":"\xff"}\n\n', [b'data: {"a":"\xff"}\n\n']))  # U+FFFD in the SDK
@example(case=(b"event: values\ndata: 1", [b"event: values\nda", b"ta: 1"]))  # unterminated
@example(case=(b"event:\nid: 1\n\n", [b"event:\nid: 1\n\n"]))  # empty name, no data: not yielded
def test_lg_testkits_events_are_what_the_sdk_yields(
    case: tuple[bytes, list[bytes]], tmp_path: Path
) -> None:
    raw, chunks = case
    expected = sdk_view(chunks)
    stream = recorded(chunks)
    assert lg_view(stream.items) == expected
    assert b"".join(stream.encode()) == raw  # and the view costs no byte of the replay
    path = tmp_path / "c.json"  # shared by the examples: each save replaces the last
    _cassette(stream).save(path)
    loaded = Cassette.load(path).interactions[0].response.stream
    assert loaded is not None
    assert lg_view(loaded.items) == expected


def test_a_stream_that_died_mid_block_yields_no_last_event() -> None:
    """The SDK raises on a dropped connection before it could dispatch an unterminated block,
    so the recording does not count it as an event (a cut-short one neither)."""
    chunks = [b'event: metadata\ndata: {"run_id":"r"}\n\n', b'event: values\ndata: {"a":1}\n']
    assert [item.event for item in recorded(chunks).events] == ["metadata", "values"]
    dropped = RecordedStream.from_chunks([(0.0, c) for c in chunks], dropped="ReadError: gone")
    assert [item.event for item in dropped.events] == ["metadata"]
    assert b"".join(dropped.encode()) == b"".join(chunks)
