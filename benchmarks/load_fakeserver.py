"""Load on the fake server over loopback: concurrent streams, clients that hang up mid-stream.

    python benchmarks/load_fakeserver.py        # stops by itself, prints markdown tables

The server runs in a thread of this process (uvicorn, as `FakeServer.serve()` runs it), the
clients in the main thread. Reported: streams completed, events/s, server errors (uvicorn
error logs and 5xx answers), asyncio tasks left on the server's loop once idle, and the
process's resident memory before, at peak and after.

Then clients that hang up while the server still has a long way to go: HANG_UPS clients each
open a run stream that lasts a minute at recorded timing (`--speed 1`), or one stalled for ten
minutes with heartbeats (`--stall 1:600 --heartbeat 0.05`), read its first chunk, and all hang
up together. Each case runs in a fresh process. Reported: the server loop's asyncio tasks, the
process's memory (RSS, and live Python memory blocks) and CPU before, while they are connected,
and after they hung up: a server that did not notice them would keep a task per client (and
keep sending heartbeats) for the stream's whole length.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lg_testkit import FakeServer, ScriptedRun
from lg_testkit.replay.faults import Faults

STREAMS = 500
DISCONNECTS = 1_000
EVENTS = 100
HANG_UPS = 1_000
LONG_EVENTS, LONG_INTERVAL = 600, 0.1  # a one-minute stream at recorded timing
QUESTION = {"messages": [{"role": "human", "content": "load"}]}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class LoopSpy:
    """Wraps the app to learn the server's event loop, so its tasks can be counted."""

    def __init__(self, app: Any) -> None:
        self.app, self.loop = app, None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


def cassette(folder: Path) -> Path:
    run = ScriptedRun(input=QUESTION, stream_mode="custom", interval=0.002)
    for i in range(EVENTS - 1):
        run.custom({"i": i})
    return run.save(folder / "load.json")


async def full_stream(client: httpx.AsyncClient, thread_id: str) -> tuple[int, int]:
    body = {"assistant_id": "agent", "input": QUESTION, "stream_mode": ["custom"]}
    events = 0
    async with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        async for line in response.aiter_lines():
            events += line.startswith("event:")
        return response.status_code, events


async def hang_up(client: httpx.AsyncClient, thread_id: str) -> int:
    body = {"assistant_id": "agent", "input": QUESTION, "stream_mode": ["custom"]}
    async with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        async for _ in response.aiter_raw():
            break  # the consumer goes away after its first chunk
        return response.status_code


async def new_thread(client: httpx.AsyncClient) -> str:
    return str((await client.post("/threads", json={})).json()["thread_id"])


