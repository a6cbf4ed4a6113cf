"""The real `langgraph dev` server, driven through the real `langgraph_sdk` client."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from lg_testkit.demo import DEMO_DIR
from lg_testkit.devserver import DevServer
from lg_testkit.errors import DevServerError

WEATHER_QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
FINAL_ANSWER = "It is sunny and 72 degrees in Los Angeles today."


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url) as langgraph_client:
        yield langgraph_client


async def stream_run(
    client: LangGraphClient, assistant_id: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Run on a new thread and collect `(event, data)` pairs."""
    thread = await client.threads.create()
    return [
        (part.event, part.data)
        async for part in client.runs.stream(thread["thread_id"], assistant_id, **kwargs)
    ]


async def test_agent_streams_metadata_then_values_ending_with_the_answer(
    client: LangGraphClient,
) -> None:
    events = await stream_run(client, "agent", input=WEATHER_QUESTION)

    names = [name for name, _ in events]
    assert names[0] == "metadata"
    assert set(events[0][1]) >= {"run_id"}
    assert names[1:] == ["values"] * 4  # input, tool call, tool result, answer
    messages = events[-1][1]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "tool", "ai"]
    assert messages[1]["tool_calls"][0]["args"] == {"query": "weather in los angeles"}
    assert messages[-1]["content"] == FINAL_ANSWER


async def test_agent_streams_tokens_and_keeps_its_tool_call_in_messages_mode(
    client: LangGraphClient,
) -> None:
    events = await stream_run(
        client, "agent", input=WEATHER_QUESTION, stream_mode=["messages-tuple", "custom"]
    )

    chunks = [data[0] for name, data in events if name == "messages"]
    assert chunks[0]["tool_calls"][0]["name"] == "get_weather"  # the tool was called
    answer_tokens = [c["content"] for c in chunks if c["type"] == "AIMessageChunk"][1:]
    assert len(answer_tokens) > 5
    assert "".join(answer_tokens) == FINAL_ANSWER
    assert ("custom", {"progress": "answering"}) in events


async def test_failing_graph_ends_with_an_error_event(client: LangGraphClient) -> None:
    events = await stream_run(client, "failing", input={})

    assert events[0][0] == "metadata"
    assert events[-1] == ("error", {"error": "ValueError", "message": "boom"})


async def test_ticker_custom_events_arrive_as_they_are_written(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    arrivals = []
    async for part in client.runs.stream(
        thread["thread_id"], "ticker", input={}, stream_mode="custom"
    ):
        if part.event == "custom":
            arrivals.append((time.monotonic(), part.data))

    assert [data for _, data in arrivals] == [{"tick": i} for i in range(6)]
    # The graph sleeps 5 x 0.2 s between ticks: a buffered response would deliver them at once.
    assert arrivals[-1][0] - arrivals[0][0] > 0.5


async def test_subgraph_events_are_namespaced(client: LangGraphClient) -> None:
    events = await stream_run(
        client, "subgraph", input={}, stream_mode="updates", stream_subgraphs=True
    )

    names = [name for name, _ in events]
    assert names[1].startswith("updates|sub:")
    assert events[1][1] == {"inner": {"steps": ["inner"]}}
    assert names[2:] == ["updates", "updates"]


async def test_interrupt_then_resume(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    first = [part async for part in client.runs.stream(thread["thread_id"], "interrupt", input={})]
    resumed = [
        part
        async for part in client.runs.stream(
            thread["thread_id"], "interrupt", command={"resume": "yes"}
        )
    ]

    assert first[-1].data["__interrupt__"][0]["value"] == "approve?"
    assert resumed[-1].data == {"answer": "yes"}


async def test_unknown_assistant_is_rejected_with_422(client: LangGraphClient) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        await stream_run(client, "no-such-graph", input={})

    assert info.value.response.status_code == 422
    assert "Invalid assistant: 'no-such-graph'" in info.value.response.json()["detail"]


def test_folder_without_langgraph_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevServerError, match=r"expected a langgraph\.json in .*found none"):
        DevServer(tmp_path).start()


def test_failed_start_reports_the_command_and_the_log(tmp_path: Path) -> None:
    (tmp_path / "langgraph.json").write_text(
        '{"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}}'
    )
    (tmp_path / "graph.py").write_text('raise RuntimeError("graph module is broken")\n')

    with pytest.raises(DevServerError) as info:
        DevServer(tmp_path).start()

    message = str(info.value)
    assert "exited with code" in message
    assert "command: " in message and "langgraph_cli dev" in message
    assert "graph module is broken" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.py", "langgraph.json"]


async def test_demo_serves_on_another_port_when_the_asked_one_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with DevServer(DEMO_DIR, port=port) as server:
            assert server.port != port
            async with get_client(url=server.url) as client:
                events = await stream_run(client, "agent", input=WEATHER_QUESTION)

    assert events[-1][1]["messages"][-1]["content"] == FINAL_ANSWER
