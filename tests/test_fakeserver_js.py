"""The real JS SDK (`@langchain/langgraph-sdk` from npm, run by node) against the fake server.

The cassettes were recorded with the Python SDK; the JS SDK sends other bodies (its thread
creation is `{"metadata":{}}`, it leaves out `stream_subgraphs`), so this proves matching by
meaning as much as the replay itself. tests/js/consumer.mjs mirrors fakeserver_scenarios.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fakeserver_scenarios import Recording

from lg_testkit.fakeserver import FakeServer

NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JS SDK needs it")


@pytest.fixture(scope="session")
def js_consumer(js_dir: Path) -> Path:
    return js_dir / "consumer.mjs"


def run_js(consumer: Path, scenario: str, url: str) -> Any:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(consumer), scenario, url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("scenario", ["modes", "subgraphs", "interrupt", "error"])
def test_js_sdk_sees_what_the_live_server_sent(
    recording: Recording, js_consumer: Path, scenario: str
) -> None:
    server = FakeServer.from_path(recording.cassette(scenario))
    with server.serve() as url:
        seen = run_js(js_consumer, scenario, url)
    assert seen == recording.observed[scenario]
    assert server.unmatched == []


def test_js_sdk_gets_the_404_naming_the_closest_recording(
    recording: Recording, js_consumer: Path
) -> None:
    server = FakeServer.from_path(recording.cassette("error"))
    with server.serve() as url:
        seen = run_js(js_consumer, "unmatched", url)
    assert seen["error"].startswith("HTTP 404: ")
    detail = json.loads(seen["error"].removeprefix("HTTP 404: "))["detail"]
    assert "No recorded interaction in" in detail
    assert "json.input.value: recorded 'x', got 'not recorded'" in detail


def test_the_js_sdk_under_test_is_what_npm_calls_latest(js_dir: Path) -> None:
    """npm marks `@langchain/langgraph-sdk` 2.0.0 deprecated; teams install `latest` (1.15.x)."""
    package = js_dir / "node_modules" / "@langchain" / "langgraph-sdk" / "package.json"
    version = json.loads(package.read_text())["version"]
    major, minor = (int(part) for part in version.split(".")[:2])
    assert major == 1 and minor >= 15, version
