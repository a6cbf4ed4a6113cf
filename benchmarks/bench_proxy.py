"""The recording proxy's cost: a stream read through `lg-testkit proxy` against the same stream
read directly, from the same loopback uvicorn + Starlette server, in the same run.

    python benchmarks/bench_proxy.py

Measured with a plain httpx client (what any language's client does: read bytes as they come):
time to the first event, and throughput of a 10,000-event stream. Rounds alternate.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

EVENTS = 10_000
ROUNDS = 9
LATENCY_ROUNDS = 21
EVENT = (
    b'event: messages\r\ndata: [{"content":"tok ","type":"AIMessageChunk"},'
    b'{"langgraph_node":"agent"}]\r\n\r\n'
)
METADATA = b'event: metadata\r\ndata: {"run_id":"r","attempt":1}\r\n\r\n'


async def stream(request: Request) -> StreamingResponse:
    count = int(request.query_params.get("events", EVENTS))

    async def events() -> AsyncIterator[bytes]:
        yield METADATA
        for _ in range(count - 1):
            yield EVENT

    return StreamingResponse(events(), media_type="text/event-stream")


APP = Starlette(routes=[Route("/threads/t/runs/stream", stream, methods=["POST"])])


async def read(url: str, events: int) -> tuple[float, float]:
    """(seconds to the first event, seconds to the end)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        start = time.perf_counter()
        first = None
        async with client.stream(
            "POST", f"/threads/t/runs/stream?events={events}", json={"assistant_id": "agent"}
        ) as response:
            async for _ in response.aiter_raw():
                first = first or time.perf_counter() - start
        return first or 0.0, time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.post(f"{url}/threads/t/runs/stream?events=1", json={}, timeout=1).read()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    # Upstream and proxy each run in a process of their own, as they would for a user, so the
    # proxy's writing does not slow the direct reads through this process's GIL.
    up_port, proxy_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    proxied = f"http://127.0.0.1:{proxy_port}"
    with tempfile.TemporaryDirectory() as folder:
        processes = [
            subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port)]),
        ]
        wait_until_up(upstream, processes[0])
        cassette = Path(folder) / "proxy.json"
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lg_testkit",
                    "proxy",
                    "--target",
                    upstream,
                    "--cassette",
                    str(cassette),
                    "--port",
                    str(proxy_port),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        try:
            wait_until_up(proxied, processes[1])
            # Latency first, while the recording is small; then throughput.
            direct_first, proxy_first, direct_all, proxy_all = [], [], [], []
            for round_ in range(LATENCY_ROUNDS + 1):
                d_first, _ = asyncio.run(read(upstream, 2))
                p_first, _ = asyncio.run(read(proxied, 2))
                if round_:  # the first round warms up and is not counted
                    direct_first.append(d_first)
                    proxy_first.append(p_first)
            for round_ in range(ROUNDS + 1):
                _, d_all = asyncio.run(read(upstream, EVENTS))
                _, p_all = asyncio.run(read(proxied, EVENTS))
                if round_:
                    direct_all.append(d_all)
                    proxy_all.append(p_all)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
        size_mb = cassette.stat().st_size / 1e6
    df, pf = statistics.median(direct_first), statistics.median(proxy_first)
    da, pa = statistics.median(direct_all), statistics.median(proxy_all)
    print(
        f"## Recording proxy (loopback, separate processes; medians of {LATENCY_ROUNDS} and "
        f"{ROUNDS} alternating rounds)\n"
    )
    print("| measure | direct | through the proxy | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| first event (ms) | {df * 1000:.2f} | {pf * 1000:.2f} | {pf / df:.2f} |")
    print(
        f"| {EVENTS:,}-event stream (events/s) | {EVENTS / da:,.0f} | {EVENTS / pa:,.0f} | "
        f"{pa / da:.2f} |"
    )
    count = LATENCY_ROUNDS + ROUNDS + 3
    print(f"\nThe cassette the proxy wrote: {size_mb:.1f} MB, {count} interactions.")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--upstream"]:
        import uvicorn

        uvicorn.run(APP, host="127.0.0.1", port=int(sys.argv[2]), log_level="error")
    else:
        main()
