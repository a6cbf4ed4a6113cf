"""Load on the fake server over loopback: concurrent streams, clients that hang up mid-stream.

    python benchmarks/load_fakeserver.py        # stops by itself, prints a markdown table

The server runs in a thread of this process (uvicorn, as `FakeServer.serve()` runs it), the
clients in the main thread. Reported: streams completed, events/s, server errors (uvicorn
error logs and 5xx answers), asyncio tasks left on the server's loop once idle, and the
process's resident memory before, at peak and after.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lg_testkit import FakeServer, ScriptedRun

STREAMS = 500
DISCONNECTS = 1_000
EVENTS = 100
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
            tracked = len(spy.app.conversations.threads)
            spy.app.reset()  # forget the threads handed out, as a server restart would
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
    ok = (
        again["complete"] == STREAMS
        and figures["complete"] == STREAMS
        and errors.count == 0
        and figures["server_5xx"] == 0
    )
    return 0 if ok else 1


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
    sys.exit(main())
