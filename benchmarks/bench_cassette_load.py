"""Cold cassette load: the time and memory `Cassette.load` costs before a replay can start.

    python benchmarks/bench_cassette_load.py [--events 10000] [--rounds 7]
    python benchmarks/bench_cassette_load.py --megabytes 300 [--shape recorded]

Writes a cassette with one `messages-tuple` run stream of `--events` events shaped like a real
recording (about 450 bytes each, so 10,000 events make a 4.7 MB file), then loads it in a fresh
Python process `--rounds` times (a test run loads each cassette once, cold), reporting the median
time of `Cassette.load` and of load + `encode()` (the bytes replay sends).

With `--megabytes`, one load of a cassette that large, with its time and peak RSS: `--shape
tokens` is one long token stream (the most objects per MB), `recorded` the real recordings of
tests/data/streams/0.16.7/all-modes.json (every stream mode) repeated.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    dumps_compact,
)

THREAD = "01a20bc7-4e08-7386-84da-ea9613f4f6b5"
RUN = "01a20bc7-4e0d-7422-b97a-4d8f53681450"
BYTES_PER_EVENT = 470
RECORDED = Path(__file__).parent.parent / "tests" / "data" / "streams" / "0.16.7" / "all-modes.json"
# Peak memory is the child's VmHWM: ru_maxrss would carry the parent's peak over an exec.
CHILD = """
import sys, time
from lg_testkit.cassette import Cassette
started = time.perf_counter()
cassette = Cassette.load(sys.argv[1])
loaded = time.perf_counter()
for interaction in cassette.interactions:
    if interaction.response.stream is not None:
        interaction.response.stream.encode()
encoded = time.perf_counter()
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(loaded - started, encoded - started, peak)
"""


def event(i: int) -> list[object]:
    return [
        {
            "content": f"tok{i} ",
            "additional_kwargs": {},
            "response_metadata": {},
            "type": "AIMessageChunk",
            "name": None,
            "id": f"lc_run--{RUN}",
            "tool_calls": [],
            "usage_metadata": None,
            "tool_call_chunks": [],
        },
        {
            "langgraph_step": 1,
            "langgraph_node": "agent",
            "langgraph_triggers": ["branch:to:agent"],
            "thread_id": THREAD,
            "run_id": RUN,
        },
    ]


def tokens(path: Path, events: int) -> None:
    chunks = [(0.0, f'event: metadata\r\ndata: {{"run_id":"{RUN}"}}\r\n\r\n'.encode())]
    for i in range(events - 1):
        text = f"event: messages\r\ndata: {dumps_compact(event(i))}\r\n\r\n"
        chunks.append((i * 1e-4, text.encode()))
    stream = RecordedStream.from_chunks(chunks)
    request = RecordedRequest(
        "POST", f"/threads/{THREAD}/runs/stream", json={"stream_mode": ["messages-tuple"]}
    )
    response = RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream)
    Cassette([Interaction(request, response)]).save(path)


def recorded(path: Path, megabytes: float) -> None:
    source = Cassette.load(RECORDED)
    copies = int(megabytes * 1e6 / RECORDED.stat().st_size) + 1
    Cassette(source.interactions * copies, source.meta).save(path)


def cold(path: Path) -> tuple[float, float, float]:
    """(load seconds, load + encode seconds, peak RSS MB) of one load in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--megabytes", type=float, default=None)
    parser.add_argument("--shape", choices=["tokens", "recorded"], default="tokens")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.json"
        if args.megabytes and args.shape == "recorded":
            recorded(path, args.megabytes)
        else:
            events = int(args.megabytes * 1e6 / BYTES_PER_EVENT) if args.megabytes else args.events
            tokens(path, events)
        size = path.stat().st_size / 1e6
        if args.megabytes:
            load, both, peak = cold(path)
            print(
                f"{args.shape}, {size:.0f} MB: load {load:.1f} s, load + encode {both:.1f} s, "
                f"peak RSS {peak:.0f} MB"
            )
            return
        runs = [cold(path) for _ in range(args.rounds)]
        load = statistics.median(run[0] for run in runs)
        both = statistics.median(run[1] for run in runs)
        print(
            f"{args.events} events, {size:.1f} MB, cold: load {load * 1000:.0f} ms, "
            f"load + encode {both * 1000:.0f} ms (median of {args.rounds} processes)"
        )


if __name__ == "__main__":
    main()
