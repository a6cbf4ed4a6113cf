"""Consumer flows for the fake-server tests, written once and run live (recording) and in replay.

Each scenario takes a `langgraph_sdk` async client and returns what a consumer observes, as
plain JSON-able data: the events of each stream and the bodies of the calls around them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from lg_testkit.schemas import STREAM_MODES

AGENT_INPUT = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
ALL_MODES = list(STREAM_MODES)

Observed = dict[str, Any]


async def events_of(stream: Any) -> list[list[Any]]:
    return [[part.event, part.data] async for part in stream]


async def modes(client: LangGraphClient) -> Observed:
    """Every stream mode on the agent graph (resumable, so events carry ids), then its state."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    events = await events_of(
        client.runs.stream(
            tid, "agent", input=AGENT_INPUT, stream_mode=ALL_MODES, stream_resumable=True
        )
    )
    state = await client.threads.get_state(tid)
    history = await client.threads.get_history(tid, limit=5)
    return {"thread": thread, "events": events, "state": state, "history": history}


async def subgraphs(client: LangGraphClient) -> Observed:
    thread = await client.threads.create()
    events = await events_of(
        client.runs.stream(
            thread["thread_id"],
            "subgraph",
            input={"steps": []},
            stream_mode=["values", "updates", "debug"],
            stream_subgraphs=True,
        )
    )
    return {"thread": thread, "events": events}


async def interrupt(client: LangGraphClient) -> Observed:
    """Run until the interrupt, resume it with a command, read the final state."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await events_of(client.runs.stream(tid, "interrupt", input={}, stream_mode="updates"))
    paused = await client.threads.get_state(tid)
    second = await events_of(
        client.runs.stream(tid, "interrupt", command={"resume": "yes"}, stream_mode="updates")
    )
    final = await client.threads.get_state(tid)
    return {"thread": thread, "first": first, "paused": paused, "second": second, "final": final}


async def error(client: LangGraphClient) -> Observed:
    thread = await client.threads.create()
    events = await events_of(
        client.runs.stream(thread["thread_id"], "failing", input={"value": "x"})
    )
    return {"thread": thread, "events": events}


async def around(client: LangGraphClient) -> Observed:
    """The non-streaming neighbours: info, assistants, a waited run, a stateless stream."""
    assistants = await client.assistants.search(graph_id="ticker")
    thread = await client.threads.create(metadata={"user": "ada"})
    tid = thread["thread_id"]
    waited = await client.runs.wait(tid, "ticker", input={})
    fetched = await client.threads.get(tid)
    stateless = await events_of(client.runs.stream(None, "subgraph", input={"steps": []}))
    return {
        "assistants": [a["graph_id"] for a in assistants],
        "thread": thread,
        "waited": waited,
        "fetched": fetched,
        "stateless": stateless,
    }


SCENARIOS: dict[str, Callable[[LangGraphClient], Awaitable[Observed]]] = {
    "modes": modes,
    "subgraphs": subgraphs,
    "interrupt": interrupt,
    "error": error,
    "around": around,
}


# -- recording, once per test session ------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def without_ids(observed: Any) -> Any:
    """`observed` with every UUID blanked: for comparing replays that got ids of their own."""
    return json.loads(UUID.sub("<id>", json.dumps(observed)))


@dataclass(frozen=True)
class Recording:
    folder: Path  # one cassette per scenario: <name>.json
    observed: dict[str, Observed]  # what the live run showed a consumer, per scenario

    def cassette(self, name: str) -> Path:
        return self.folder / f"{name}.json"


def record_all(url: str, folder: Path) -> Recording:
    """Run every scenario against the live server, recording each into its own cassette."""
    from langgraph_sdk import get_client

    from lg_testkit import use_cassette

    async def run(scenario: Callable[[LangGraphClient], Awaitable[Observed]]) -> Observed:
        async with get_client(url=url, api_key=None) as client:
            return json.loads(json.dumps(await scenario(client)))

    observed: dict[str, Observed] = {}
    for name, scenario in SCENARIOS.items():
        with use_cassette(folder / f"{name}.json", "all"):
            observed[name] = asyncio.run(run(scenario))
    return Recording(folder, observed)


@pytest.fixture(scope="session")
def recording(langgraph_url: str, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Every scenario recorded from the session's live dev server, one cassette each."""
    return record_all(langgraph_url, tmp_path_factory.mktemp("fakeserver-cassettes"))
