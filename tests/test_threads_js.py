"""The JS SDK's `ThreadStream` (`client.threads.stream(...)`, npm `latest`) replaying a cassette
recorded with the Python SDK's `client.threads.stream()` from a real `langgraph dev`.

tests/js/thread_stream.mjs runs once against the live server (what the JS caller gets there is
the expected value) and once against `FakeServer.serve()` of the Python-recorded cassette. The
JS SDK subscribes with filters of its own, mints its own thread id and reads the output from the
stream, not from `GET .../state`. The two runs are different runs of the graph, so ids (run,
message, checkpoint ids) are compared by where they appear, not by value.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from threads_scenarios import QUESTION, root_phase

from lg_testkit import FakeServer, use_cassette

NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JS SDK needs it")

# uuids (with or without dashes), message ids (`lc_run--<uuid>`), LangGraph's 32-hex ids
_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32}\b", re.I
)


def run_js(script: Path, scenario: str, url: str, transport: str = "sse") -> Any:
    assert NODE is not None
    # Node 20 has a WebSocket client only behind this flag (Node 22 by default)
    flags = ["--experimental-websocket"] if transport == "websocket" else []
    done = subprocess.run(
        [NODE, *flags, str(script), scenario, url, transport],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ids_by_place(value: Any) -> str:
    """`value` as JSON with each distinct id replaced by its order of first appearance."""
    text = json.dumps(value, sort_keys=True)
    seen: dict[str, str] = {}
    return _ID.sub(lambda m: seen.setdefault(m.group(0).lower(), f"<id {len(seen)}>"), text)


async def record_with_python(url: str) -> None:
    """The Python SDK's own example: every event of a run, then its output."""
    async with httpx.AsyncClient(base_url=url) as http:
        client = LangGraphClient(http)
        async with client.threads.stream(assistant_id="threads_agent") as thread:
            events = thread.events
            await thread.run.start(input=QUESTION)
            async for event in events:
                if root_phase(event) == "completed":
                    break
            await thread.output.with_timeout(60)


@pytest.fixture(scope="module")
def python_cassette(tmp_path_factory: pytest.TempPathFactory, langgraph_url: str) -> Path:
    cassette = tmp_path_factory.mktemp("threads_js") / "agent.json"
    with use_cassette(cassette, "all"):
        asyncio.run(record_with_python(langgraph_url))
    return cassette


# Over a WebSocket the JS SDK puts all its subscriptions on one socket: the fake server sends
# them merged in seq order, as the server does, or the run's `completed` (on the lifecycle
# subscription) could reach the SDK before the messages and end its projections empty.
@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_js_thread_stream_gets_from_the_fake_what_it_got_live(
    js_dir: Path, langgraph_url: str, python_cassette: Path, transport: str
) -> None:
    script = js_dir / "thread_stream.mjs"
    live = run_js(script, "agent", langgraph_url, transport)
    assert [text for _, text in live["messages"]][-1] == (
        "It is sunny and 72 degrees in Los Angeles today."
    ), "the scenario streams the agent's answer"
    assert live["toolCalls"][0][1] == "get_weather"

    server = FakeServer.from_path(python_cassette)
    with server.serve() as url:
        replayed = run_js(script, "agent", url, transport)
    server.check()
    assert ids_by_place(replayed) == ids_by_place(live)
