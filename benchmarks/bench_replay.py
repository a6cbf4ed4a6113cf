"""Replay throughput and recorder latency, each as a ratio to a floor measured in the same run.

    python benchmarks/bench_replay.py

1. Replay: a 10,000-event `messages-tuple` stream into the async langgraph_sdk client through
   lg-testkit's in-process replay transport, against the floor of the same chunks served by a bare
   `httpx.MockTransport` into the same client. Rounds alternate so drift hits both alike.
2. Recorder: time to the first event of a stream from a loopback uvicorn server, through the
   recording transport against a direct call (median of alternating rounds).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from lg_testkit import AsyncRecordingTransport, Cassette, RecordedStream
from lg_testkit.cassette import Interaction, RecordedRequest, RecordedResponse, dumps_compact
from lg_testkit.replay import AsyncReplayTransport
from lg_testkit.serving import serve_in_thread

EVENTS = 10_000
ROUNDS = 7
HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
BODY = {"assistant_id": "agent", "input": {}, "stream_mode": ["messages-tuple"]}


def token_stream(events: int) -> RecordedStream:
    """A messages-tuple stream shaped like the demo agent's tokens, one chunk per event."""
    metadata = {
        "langgraph_node": "agent",
        "langgraph_step": 1,
        "thread_id": "t",
        "ls_provider": "fake",
    }
    chunks = [b'event: metadata\r\ndata: {"run_id":"r","attempt":1}\r\n\r\n']
    for i in range(events - 1):
        token = {
            "content": f"tok{i} ",
            "type": "AIMessageChunk",
            "id": "lc_run--1",
            "tool_call_chunks": [],
        }
        data = dumps_compact([token, metadata])
        chunks.append(f"event: messages\r\ndata: {data}\r\n\r\n".encode())
    return RecordedStream.from_chunks((0.0, chunk) for chunk in chunks)


def cassette_for(stream: RecordedStream) -> Cassette:
    request = RecordedRequest("POST", "/threads/t/runs/stream", json=BODY)
    return Cassette([Interaction(request, RecordedResponse(200, HEADERS, stream=stream))])


async def consume(transport: httpx.AsyncBaseTransport) -> int:
    async with httpx.AsyncClient(transport=transport, base_url="http://lg") as http:
        client = LangGraphClient(http)
        count = 0
        async for _ in client.runs.stream("t", "agent", input={}, stream_mode=["messages-tuple"]):
            count += 1
        return count


async def replay_vs_floor() -> dict[str, float]:
    stream = token_stream(EVENTS)
    chunks = stream.encode()
    cassette = cassette_for(stream)

    async def floor_handler(request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return httpx.Response(200, headers=HEADERS, content=body())

    async def timed(make: Any) -> float:
        start = time.perf_counter()
        assert await consume(make()) == EVENTS
        return time.perf_counter() - start

    floor_times, replay_times = [], []
    for round_ in range(ROUNDS + 1):
        floor = await timed(lambda: httpx.MockTransport(floor_handler))
        replay = await timed(lambda: AsyncReplayTransport(cassette))
        if round_:  # the first round warms caches and is not counted
            floor_times.append(floor)
            replay_times.append(replay)
    floor_s, replay_s = statistics.median(floor_times), statistics.median(replay_times)
    return {
        "floor_eps": EVENTS / floor_s,
        "replay_eps": EVENTS / replay_s,
        "ratio": replay_s / floor_s,
    }


async def _events(request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        yield b'event: metadata\r\ndata: {"run_id":"r","attempt":1}\r\n\r\n'
        for i in range(20):
            yield f'event: values\r\ndata: {{"i":{i}}}\r\n\r\n'.encode()

    return StreamingResponse(events(), media_type="text/event-stream")


LOOPBACK_APP = Starlette(routes=[Route("/threads/t/runs/stream", _events, methods=["POST"])])


async def first_event_latency(url: str, record: bool) -> float:
    transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
    if record:
        transport = AsyncRecordingTransport(transport)
    async with httpx.AsyncClient(transport=transport, base_url=url) as http:
        client = LangGraphClient(http)
        start = time.perf_counter()
        async for _ in client.runs.stream("t", "agent", input={}):
            latency = time.perf_counter() - start
            break
        return latency


async def recorder_latency(url: str, rounds: int = 41) -> dict[str, float]:
    direct, recorded = [], []
    for _ in range(rounds):
        direct.append(await first_event_latency(url, record=False))
        recorded.append(await first_event_latency(url, record=True))
    d, r = statistics.median(direct), statistics.median(recorded)
    return {"direct_ms": d * 1000, "recorded_ms": r * 1000, "added_ms": (r - d) * 1000}


def main() -> None:
    replay = asyncio.run(replay_vs_floor())
    with serve_in_thread(LOOPBACK_APP) as url:
        latency = asyncio.run(recorder_latency(url))
    print(f"## Replay ({EVENTS:,}-event messages-tuple stream, async SDK, median of {ROUNDS})\n")
    print("| path | events/s | ratio to floor |")
    print("|---|---:|---:|")
    print(f"| floor: bare httpx.MockTransport | {replay['floor_eps']:,.0f} | 1.00 |")
    print(
        f"| lg-testkit AsyncReplayTransport | {replay['replay_eps']:,.0f} | {replay['ratio']:.2f} |"
    )
    print("\n## Recorder first-event latency (loopback uvicorn, median of 41)\n")
    print("| path | first event (ms) |")
    print("|---|---:|")
    print(f"| direct | {latency['direct_ms']:.2f} |")
    print(f"| through AsyncRecordingTransport | {latency['recorded_ms']:.2f} |")
    print(f"| added by the recorder | {latency['added_ms']:.2f} |")


if __name__ == "__main__":
    main()
