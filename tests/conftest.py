"""Shared fixtures: one real `langgraph dev` server for the whole session, serving tests/graphs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

# httpx imports httpcore lazily. pytester's in-process runs drop modules first imported inside
# them, and a re-imported httpcore no longer matches httpx's exception map: import it up front.
import httpcore  # noqa: F401
import pytest

from lg_testkit.devserver import DevServer

GRAPHS_DIR = Path(__file__).parent / "graphs"


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    """The test graphs (agent, ticker, failing, subgraph, interrupt) on a real dev server."""
    with DevServer(GRAPHS_DIR) as server:
        yield server


@pytest.fixture(scope="session")
def langgraph_url(dev_server: DevServer) -> str:
    """Base URL of the session's dev server."""
    return dev_server.url


JS_DIR = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def js_dir() -> Path:
    """tests/js with its node packages (the JS SDK, jsdom) installed by `npm ci`, once.

    Skips only where node is absent; with node but no working npm the test fails.
    """
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the JS SDK and jsdom need it")
    if not (JS_DIR / "node_modules" / ".package-lock.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("node is installed but npm is not: cannot install tests/js")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, capture_output=True
        )
    return JS_DIR


# The fake-server tests' session recording (a fixture defined with the scenarios it records).
from fakeserver_scenarios import recording  # noqa: E402, F401
