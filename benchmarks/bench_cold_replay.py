"""Cold and warm replay as a test pays it: load the cassette file, then stream it into the SDK.

    python benchmarks/bench_cold_replay.py [--big]

For a 10,000-event `messages-tuple` stream and a realistic 200-event one, each written to a
cassette file first, the async langgraph_sdk client reads the whole run through:

    floor         the same SSE bytes read from a file, one chunk per event as the server sent
                  them, through a bare `httpx.MockTransport` (the SDK with no lg-testkit)
    marker, cold  `CassetteSession(path)` (what the marker and `use_cassette` do) + stream
    fake, cold    `FakeServer.from_path(path)` + `async_client()` + stream
    fake, warm    one more consumer of an already loaded `FakeServer`

Rounds alternate (rounds.py: each case's ratio is taken against the floor of its own round, from
a collected heap; the median over rounds is reported); a 200-event round runs each case 20 times.
Also: how long `import lg_testkit.plugin` adds to a Python start (what every pytest run of a
downstream project pays), and with `--big`, the time and peak memory to load a 300 MB cassette.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from langgraph_sdk.client import LangGraphClient
from rounds import alternate

from lg_testkit import Cassette, CassetteSession, FakeServer, RecordedStream
from lg_testkit.cassette import Interaction, RecordedRequest, RecordedResponse

ROUNDS = 15
HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
THREAD = "1f0a7b7e-0000-7000-8000-000000000001"
RUN = "1f0a7b7e-0000-7000-8000-000000000002"
BODY = {"assistant_id": "agent", "input": {"messages": []}, "stream_mode": ["messages-tuple"]}


def token_stream(events: int) -> RecordedStream:
    """A messages-tuple stream shaped like a real agent's tokens, one chunk per event."""
    metadata = {
        "langgraph_node": "agent",
        "langgraph_step": 1,
        "langgraph_triggers": ["branch:to:agent"],
        "langgraph_checkpoint_ns": "agent:1f0a7b7e-0000-7000-8000-000000000003",
        "checkpoint_ns": "agent:1f0a7b7e-0000-7000-8000-000000000003",
        "thread_id": THREAD,
        "run_id": RUN,
        "ls_provider": "fake",
        "ls_model_type": "chat",
    }
    chunks = [f'event: metadata\r\ndata: {{"run_id":"{RUN}","attempt":1}}\r\n\r\n'.encode()]
    for i in range(events - 1):
        token = {
            "content": f"tok{i} ",
            "additional_kwargs": {},
            "response_metadata": {},
            "type": "AIMessageChunk",
            "name": None,
            "id": "lc_run--1f0a7b7e-0000-7000-8000-000000000004",
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": None,
            "tool_call_chunks": [],
        }
        data = json.dumps([token, metadata], separators=(",", ":"))
        chunks.append(f"event: messages\r\ndata: {data}\r\n\r\n".encode())
    return RecordedStream.from_chunks((i * 0.001, chunk) for i, chunk in enumerate(chunks))


def write_cassette(folder: Path, events: int) -> tuple[Path, Path]:
    """The cassette, and the same stream's bytes as a plain file (the floor's input)."""
    stream = token_stream(events)
    created = Interaction(
        RecordedRequest("POST", "/threads", json={}),
        RecordedResponse(200, {"content-type": "application/json"}, json={"thread_id": THREAD}),
    )
    run = Interaction(
        RecordedRequest("POST", f"/threads/{THREAD}/runs/stream", json=BODY),
        RecordedResponse(200, dict(HEADERS), stream=stream),
    )
    path = folder / f"tokens-{events}.json"
    Cassette([created, run]).save(path)
    raw = folder / f"tokens-{events}.sse"
    raw.write_bytes(b"".join(stream.encode()))
    return path, raw


async def consume(client: LangGraphClient) -> int:
    thread = await client.threads.create()
    count = 0
    async for _ in client.runs.stream(thread["thread_id"], "agent", **_call()):
        count += 1
    return count


def _call() -> dict[str, object]:
    return {"input": BODY["input"], "stream_mode": BODY["stream_mode"]}


