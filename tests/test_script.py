"""Scripted streams: edge cases built by hand replay through the real SDK like recordings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client

from lg_testkit import SchemaViolationError, use_cassette
from lg_testkit.script import ScriptedRun

QUESTION = {"messages": [{"role": "human", "content": "tell me everything"}]}
NOWHERE = "http://127.0.0.1:9"


async def consume(
    path: Path, *, speed: float | None = None, **run: Any
) -> list[tuple[str, Any, float]]:
    with use_cassette(path, "none", speed=speed):
        async with get_client(url=NOWHERE, api_key=None) as client:
            thread = await client.threads.create()
            return [
                (part.event, part.data, time.monotonic())
                async for part in client.runs.stream(thread["thread_id"], "agent", **run)
            ]


async def test_a_ten_thousand_token_answer_arrives_token_by_token(tmp_path: Path) -> None:
    answer = " ".join(f"word{i}" for i in range(10_000))
    ScriptedRun(input=QUESTION, stream_mode="messages-tuple").tokens(answer).save(
        tmp_path / "long.json"
    )

    events = await consume(tmp_path / "long.json", input=QUESTION, stream_mode="messages-tuple")

    tokens = [data[0]["content"] for event, data, _ in events if event == "messages"]
    assert len(tokens) == 10_000
    assert "".join(tokens) == answer
    assert events[0][0] == "metadata"


async def test_an_error_in_the_middle_of_a_tool_call(tmp_path: Path) -> None:
    modes = ["messages-tuple", "updates"]
    run = (
        ScriptedRun(input=QUESTION, stream_mode=modes)
        .tool_call("get_weather", {"city": "LA"})
        .error("ToolException", "weather service down")
    )
    run.save(tmp_path / "tool_error.json")

    events = await consume(tmp_path / "tool_error.json", input=QUESTION, stream_mode=modes)

    assert [event for event, _, _ in events] == ["metadata", "messages", "error"]
    assert events[1][1][0]["tool_calls"][0]["args"] == {"city": "LA"}
    assert events[-1][1] == {"error": "ToolException", "message": "weather service down"}
    with pytest.raises(ValueError, match="nothing can follow an error"):
        run.custom({"late": True})


async def test_a_stall_is_felt_on_timed_replay(tmp_path: Path) -> None:
    run = (
        ScriptedRun(input=QUESTION, stream_mode="custom")
        .custom({"n": 1})
        .wait(1.0)
        .custom({"n": 2})
    )
    run.save(tmp_path / "stall.json")

    events = await consume(tmp_path / "stall.json", speed=4.0, input=QUESTION, stream_mode="custom")

    (_, first, t1), (_, second, t2) = events[1:]
    assert (first, second) == ({"n": 1}, {"n": 2})
    assert t2 - t1 >= 0.2  # 1 s at 4x speed


def test_events_follow_the_requested_modes_and_the_same_seed_gives_the_same_bytes() -> None:
    def build() -> ScriptedRun:
        return (
            ScriptedRun(input=QUESTION, stream_mode=["values", "updates"])
            .update("agent", {"messages": []})
            .custom({"not": "requested"})  # custom mode was not asked for: not sent
            .interrupt("approve?")
        )

    first, second = build(), build()
    assert [item.event for item in first.items] == ["metadata", "updates", "updates", "values"]
    assert first.items[-1].data["__interrupt__"][0]["value"] == "approve?"
    assert first.cassette().dumps() == second.cassette().dumps()


def test_a_script_that_breaks_the_schemas_is_refused() -> None:
    run = ScriptedRun(input=QUESTION, stream_mode="updates").update("agent", {"messages": []})
    run.items[-1].data = ["not", "keyed", "by", "node"]  # what no server sends
    with pytest.raises(
        SchemaViolationError, match=r"scripted run .*:1: updates: \$: expected object, found array"
    ):
        run.cassette()
