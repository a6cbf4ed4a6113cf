"""Fake server throughput against its floors, measured in the same run.

    python benchmarks/bench_fakeserver.py [--events 10000] [--rounds 5] [--concurrent 200]

A 10,000-event run stream (one event per chunk, shaped like `messages-tuple` events) is read
with `langgraph_sdk` (`client.runs.stream`, events counted) four ways, alternating each round:

    in-process floor   bare `httpx.MockTransport` yielding the same chunks
    in-process         `FakeServer.async_client()` (ASGI app + streaming transport)
    loopback floor     minimal uvicorn + Starlette `StreamingResponse` of the same chunks
    loopback           `FakeServer.serve()`

The best round of each is reported as events/s, and each fake-server figure as a ratio of its
floor's time (1.00 = as fast as the floor). Then `--concurrent` clients stream a 100-event run
at once over loopback from one fake server, each on a thread of its own; errors are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn
from langgraph_sdk.client import LangGraphClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    dumps_compact,
)
from lg_testkit.fakeserver import FakeServer

THREAD = "01a20bc7-4e08-7386-84da-ea9613f4f6b5"
RUN = "01a20bc7-4e0d-7422-b97a-4d8f53681450"
BODY = {
    "input": {},
    "stream_mode": ["messages-tuple"],
    "stream_subgraphs": False,
    "stream_resumable": False,
    "assistant_id": "agent",
}
STREAM_HEADERS = {
    "location": f"/threads/{THREAD}/runs/{RUN}/stream",
    "content-location": f"/threads/{THREAD}/runs/{RUN}",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
    "content-type": "text/event-stream; charset=utf-8",
}
VERBOSE = False
RUN_BODY = {"run_id": RUN, "thread_id": THREAD, "status": "success"}


def chunks_of(events: int) -> list[bytes]:
    out = [
        f"event: metadata\r\ndata: {dumps_compact({'run_id': RUN, 'attempt': 1})}\r\n\r\n".encode()
    ]
    for i in range(events - 1):
        data = [
            {
                "content": f"tok{i} ",
                "type": "AIMessageChunk",
                "id": f"lc_run--{RUN}",
                "tool_calls": [],
                "usage_metadata": None,
            },
            {"langgraph_node": "agent", "langgraph_step": 1, "thread_id": THREAD, "run_id": RUN},
        ]
        out.append(f"event: messages\r\ndata: {dumps_compact(data)}\r\n\r\n".encode())
    return out


def cassette_of(chunks: list[bytes]) -> Cassette:
    stream = RecordedStream.from_chunks((i * 1e-4, chunk) for i, chunk in enumerate(chunks))
    path = f"/threads/{THREAD}/runs"
    return Cassette(
        [
            Interaction(
                RecordedRequest("POST", f"{path}/stream", json=BODY),
                RecordedResponse(200, STREAM_HEADERS, stream=stream),
            ),
            Interaction(
                RecordedRequest("GET", f"{path}/{RUN}"),
                RecordedResponse(200, {"content-type": "application/json"}, json=RUN_BODY),
            ),
        ]
    )


async def consume(client: LangGraphClient) -> int:
    count = 0
    async for _ in client.runs.stream(THREAD, "agent", input={}, stream_mode="messages-tuple"):
        count += 1
    return count


async def timed(client: LangGraphClient, expected: int) -> float:
    started = time.perf_counter()
    count = await consume(client)
    elapsed = time.perf_counter() - started
    assert count == expected, f"saw {count} events, expected {expected}"
    return elapsed


def mock_floor(chunks: list[bytes]) -> LangGraphClient:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=RUN_BODY)
        return httpx.Response(200, headers=STREAM_HEADERS, content=body())

    transport = httpx.MockTransport(handler)
    return LangGraphClient(httpx.AsyncClient(base_url="http://floor", transport=transport))


def starlette_floor(chunks: list[bytes]) -> Starlette:
    async def stream(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return StreamingResponse(body(), headers=STREAM_HEADERS)

    async def run(request: Request) -> JSONResponse:
        return JSONResponse(RUN_BODY)

    async def create(request: Request) -> JSONResponse:
        return JSONResponse({"thread_id": THREAD, "metadata": {}, "status": "idle"})

    return Starlette(
        routes=[
            Route("/threads", create, methods=["POST"]),
            Route("/threads/{tid}/runs/stream", stream, methods=["POST"]),
            Route("/threads/{tid}/runs/{rid}", run, methods=["GET"]),
        ]
    )


@contextlib.contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """The same uvicorn settings the fake server uses, on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def http_client(url: str) -> LangGraphClient:
    return LangGraphClient(httpx.AsyncClient(base_url=url, timeout=None))