class Pieces(httpx.AsyncByteStream):
    """The bytes one event per chunk, as a live server sends them (and the cassette holds)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for piece in self.pieces:
            yield piece


def floor_client(raw: Path) -> LangGraphClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/threads":
            return httpx.Response(200, json={"thread_id": THREAD})
        blob = raw.read_bytes()
        pieces = [piece + b"\r\n\r\n" for piece in blob.split(b"\r\n\r\n")[:-1]]
        return httpx.Response(200, headers=HEADERS, stream=Pieces(pieces))

    return LangGraphClient(
        httpx.AsyncClient(base_url="http://floor", transport=httpx.MockTransport(handler))
    )


async def floor(path: Path, raw: Path) -> int:
    return await consume(floor_client(raw))


async def marker_cold(path: Path, raw: Path) -> int:
    session = CassetteSession(path, "none")
    http = httpx.AsyncClient(base_url="http://lg", transport=session.async_transport())
    return await consume(LangGraphClient(http))


async def fake_cold(path: Path, raw: Path) -> int:
    return await consume(FakeServer.from_path(path).async_client())


def fake_warm_case() -> Callable[[Path, Path], Awaitable[int]]:
    servers: dict[Path, FakeServer] = {}

    async def fake_warm(path: Path, raw: Path) -> int:
        if path not in servers:
            servers[path] = FakeServer.from_path(path)
            await consume(servers[path].async_client())  # the first consumer loads and plays
        return await consume(servers[path].async_client())

    return fake_warm


def measure(path: Path, raw: Path, events: int) -> list[tuple[str, float, float]]:
    cases: dict[str, Callable[[Path, Path], Awaitable[int]]] = {
        "floor: SSE bytes from a file via MockTransport": floor,
        "marker / use_cassette, cold (load + stream)": marker_cold,
        "FakeServer.from_path, cold (load + stream)": fake_cold,
        "FakeServer, warm (another consumer)": fake_warm_case(),
    }

    def check(name: str, count: int) -> None:
        assert count == events, (name, count)

    runs = {name: functools.partial(case, path, raw) for name, case in cases.items()}
    repeat = max(1, 4000 // events)  # a short stream is timed over several runs: less noise
    return alternate(runs, ROUNDS, check, repeat)


def import_cost() -> tuple[float, float]:
    """Median seconds of `python -c 'import pytest'` and of the same plus the plugin."""

    def run(code: str) -> float:
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    return run("import pytest"), run("import pytest, lg_testkit.plugin")


def big_load(folder: Path) -> str:
    """Load a ~300 MB cassette in a fresh process: seconds and peak RSS. The peak is the child's
    own VmHWM: `ru_maxrss` would count the parent's memory, which a fork carries across exec."""
    events = 450_000  # about 300 MB of cassette with the token shape above
    path, _ = write_cassette(folder, events)
    size = path.stat().st_size / 1e6
    code = (
        "import re, time, sys; from lg_testkit import Cassette; t = time.perf_counter(); "
        "Cassette.load(sys.argv[1]); seconds = time.perf_counter() - t; "
        "status = open('/proc/self/status').read(); "
        "print(seconds, re.search(r'VmHWM:\\s+(\\d+) kB', status)[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    seconds, peak_kb = out.stdout.split()
    return (
        f"Loading a {size:.0f} MB cassette ({events:,} events): {float(seconds):.1f} s, "
        f"peak RSS {int(peak_kb) / 1e6:.2f} GB."
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for events in (10_000, 200):
            path, raw = write_cassette(folder, events)
            size = path.stat().st_size / 1e6
            print(f"**{events:,} events** ({size:.2f} MB cassette), median of {ROUNDS} rounds:\n")
            print("| path | seconds | ratio to floor |")
            print("|---|---:|---:|")
            for name, seconds, ratio in measure(path, raw, events):
                print(f"| {name} | {seconds:.4f} | {ratio:.2f}x |")
            print()
        bare, plugin = import_cost()
        print(
            f"`import lg_testkit.plugin` adds {plugin - bare:.3f} s to a Python start "
            f"({bare:.3f} s with pytest alone, {plugin:.3f} s with the plugin).\n"
        )
        if "--big" in sys.argv:
            print(big_load(folder))


if __name__ == "__main__":
    main()
