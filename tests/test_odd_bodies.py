"""Bodies that are not valid UTF-8 record, then replay byte for byte on every replay path.

A stand-in server on loopback answers a thread read with a JSON body holding bytes that are not
UTF-8 (Latin-1 text, a stray 0xff), and a run stream whose event data holds the same. Recording
goes through `use_cassette(path, "all")` as a user would; each replay path (`use_cassette`,
`FakeServer.transport()`, `FakeServer.serve()` over HTTP) must hand the client the bytes the
server sent, and langgraph_sdk must meet them as it met the live ones (it refuses such a JSON
body, and reads such event data with U+FFFD for the bad bytes, as the cassette's view does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lg_testkit import Cassette, FakeServer, use_cassette
from lg_testkit.serving import serve_in_thread

THREAD = b'{"thread_id":"t1","metadata":{"name":"caf\xe9 \xff"},"status":"idle"}'
STREAM = (
    b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'
    b'event: values\r\ndata: {"messages":[{"content":"caf\xe9 \xff","type":"ai"}]}\r\n\r\n'
)
UNREADABLE = {"name": "caf\ufffd \ufffd"}  # what orjson (the SDK) reads from the bytes above


async def _thread(request: Request) -> Response:
    return Response(THREAD, media_type="application/json")


async def _stream(request: Request) -> Response:
    return Response(STREAM, media_type="text/event-stream")


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/threads/t1", _thread, methods=["GET"]),
            Route("/threads/t1/runs/stream", _stream, methods=["POST"]),
        ]
    )
    with serve_in_thread(app, log_level="critical") as url:
        yield url


def _read(client: httpx.Client) -> tuple[bytes, bytes]:
    """What a client reading both answers raw gets."""
    thread = client.get("/threads/t1")
    assert thread.status_code == 200, thread.text
    with client.stream("POST", "/threads/t1/runs/stream", json={"assistant_id": "a"}) as r:
        assert r.status_code == 200
        stream = b"".join(r.iter_raw())
    return thread.content, stream


@pytest.fixture(scope="module")
def cassette(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "odd.json"
    with use_cassette(path, "all", validate="off"), httpx.Client(base_url=upstream) as client:
        assert _read(client) == (THREAD, STREAM)  # the recorder passes the bytes through
    return path


def test_the_cassette_keeps_the_exact_bytes_and_reads_them_as_the_sdk_does(cassette: Path) -> None:
    thread, run = Cassette.load(cassette).interactions
    assert thread.response.content() == THREAD
    assert thread.response.json["thread_id"] == "t1"  # what the fake server binds ids by
    assert run.response.stream is not None
    assert b"".join(run.response.stream.encode()) == STREAM
    values = run.response.stream.events[1]
    assert values.data["messages"][0]["content"] == UNREADABLE["name"]


def test_use_cassette_replays_the_bytes(cassette: Path) -> None:
    with use_cassette(cassette, "none", validate="off"), httpx.Client(base_url="http://x") as c:
        assert _read(c) == (THREAD, STREAM)


def test_the_fake_server_in_process_replays_the_bytes(cassette: Path) -> None:
    server = FakeServer.from_path(cassette, validate="off")
    with httpx.Client(base_url="http://lg", transport=server.transport()) as client:
        assert _read(client) == (THREAD, STREAM)
    server.check()


def test_the_fake_server_over_http_replays_the_bytes(cassette: Path) -> None:
    server = FakeServer.from_path(cassette, validate="off")
    with server.serve() as url, httpx.Client(base_url=url) as client:
        assert _read(client) == (THREAD, STREAM)
    server.check()


def test_the_sdk_meets_the_replayed_bytes_as_it_met_the_live_ones(
    cassette: Path, upstream: str
) -> None:
    """The SDK refuses such a JSON body (orjson, no fallback) and reads such event data with
    U+FFFD: the same live and replayed."""
    import orjson
    from langgraph_sdk.client import SyncLangGraphClient

    def seen(http: httpx.Client) -> tuple[str, list[tuple[str, object]]]:
        client = SyncLangGraphClient(http)
        with pytest.raises(orjson.JSONDecodeError) as refused:
            client.threads.get("t1")
        parts = client.runs.stream("t1", "a")
        return str(refused.value), [(p.event, p.data) for p in parts]

    with httpx.Client(base_url=upstream) as live:
        expected = seen(live)
    assert expected[1][1] == (
        "values",
        {"messages": [{"content": "caf\ufffd \ufffd", "type": "ai"}]},
    )
    server = FakeServer.from_path(cassette, validate="off")
    with httpx.Client(base_url="http://lg", transport=server.transport()) as replayed:
        assert seen(replayed) == expected
