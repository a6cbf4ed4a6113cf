"""Shared fixtures: one real `langgraph dev` server for the whole session, serving tests/graphs."""

from __future__ import annotations

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


# The fake-server tests' session recording (a fixture defined with the scenarios it records).
from fakeserver_scenarios import recording  # noqa: E402, F401
