"""Malformed streams from a broken server are recorded faithfully and replayed byte for byte.

A tiny Starlette app on loopback stands in for a broken LangGraph server: data that is not JSON,
a stream that ends mid-event, no final blank line, a connection dropped mid-event. Recording goes
through `use_cassette(path, "all")` as a user would; replay with "none" must give the consumer
the same chunks. (Schema validation of such streams is the validator's job; it is off here.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from lg_testkit import Cassette, FakeServer, use_cassette
from lg_testkit.serving import serve_in_thread

METADATA = b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'
STREAMS: dict[str, list[bytes]] = {
    "not-json": [
        METADATA,
        b"event: values\r\ndata: {not json\r\n\r\n",
        b"event: end\r\ndata: \r\n\r\n",
    ],
    "cut-mid-event": [METADATA, b'event: values\r\ndata: {"messages":[{"con'],
    "no-final-blank-line": [METADATA, b'event: values\r\ndata: {"messages":[]}\r\n'],
    "dropped-mid-event": [METADATA, b'event: values\r\ndata: {"mess'],  # then the socket dies
}


class _Dropped(Exception):
    """Raised by the app mid-body: uvicorn closes the connection without ending the body."""


async def _stream(request: Request) -> StreamingResponse:
    name = request.path_params["name"]
    await request.body()  # read it all: closing with unread bytes would reset the connection

    async def body() -> AsyncIterator[bytes]:
        for chunk in STREAMS[name]:
            yield chunk
        if name == "dropped-mid-event":
            raise _Dropped

    return StreamingResponse(body(), media_type="text/event-stream; charset=utf-8")


@pytest.fixture(scope="module")
def broken_server() -> Iterator[str]:
    """A broken stand-in server on loopback; its deliberate drops are not logged."""
    app = Starlette(routes=[Route("/threads/t1/runs/{name}/stream", _stream, methods=["POST"])])
    with serve_in_thread(app, log_level="critical") as url:
        yield url


def _consume(base_url: str, name: str) -> tuple[list[bytes], str | None]:
    """What a consumer reading the stream chunk by chunk sees: the chunks, then any error."""
    chunks: list[bytes] = []
    with httpx.Client(base_url=base_url) as client:
        try:
            with client.stream("POST", f"/threads/t1/runs/{name}/stream", json={"input": {}}) as r:
                chunks.extend(r.iter_raw())
        except httpx.TransportError as exc:
            return chunks, type(exc).__name__
    return chunks, None


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_a_malformed_stream_replays_the_bytes_the_consumer_saw_live(
    broken_server: str, tmp_path: Path, name: str
) -> None:
    path = tmp_path / f"{name}.json"
    with use_cassette(path, "all", validate="off"):
        live, live_error = _consume(broken_server, name)
    assert b"".join(live) == b"".join(STREAMS[name])
    # a peer closing mid-body; on a loaded machine the close may come as a reset instead
    dropped = {"RemoteProtocolError", "ReadError"} if name == "dropped-mid-event" else {None}
    assert live_error in dropped

    with use_cassette(path, "none", validate="off"):
        replayed, replay_error = _consume("http://replay.invalid", name)
    assert replayed == live  # same bytes, same chunk boundaries
    assert replay_error == live_error  # a dropped connection drops again on replay


def _items(tmp_path: Path, broken_server: str, name: str) -> list[dict[str, object]]:
    path = tmp_path / f"{name}.json"
    with use_cassette(path, "all", validate="off"):
        _consume(broken_server, name)
    stream = Cassette.load(path).interactions[0].response.stream
    assert stream is not None
    return [{k: v for k, v in item.to_dict().items() if k != "t"} for item in stream.items]


def test_data_that_is_not_json_is_kept_as_text(broken_server: str, tmp_path: Path) -> None:
    items = _items(tmp_path, broken_server, "not-json")
    assert items[1:] == [{"event": "values", "text": "{not json"}, {"event": "end", "text": ""}]


@pytest.mark.parametrize(
    ("name", "leftover", "fields"),
    [
        # the server ended the stream: langgraph_sdk dispatches the last block, so it is an event
        (
            "cut-mid-event",
            'event: values\r\ndata: {"messages":[{"con',
            {"text": '{"messages":[{"con'},
        ),
        (
            "no-final-blank-line",
            'event: values\r\ndata: {"messages":[]}\r\n',
            {"data": {"messages": []}},
        ),
        # the connection died: the SDK raises before it could, so it is only text
        ("dropped-mid-event", 'event: values\r\ndata: {"mess', None),
    ],
)
def test_trailing_bytes_are_kept_as_an_incomplete_item(
    broken_server: str, tmp_path: Path, name: str, leftover: str, fields: dict[str, object] | None
) -> None:
    items = _items(tmp_path, broken_server, name)
    assert items[0] == {"event": "metadata", "data": {"run_id": "r1", "attempt": 1}}
    event = {} if fields is None else {"event": "values", **fields}
    assert items[1:] == [{**event, "incomplete": True, "raw": leftover}]


def test_a_dropped_connection_is_marked_cut_short(broken_server: str, tmp_path: Path) -> None:
    path = tmp_path / "dropped.json"
    with use_cassette(path, "all", validate="off"):
        _consume(broken_server, "dropped-mid-event")
    stream = Cassette.load(path).interactions[0].response.stream
    assert stream is not None and stream.cut_short
    assert stream.dropped is not None
    assert stream.dropped.partition(":")[0] in {"RemoteProtocolError", "ReadError"}

    # Served over HTTP by the fake server, the connection dies at the same place.
    with FakeServer.from_path(path).serve() as url:
        chunks, error = _consume(url, "dropped-mid-event")
    assert error in {"RemoteProtocolError", "ReadError"}  # the server closes mid-body
    assert b"".join(chunks) == b"".join(STREAMS["dropped-mid-event"])


@pytest.mark.parametrize(
    ("recorded", "raised"),
    [
        ("ReadError: [Errno 104] Connection reset by peer", httpx.ReadError),
        ("RemoteProtocolError: peer closed connection", httpx.RemoteProtocolError),
        ("SomethingElse: not an httpx error", httpx.RemoteProtocolError),
    ],
)
def test_in_process_replay_raises_the_error_the_consumer_got_live(
    broken_server: str, tmp_path: Path, recorded: str, raised: type[Exception]
) -> None:
    path = tmp_path / "dropped.json"
    with use_cassette(path, "all", validate="off"):
        _consume(broken_server, "dropped-mid-event")
    cassette = Cassette.load(path)
    stream = cassette.interactions[0].response.stream
    assert stream is not None
    stream.dropped = recorded
    cassette.save(path)
    with use_cassette(path, "none", validate="off"), pytest.raises(raised):
        _consume_raising("http://replay.invalid")


def _consume_raising(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        path = "/threads/t1/runs/dropped-mid-event/stream"
        with client.stream("POST", path, json={"input": {}}) as response:
            for _ in response.iter_raw():
                pass
