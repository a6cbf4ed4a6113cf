"""`lg-testkit proxy` before a real `langgraph dev`: streaming through, recording, crash safety.

The proxy runs as the user runs it, `python -m lg_testkit proxy ...` in a subprocess; clients are
the Python SDK, curl and (when tests/js is installed) the JS SDK.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lg_testkit import Cassette, use_cassette
from lg_testkit.fakeserver import FakeServer

TICKER = {"assistant_id": "ticker", "input": {}, "stream_mode": ["custom", "values"]}


class Proxy:
    """A `lg-testkit proxy` subprocess; `stop()` sends Ctrl-C and returns its stderr."""

    def __init__(self, target: str, cassette: Path, *extra: str) -> None:
        self.cassette = cassette
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lg_testkit",
                "proxy",
                "--target",
                target,
                "--cassette",
                str(cassette),
                "--port",
                "0",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert " -> " in line, line + self.process.stderr.read()  # type: ignore[union-attr]
        self.url = line.split()[2]

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=30)
        return err


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Any]:
    started: list[Proxy] = []

    def start(target: str, *extra: str, name: str = "proxy.json") -> Proxy:
        proxy = Proxy(target, tmp_path / name, *extra)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        if proxy.process.poll() is None:
            proxy.process.kill()
            proxy.process.communicate()


async def ticker_arrivals(url: str) -> tuple[list[tuple[str, Any]], list[float]]:
    """Stream the ticker with the Python SDK; the events and when each custom one arrived."""
    from langgraph_sdk import get_client

    events: list[tuple[str, Any]] = []
    arrivals: list[float] = []
    async with get_client(url=url, api_key=None) as client:
        thread = await client.threads.create()
        async for part in client.runs.stream(
            thread["thread_id"], "ticker", input={}, stream_mode=["custom", "values"]
        ):
            events.append((part.event, part.data))
            if part.event == "custom":
                arrivals.append(time.perf_counter())
    return events, arrivals


async def test_sdk_stream_arrives_as_sent_and_replays_to_the_same_events(
    langgraph_url: str, start_proxy: Any
) -> None:
    proxy = start_proxy(langgraph_url)
    live, arrivals = await ticker_arrivals(proxy.url)
    log = proxy.stop()

    assert [d["tick"] for e, d in live if e == "custom"] == [0, 1, 2, 3, 4, 5]
    cassette = Cassette.load(proxy.cassette)
    streams = [i.response.stream for i in cassette.interactions if i.response.stream]
    assert len(streams) == 1
    stream = streams[0]
    assert not stream.cut_short
    sent = [item.t for item in stream.items if item.event == "custom"]
    # The caller saw the ticks spread out as the proxy received them, not in one burst at the end.
    assert arrivals[-1] - arrivals[0] > 0.5 * (sent[-1] - sent[0])
    assert "POST /threads" in log and "8 events" in log  # one line per finished exchange

    with use_cassette(proxy.cassette, "none"):
        replayed, _ = await ticker_arrivals(proxy.url)
    assert replayed == live


def _curl_stream(url: str) -> str:
    result = subprocess.run(
        [
            "curl",
            "-sSN",
            "-X",
            "POST",
            f"{url}/runs/stream",
            "-H",
            "content-type: application/json",
            "-d",
            json.dumps(TICKER),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_records_through_the_proxy_and_serve_replays_the_same_bytes(
    langgraph_url: str, start_proxy: Any
) -> None:
    proxy = start_proxy(langgraph_url)
    live = _curl_stream(proxy.url)
    proxy.stop()
    assert live.count("event: custom") == 6

    with FakeServer.from_path(proxy.cassette).serve() as fake_url:
        replayed = _curl_stream(fake_url)
    assert replayed == live


def test_js_sdk_records_through_the_proxy_and_replays_through_serve(
    langgraph_url: str, start_proxy: Any, js_dir: Path
) -> None:
    def consume(url: str) -> Any:
        result = subprocess.run(
            ["node", "consumer.mjs", "interrupt", url],
            cwd=js_dir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    proxy = start_proxy(langgraph_url)
    live = consume(proxy.url)
    proxy.stop()
    assert [event for event, _ in live["first"]] == ["metadata", "updates"]
    assert live["final"]["values"] == {"answer": "yes"}

    with FakeServer.from_path(proxy.cassette).serve() as fake_url:
        assert consume(fake_url) == live


def test_credentials_are_never_written(langgraph_url: str, start_proxy: Any) -> None:
    proxy = start_proxy(langgraph_url)
    secrets = {
        "x-api-key": "lsv2_pt_apikey_0123456789",
        "authorization": "Bearer bearer-token-0123456789",
        "cookie": "session=cookie-value-0123456789; theme=dark",
        "x-langsmith-api-key": "lsv2_sk_langsmith_0123456789",
    }
    with httpx.Client(base_url=proxy.url, headers=secrets, timeout=60) as client:
        thread = client.post("/threads", json={}).json()
        with client.stream(
            "POST", f"/threads/{thread['thread_id']}/runs/stream", json=TICKER
        ) as response:
            assert response.read().count(b"event: custom") == 6
    proxy.stop()

    text = proxy.cassette.read_text()
    for value in [
        "apikey_0123456789",
        "bearer-token-0123456789",
        "cookie-value-0123456789",
        "langsmith_0123456789",
    ]:
        assert value not in text
    headers = Cassette.load(proxy.cassette).interactions[0].request.headers
    assert {headers[name] for name in secrets} == {"<redacted>"}


def test_a_secret_the_graph_echoes_is_masked_and_its_exchange_kept(
    langgraph_url: str, start_proxy: Any
) -> None:
    secret = "sk-live-4f9a8b7c6d5e"
    proxy = start_proxy(
        langgraph_url, "--secret", secret, "--redact-json", "request:input.messages.*.content"
    )
    with httpx.Client(base_url=proxy.url, timeout=60) as client:
        thread = client.post("/threads", json={}).json()
        body = {
            "assistant_id": "agent",
            "input": {"messages": [{"role": "human", "content": f"my key is {secret}"}]},
        }
        with client.stream("POST", f"/threads/{thread['thread_id']}/runs/stream", json=body) as r:
            assert secret.encode() in r.read()  # the caller still gets the live stream
    log = proxy.stop()

    assert proxy.process.returncode == 0, log
    text = proxy.cassette.read_text()
    assert secret not in text and secret not in log
    assert "my key is <redacted>" in text  # the graph's echo, masked in place
    paths = [i.request.path for i in Cassette.load(proxy.cassette).interactions]
    assert paths == ["/threads", f"/threads/{thread['thread_id']}/runs/stream"]


def test_kill_9_mid_stream_leaves_a_cassette_that_loads(
    langgraph_url: str, start_proxy: Any
) -> None:
    proxy = start_proxy(langgraph_url, "--flush-interval", "0.1")
    seen: list[bytes] = []
    with httpx.Client(base_url=proxy.url, timeout=60) as client:
        thread = client.post("/threads", json={}).json()
        with client.stream("POST", f"/threads/{thread['thread_id']}/runs/stream", json=TICKER) as r:
            for chunk in r.iter_raw():
                seen.append(chunk)
                if b"event: custom" not in b"".join(seen):
                    continue
                # Ticks are arriving: wait until a flush has put the open stream on disk.
                if _ticks_on_disk(proxy.cassette) >= 2:
                    proxy.process.send_signal(signal.SIGKILL)
                    break
    proxy.process.communicate(timeout=10)
    assert proxy.process.returncode == -signal.SIGKILL

    cassette = Cassette.load(proxy.cassette)
    assert cassette.interactions[0].request.path == "/threads"
    stream = cassette.interactions[1].response.stream
    assert stream is not None and stream.cut_short
    ticks = [item.data["tick"] for item in stream.items if item.event == "custom"]
    assert 2 <= len(ticks) < 6 and ticks == list(range(len(ticks)))
    assert not [p for p in proxy.cassette.parent.iterdir() if p.suffix == ".tmp"]


def _ticks_on_disk(path: Path) -> int:
    if not path.exists():
        return 0
    return path.read_text().count('"event":"custom"')


def test_heartbeats_pass_through_unbuffered(start_proxy: Any) -> None:
    """An upstream that sends a heartbeat, then waits until the client has seen it."""
    import uvicorn

    seen_heartbeat = threading.Event()

    async def upstream(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
            }
        )
        await send(
            {"type": "http.response.body", "body": b": heartbeat\r\n\r\n", "more_body": True}
        )
        import asyncio

        while not seen_heartbeat.is_set():  # only the client seeing it lets the stream go on
            await asyncio.sleep(0.01)
        body = b'event: custom\r\ndata: {"after":"heartbeat"}\r\n\r\n'
        await send({"type": "http.response.body", "body": body})

    server = uvicorn.Server(uvicorn.Config(upstream, port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        proxy = start_proxy(f"http://127.0.0.1:{port}")
        received = b""
        with httpx.stream("GET", f"{proxy.url}/threads/t/stream", timeout=20) as response:
            for chunk in response.iter_raw():
                received += chunk
                if b": heartbeat" in received:
                    seen_heartbeat.set()
        proxy.stop()
    finally:
        seen_heartbeat.set()
        server.should_exit = True
        thread.join(timeout=10)

    assert received.endswith(b'data: {"after":"heartbeat"}\r\n\r\n')
    items = Cassette.load(proxy.cassette).interactions[0].response.stream.items  # type: ignore[union-attr]
    assert [item.comment or item.event for item in items] == [" heartbeat", "custom"]


def test_unreachable_target_answers_502_and_records_nothing(
    start_proxy: Any, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proxy = start_proxy(f"http://127.0.0.1:{port}")
    response = httpx.get(f"{proxy.url}/info", timeout=20)
    proxy.stop()
    assert response.status_code == 502 and "cannot reach" in response.text
    assert not proxy.cassette.exists()
    assert os.listdir(tmp_path) == []


def test_an_open_stream_holding_a_secret_is_flushed_masked(
    langgraph_url: str, start_proxy: Any
) -> None:
    secret = "sk-live-open-stream-0123"
    proxy = start_proxy(langgraph_url, "--secret", secret, "--flush-interval", "0.05")
    body = {
        "assistant_id": "ticker",
        "input": {"ticks": secret},
        "stream_mode": ["values", "custom"],
    }
    with httpx.Client(base_url=proxy.url, timeout=60) as client:
        client.post("/threads", json={})
        with client.stream("POST", "/runs/stream", json=body) as response:
            received = b"".join(response.iter_raw())
    log = proxy.stop()

    assert secret.encode() in received and received.count(b"event: custom") == 6
    assert proxy.process.returncode == 0, log
    assert secret not in proxy.cassette.read_text()
    run = Cassette.load(proxy.cassette).interactions[1]
    assert run.request.json["input"] == {"ticks": "<redacted>"}
    assert run.response.stream is not None
    assert [item.event for item in run.response.stream.items].count("custom") == 6