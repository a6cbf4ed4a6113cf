"""Validation throughput on a 10,000-event mixed-mode cassette, and its cost on replay.

    python benchmarks/bench_validation.py [--events N] [--repeat R]

The cassette is built from a real recording (tests/data/streams/0.16.7/all-modes.json: the agent
graph in every stream mode with subgraphs), its events repeated to N. Measured, best of R:
  replay            a CassetteSession (validate="off") serving the stream to an httpx client that
                    reads every byte and parses the SSE events, as a consumer does
  replay+validate   the same with validate="strict" (the default)
  validate_stream   the check alone (jsonschema-rs for yes/no)
  jsonschema only   the check with the `jsonschema` validators alone (what explains failures)
Prints a markdown table; ratios are against replay measured in the same run.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from lg_testkit.cassette import Cassette, Interaction, StreamItem
from lg_testkit.schemas import STREAM_MODES
from lg_testkit.session import CassetteSession
from lg_testkit.sse import SSEParser
from lg_testkit.validation import _validators, validate_stream

SOURCE = Path(__file__).parent.parent / "tests" / "data" / "streams" / "0.16.7" / "all-modes.json"


def build_cassette(path: Path, events: int) -> Interaction:
    """One run stream of `events` events: the recorded metadata, then recorded events repeated."""
    recorded = Cassette.load(SOURCE)
    interaction = next(
        i
        for i in recorded.interactions
        if i.response.stream is not None and (i.request.json or {}).get("stream_subgraphs")
    )
    stream = interaction.response.stream
    assert stream is not None
    head, *body = stream.events
    items = [StreamItem.from_dict({**head.to_dict(), "id": "1-0"})]
    while len(items) < events:
        item = body[(len(items) - 1) % len(body)].to_dict()
        item.pop("raw", None)
        item["id"] = f"{len(items) + 1}-0"
        items.append(StreamItem.from_dict(copy.deepcopy(item)))
    stream.items, stream.chunks = items, []
    Cassette([interaction]).save(path)
    return interaction


def replay(path: Path, validate: str) -> int:
    """Serve the stream through a session and parse it as a client would; the events seen."""
    session = CassetteSession(path, validate=validate)
    request = session.cassette.interactions[0].request
    parser, seen = SSEParser(), 0
    client = httpx.Client(base_url="http://127.0.0.1:9", transport=session.transport())
    with client, client.stream(request.method, request.path, json=request.json) as response:
        for chunk in response.iter_raw():
            seen += sum(1 for block in parser.feed(chunk) if block.is_event)
    return seen


def best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mixed.json"
        interaction = build_cassette(path, args.events)
        stream = interaction.response.stream
        assert stream is not None
        items = stream.items
        settings = {"modes": list(STREAM_MODES), "subgraphs": True}
        assert validate_stream(items, **settings) == [], "the benchmark stream must be valid"
        assert replay(path, "strict") == args.events

        validators = _validators()
        fast = "jsonschema-rs" if validators.fast else "jsonschema (jsonschema-rs missing)"
        sample = items[: max(1, args.events // 10)]

        def slow() -> None:
            for item in sample:
                name = (item.event or "message").partition("|")[0]
                validators.explainer(name).is_valid(item.data)

        t_replay = best(lambda: replay(path, "off"), args.repeat)
        t_both = best(lambda: replay(path, "strict"), args.repeat)
        t_check = best(lambda: validate_stream(items, **settings), args.repeat)
        t_slow = best(slow, 1) * (len(items) / len(sample))

    n = args.events
    rows = [
        ("replay (validate=off)", t_replay),
        ("replay + validate (strict)", t_both),
        (f"validate_stream ({fast})", t_check),
        ("jsonschema validators only (extrapolated)", t_slow),
    ]
    print(
        f"{n} events, mixed modes ({', '.join(STREAM_MODES)}) with subgraphs; "
        f"best of {args.repeat}\n"
    )
    print("| what | seconds | events/s | vs replay |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {n / seconds:,.0f} | {seconds / t_replay:.2f}x |")


if __name__ == "__main__":
    main()