async def load(url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        threads = await asyncio.gather(*(new_thread(client) for _ in range(STREAMS)))
        start = time.perf_counter()
        results = await asyncio.gather(*(full_stream(client, t) for t in threads))
        elapsed = time.perf_counter() - start
        peak = rss_mb()
        threads = await asyncio.gather(*(new_thread(client) for _ in range(DISCONNECTS)))
        hung_up = await asyncio.gather(*(hang_up(client, t) for t in threads))
    return {
        "complete": sum(1 for status, events in results if status == 200 and events == EVENTS),
        "server_5xx": sum(status >= 500 for status, _ in results) + sum(s >= 500 for s in hung_up),
        "events_per_s": sum(events for _, events in results) / elapsed,
        "seconds": elapsed,
        "peak_mb": peak,
    }


def main() -> int:
    errors = ErrorCounter()
    for name in ("uvicorn.error", "uvicorn", "lg_testkit"):
        logging.getLogger(name).addHandler(errors)
    with tempfile.TemporaryDirectory() as folder:
        server = FakeServer.from_path(cassette(Path(folder)), speed=1.0)
        spy = LoopSpy(server.app)
        server.app = spy  # type: ignore[assignment]
        gc.collect()
        baseline, blocks_before = rss_mb(), sys.getallocatedblocks()
        with server.serve() as url:
            figures = load_in_fresh_loop(url)
            time.sleep(1.0)  # let the server notice the last disconnects
            tasks = count_tasks(spy.loop)
            gc.collect()
            after, blocks_after = rss_mb(), sys.getallocatedblocks()
            again = load_in_fresh_loop(url)  # a second round: a leak would grow again
            time.sleep(1.0)
            gc.collect()
            after_again, blocks_again = rss_mb(), sys.getallocatedblocks()
            tracked = len(server.engine.threads)
            server.reset()  # forget the threads handed out, as a server restart would
            gc.collect()
            after_reset, blocks_reset = rss_mb(), sys.getallocatedblocks()
    print(
        f"## Fake server under load ({STREAMS} concurrent streams of {EVENTS} events, "
        f"then {DISCONNECTS} clients hanging up mid-stream; loopback)\n"
    )
    print("| measure | value |")
    print("|---|---:|")
    print(f"| streams complete | {figures['complete']} / {STREAMS} |")
    print(f"| events/s while {STREAMS} streams ran | {figures['events_per_s']:,.0f} |")
    print(f"| server errors (logged, 5xx) | {errors.count}, {figures['server_5xx']} |")
    print(f"| tasks left on the server loop when idle | {tasks} |")
    print(
        f"| memory: baseline, peak, after (MB RSS, whole process) | "
        f"{baseline:.0f}, {figures['peak_mb']:.0f}, {after:.0f} |"
    )
    print(f"| memory after a second identical round (MB RSS) | {after_again:.0f} |")
    print(
        f"| live Python memory blocks: baseline, after, after the second round | "
        f"{blocks_before:,}, {blocks_after:,}, {blocks_again:,} |"
    )
    print(
        f"| after `reset()` (threads forgotten): MB RSS, live blocks | "
        f"{after_reset:.0f}, {blocks_reset:,} |"
    )
    print(f"| threads the server tracks | {tracked} |")
    cases = [(label, hang_up_case_in_fresh_process(name)) for name, label in HANG_UP_CASES.items()]
    print_hang_ups(cases)
    ok = (
        again["complete"] == STREAMS
        and figures["complete"] == STREAMS
        and errors.count == 0
        and figures["server_5xx"] == 0
        and all(
            f["connected"] == HANG_UPS
            and f["all_200"]
            and f["tasks_after"] == 0
            and f["still_streaming"]
            for _, f in cases
        )
    )
    return 0 if ok else 1


def long_cassette(folder: Path) -> Path:
    run = ScriptedRun(input=QUESTION, stream_mode="custom", interval=LONG_INTERVAL)
    for i in range(LONG_EVENTS - 1):
        run.custom({"i": i})
    return run.save(folder / "long.json")


async def connect_then_hang_up(
    client: httpx.AsyncClient, thread_id: str, connected: list[int], go: asyncio.Event
) -> int:
    body = {"assistant_id": "agent", "input": QUESTION, "stream_mode": ["custom"]}
    async with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        chunks = response.aiter_raw()  # kept: a generator left behind would close the response
        await anext(chunks)  # the first chunk arrived: this client is being served
        connected.append(response.status_code)
        await go.wait()  # then every client hangs up at once
        return response.status_code


def hang_up_case(path: Path, **options: Any) -> dict[str, Any]:
    """HANG_UPS clients on streams that last long; figures before, connected, after."""
    server = FakeServer.from_path(path, speed=1.0, **options)
    spy = LoopSpy(server.app)
    server.app = spy  # type: ignore[assignment]
    out: dict[str, Any] = {}
    with server.serve() as url:
        asyncio.run(_warm_up(url))
        time.sleep(0.5)
        gc.collect()
        out["tasks_before"], out["mb_before"] = count_tasks(spy.loop), rss_mb()
        out["blocks_before"] = sys.getallocatedblocks()

        async def run() -> None:
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
                threads = await asyncio.gather(*(new_thread(client) for _ in range(HANG_UPS)))
                out["streams_started"] = time.monotonic()
                connected: list[int] = []
                go = asyncio.Event()
                clients = [
                    asyncio.create_task(connect_then_hang_up(client, t, connected, go))
                    for t in threads
                ]
                while len(connected) < HANG_UPS and not any(c.done() for c in clients):
                    await asyncio.sleep(0.05)
                out["connected"] = len(connected)
                out["tasks_connected"] = await asyncio.to_thread(count_tasks, spy.loop)
                out["mb_connected"] = rss_mb()
                out["blocks_connected"] = sys.getallocatedblocks()
                go.set()
                out["statuses"] = await asyncio.gather(*clients)

        asyncio.run(run())
        time.sleep(1.0)
        out["tasks_1s"] = count_tasks(spy.loop)
        cpu = time.process_time()
        time.sleep(5.0)  # nothing connected: whatever runs now is the server's own doing
        out["cpu_after"] = (time.process_time() - cpu) / 5.0
        gc.collect()
        out["tasks_after"], out["mb_after"] = count_tasks(spy.loop), rss_mb()
        out["blocks_after"] = sys.getallocatedblocks()
        server.reset()  # forget the threads handed out (about 24 blocks each)
        gc.collect()
        out["blocks_reset"] = sys.getallocatedblocks()
        # the recorded streams had not ended when the tasks were counted
        elapsed = time.monotonic() - out["streams_started"]
        out["still_streaming"] = elapsed < LONG_EVENTS * LONG_INTERVAL
    return out


async def _warm_up(url: str) -> None:
    """One thread and request first, so the baseline has the imports and caches."""
    async with httpx.AsyncClient(base_url=url) as client:
        await new_thread(client)


def print_hang_ups(cases: list[tuple[str, dict[str, Any]]]) -> None:
    print(
        f"\n## {HANG_UPS:,} clients hanging up mid-stream while the server still has a long "
        "way to go (loopback)\n"
    )
    print(
        "| case | connected | server loop tasks: before, connected, 1 s after, 6 s after | "
        "MB RSS: before, connected, after | live memory blocks: before, connected, after, "
        "after `reset()` | CPU after (share of a core) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, f in cases:
        print(
            f"| {label} | {f['connected']:,} / {HANG_UPS:,} | {f['tasks_before']}, "
            f"{f['tasks_connected']:,}, {f['tasks_1s']}, {f['tasks_after']} | "
            f"{f['mb_before']:.0f}, {f['mb_connected']:.0f}, {f['mb_after']:.0f} | "
            f"{f['blocks_before']:,}, {f['blocks_connected']:,}, {f['blocks_after']:,}, "
            f"{f['blocks_reset']:,} | {f['cpu_after']:.1%} |"
        )


HANG_UP_CASES = {
    "speed": "a one-minute stream at recorded timing (`--speed 1`)",
    "stall": "a stream stalled ten minutes with heartbeats (`--stall 1:600 --heartbeat 0.05`)",
}


def run_hang_up_case(name: str) -> dict[str, Any]:
    """One case, in this process: the figures as JSON on stdout."""
    options = {"faults": Faults(stall=(1, 600.0), heartbeat=0.05)} if name == "stall" else {}
    with tempfile.TemporaryDirectory() as folder:
        figures = hang_up_case(long_cassette(Path(folder)), **options)
    figures["all_200"] = all(status == 200 for status in figures.pop("statuses"))
    return figures


def hang_up_case_in_fresh_process(name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--hang-up-case", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def load_in_fresh_loop(url: str) -> dict[str, Any]:
    return asyncio.run(load(url))


def count_tasks(loop: asyncio.AbstractEventLoop | None) -> int:
    if loop is None:
        return -1
    future = asyncio.run_coroutine_threadsafe(_tasks_now(), loop)
    return future.result(timeout=5)


async def _tasks_now() -> int:
    current = asyncio.current_task()
    # uvicorn's own main loop task stays; everything else would be a leak
    return sum(1 for task in asyncio.all_tasks() if task is not current) - 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hang-up-case"]:
        print(json.dumps(run_hang_up_case(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
