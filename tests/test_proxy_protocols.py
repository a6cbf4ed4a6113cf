"""The recording proxy keeps what a client saw: an upstream that dies mid-stream is recorded
as a drop (replay dies the same way), and thread-protocol traffic is folded into one event log
per thread, as the in-process recorder does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from lg_testkit import Cassette, FakeServer
from lg_testkit.proxy import RecordingProxy
from lg_testkit.serving import serve_in_thread

EVENTS = (
    b'event: metadata\r\ndata: {"run_id":"r","attempt":1}\r\n\r\nevent: values\r\ndata: {}\r\n\r\n'
)


async def dying_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Two events of a run stream, then the connection is gone."""
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": EVENTS, "more_body": True})
    await asyncio.sleep(0.05)
    raise RuntimeError("upstream died")


def test_an_upstream_drop_is_recorded_and_replayed_as_a_drop(tmp_path: Path) -> None:
    cassette = tmp_path / "drop.json"
    body = {"assistant_id": "agent", "stream_mode": ["values"]}
    with serve_in_thread(dying_upstream) as upstream:
        proxy = RecordingProxy(upstream, cassette, flush_interval=0)
        with (
            serve_in_thread(proxy, lifespan="on") as url,
            httpx.Client(base_url=url) as client,
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("POST", "/runs/stream", json=body) as live,
        ):
            for _ in live.iter_bytes():
                pass
    stream = Cassette.load(cassette).interactions[0].response.stream
    assert stream is not None and stream.dropped and len(stream.events) == 2

    server = FakeServer.from_path(cassette, validate="off")  # a cut stream ends early
    received = []
    with (
        httpx.Client(base_url="http://x", transport=server.transport()) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", "/runs/stream", json=body) as replayed,
    ):
        for chunk in replayed.iter_bytes():
            received.append(chunk)
    assert b"".join(received) == EVENTS


def test_a_raw_deflate_body_is_recorded_as_the_client_read_it(tmp_path: Path) -> None:
    import zlib

    from lg_testkit import RecordingTransport

    text = b'{"thread_id": "t"}'
    squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # deflate without the zlib header
    raw = squeezer.compress(text) + squeezer.flush()

    def upstream(request: httpx.Request) -> httpx.Response:
        headers = {"content-encoding": "deflate", "content-type": "application/json"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(raw))

    recorder = RecordingTransport(httpx.MockTransport(upstream))
    with httpx.Client(base_url="http://lg", transport=recorder) as client:
        assert client.post("/threads", json={}).content == text
    assert recorder.captures[0].interaction is not None
    assert recorder.captures[0].interaction.response.json == {"thread_id": "t"}