async def concurrent(url: str, clients: int, events: int) -> tuple[float, int]:

    async def one(client: LangGraphClient) -> int:
        tid = (await client.threads.create())["thread_id"]
        return sum(
            [
                1
                async for _ in client.runs.stream(
                    tid, "agent", input={}, stream_mode="messages-tuple"
                )
            ]
        )

    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        client = LangGraphClient(http)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(one(client) for _ in range(clients)), return_exceptions=True
        )
        elapsed = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException) or r != events]
    for failure in failed[:3]:
        print(f"error: {failure!r}")
    return elapsed, len(failed)


def concurrent_cassette(events: int) -> Cassette:
    cassette = cassette_of(chunks_of(events))
    create = Interaction(
        RecordedRequest("POST", "/threads", json={}),
        RecordedResponse(
            200,
            {"content-type": "application/json"},
            json={"thread_id": THREAD, "metadata": {}, "status": "idle"},
        ),
    )
    cassette.interactions.insert(0, create)
    return cassette


async def main(events: int, rounds: int, clients: int) -> None:
    chunks = chunks_of(events)
    server = FakeServer([cassette_of(chunks)])
    fake_in_process = server.async_client()
    floor_in_process = mock_floor(chunks)
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        if VERBOSE:
            print(name, f"{seconds * 1000:.0f} ms")
        best[name] = min(best.get(name, seconds), seconds)

    with uvicorn_serving(starlette_floor(chunks)) as floor_url, server.serve() as fake_url:
        floor_http, fake_http = http_client(floor_url), http_client(fake_url)
        for _ in range(rounds):  # alternate, so drift in machine load hits every figure alike
            keep("in-process floor", await timed(floor_in_process, events))
            server.reset()
            keep("in-process", await timed(fake_in_process, events))
            keep("loopback floor", await timed(floor_http, events))
            server.reset()
            keep("loopback", await timed(fake_http, events))
        await floor_http.aclose()
        await fake_http.aclose()
    await fake_in_process.aclose()
    await floor_in_process.aclose()

    many = FakeServer([concurrent_cassette(100)])
    with uvicorn_serving(starlette_floor(chunks_of(100))) as url:
        floor_elapsed, floor_errors = await concurrent(url, clients, 100)
    with many.serve() as url:
        elapsed, errors = await concurrent(url, clients, 100)

    print(
        f"{events:,}-event stream, best of {rounds} alternating rounds, read with langgraph_sdk\n"
    )
    print("| path | events/s | time | vs floor |")
    print("|---|---:|---:|---:|")
    for name, floor in [
        ("in-process floor", None),
        ("in-process", "in-process floor"),
        ("loopback floor", None),
        ("loopback", "loopback floor"),
    ]:
        seconds = best[name]
        ratio = f"{seconds / best[floor]:.2f}x" if floor else "1.00x (floor)"
        print(f"| {name} | {events / seconds:,.0f} | {seconds * 1000:.0f} ms | {ratio} |")
    print(
        f"\n{clients} concurrent loopback clients, each creating a thread and streaming "
        "100 events:\n"
    )
    print("| server | time | events/s in total | errors |")
    print("|---|---:|---:|---:|")
    for name, seconds, failed in [
        ("uvicorn + Starlette floor", floor_elapsed, floor_errors),
        ("fake server", elapsed, errors),
    ]:
        print(f"| {name} | {seconds:.2f} s | {clients * 100 / seconds:,.0f} | {failed} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds, args.concurrent))
