"""Replay of the thread-centric protocol: a 10,000-token run read into `thread.messages`.

    python benchmarks/bench_thread_protocol.py

The async langgraph_sdk client opens `client.threads.stream(...)`, starts a run and reads the
token text of its one message through `thread.messages` (the SDK's lifecycle watcher and its
shared stream: two concurrent subscriptions, as live). The run, shaped like langgraph-api
0.16.7's (lifecycle, message-start, content-block-start, 10,000 content-block-delta,
content-block-finish, message-finish, values, completed), is in a cassette file.

    floor         the same SSE bytes, one chunk per event, each subscription filtered as the
                  server does, from a bare `httpx.MockTransport` (the SDK with no lg-testkit)
    marker, cold  `CassetteSession(path)` (what the marker and `use_cassette` do): load the
                  cassette and replay (a sealed file is not validated again)
    fake, warm    one more consumer of an already loaded `FakeServer` (in-process transport)

Rounds alternate (rounds.py: each case's ratio is taken against the floor of its own round, from
a collected heap; the median over rounds is reported).
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from rounds import alternate

from lg_testkit import Cassette, CassetteSession, FakeServer
from lg_testkit.protocol import matches_filter
from lg_testkit.threadlog import ProtocolCommand, ProtocolEvent, ProtocolThread

ROUNDS = 11
TOKENS = 10_000
THREAD = "1f0a7b7e-0000-4000-8000-000000000001"
RUN = "01a2122f-76a6-72d4-ac1e-77c58742f045"
MESSAGE = "lc_run--01a2122f-7a53-756e-b90a-c2ed1c977af0"
QUESTION = {"messages": [{"role": "human", "content": "write a long story"}]}
STREAM_HEADERS = {"cache-control": "no-store", "content-type": "text/event-stream; charset=utf-8"}
START = {"id": 1, "method": "run.start", "params": {"assistant_id": "agent", "input": QUESTION}}
REPLY = {"type": "success", "id": 1, "result": {"run_id": RUN}, "meta": {"applied_through_seq": 0}}


def envelopes(tokens: int) -> list[dict[str, Any]]:
    """The run's events as langgraph-api sends them."""
    out: list[dict[str, Any]] = []

    def add(method: str, data: Any, event_id: str | None = None) -> None:
        seq = len(out) + 1
        out.append(
            {
                "type": "event",
                "event_id": event_id or f"1795601431{seq:06d}-0",
                "seq": seq,
                "method": method,
                "params": {"namespace": [], "timestamp": 1795601431000 + seq, "data": data},
            }
        )

    add("lifecycle", {"event": "running", "graph_name": "agent"}, f"synth:{RUN}:lc||running")
    add("messages", {"event": "message-start", "role": "ai", "id": MESSAGE})
    add(
        "messages",
        {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}},
    )
    for i in range(tokens):
        add(
            "messages",
            {
                "event": "content-block-delta",
                "index": 0,
                "delta": {"type": "text-delta", "text": f"tok{i} "},
            },
        )
    text = "".join(f"tok{i} " for i in range(tokens))
    add(
        "messages",
        {"event": "content-block-finish", "index": 0, "content": {"type": "text", "text": text}},
    )
    add("messages", {"event": "message-finish"})
    answer = {"type": "ai", "content": [{"type": "text", "text": text}], "id": MESSAGE}
    add("values", {"messages": [{"type": "human", "content": "write a long story"}, answer]})
    add("lifecycle", {"event": "completed", "graph_name": "agent"}, f"synth:{RUN}:lc||completed")
    return out


def write_cassette(folder: Path) -> tuple[Path, list[dict[str, Any]]]:
    events = envelopes(TOKENS)
    thread = ProtocolThread(THREAD, stream_headers=dict(STREAM_HEADERS))
    thread.commands.append(ProtocolCommand(0.0, START, 200, REPLY))
    thread.events = [ProtocolEvent(0.5 + n * 0.001, 0, e, 2) for n, e in enumerate(events)]
    path = folder / "thread-tokens.json"
    Cassette([], threads=[thread]).save(path)
    return path, events


async def consume(client: LangGraphClient) -> int:
    """What a caller does: the token text of every message of a run."""
    async with client.threads.stream(assistant_id="agent") as thread:
        await thread.run.start(input=QUESTION)
        # a projection feeds the message streams it yields while it is iterated: read their
        # text after the loop
        messages = [message async for message in thread.messages]
        texts = [str(await message.text) for message in messages]
    assert len(texts) == 1
    return texts[0].count(" ")


class Pieces(httpx.AsyncByteStream):
    """One chunk per event, as a live server sends them; then the stream ends (the SDK closes
    its streams itself after the run's `completed`)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def floor_case(events: list[dict[str, Any]]) -> Callable[[Path], Awaitable[int]]:
    def block(e: dict[str, Any]) -> bytes:
        data = json.dumps(e, separators=(",", ":"))
        return f"event: {e['method']}\r\ndata: {data}\r\nid: {e['seq']}\r\n\r\n".encode()

    blocks = [(e, block(e)) for e in events]
    reply = json.dumps(REPLY).encode()
    served: dict[str, list[bytes]] = {}  # each filter's bytes, made once as a server keeps them

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/commands"):
            return httpx.Response(200, content=reply, headers={"content-type": "application/json"})
        body = request.content.decode()
        if body not in served:
            wanted = json.loads(body)
            served[body] = [block for e, block in blocks if matches_filter(e, wanted)]
        return httpx.Response(200, headers=STREAM_HEADERS, stream=Pieces(served[body]))

    async def floor(path: Path) -> int:
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(base_url="http://floor", transport=transport) as http:
            return await consume(LangGraphClient(http))

    return floor


async def marker_cold(path: Path) -> int:
    session = CassetteSession(path, "none")
    transport = session.async_transport()
    async with httpx.AsyncClient(base_url="http://lg", transport=transport) as http:
        return await consume(LangGraphClient(http))


def fake_warm_case() -> Callable[[Path], Awaitable[int]]:
    servers: dict[Path, FakeServer] = {}

    async def fake_warm(path: Path) -> int:
        if path not in servers:
            servers[path] = FakeServer.from_path(path)
            await consume(servers[path].async_client())  # the first consumer loads and checks
        return await consume(servers[path].async_client())

    return fake_warm


def measure(path: Path, events: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    cases: dict[str, Callable[[Path], Awaitable[int]]] = {
        "floor: the same SSE bytes via `httpx.MockTransport`": floor_case(events),
        "marker / `use_cassette`, cold (load + replay)": marker_cold,
        "`FakeServer`, warm (another consumer)": fake_warm_case(),
    }

    def check(name: str, tokens: int) -> None:
        assert tokens == TOKENS, (name, tokens)

    runs = {name: functools.partial(case, path) for name, case in cases.items()}
    return alternate(runs, ROUNDS, check)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, events = write_cassette(Path(tmp))
        size = path.stat().st_size / 1e6
        print(
            f"**A {TOKENS:,}-token run into `thread.messages`** ({len(events):,} events, "
            f"{size:.2f} MB cassette), async SDK, median of {ROUNDS} rounds:\n"
        )
        print("| path | seconds | ratio to floor |")
        print("|---|---:|---:|")
        for name, seconds, ratio in measure(path, events):
            print(f"| {name} | {seconds:.3f} | {ratio:.2f}x |")
        print()


if __name__ == "__main__":
    main()
