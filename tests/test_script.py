"""Scripted streams: edge cases built by hand replay through the real SDK like recordings."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from threads_scenarios import run_sdk

from lg_testkit import Cassette, FakeServer, Faults, SchemaViolationError, use_cassette
from lg_testkit.script import ScriptedRun
from lg_testkit.thread_validation import check_thread

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


# -- the thread-centric protocol ---------------------------------------------------------------


WEATHER_ANSWER = "It is sunny and 21 degrees in LA today."


def agent_thread() -> ScriptedRun:
    return (
        ScriptedRun("agent", input=QUESTION, protocol="threads")
        .values({"messages": ["q"]})
        .tool_call("get_weather", {"city": "LA"}, output="LA: 21C, sunny")
        .custom({"progress": "answering"})
        .tokens(WEATHER_ANSWER)
        .values({"messages": ["q", "call", "result", "answer"]})
    )


async def _thread_view(url: str, transport: str = "sse") -> dict[str, Any]:
    """What a caller of `client.threads.stream()` gets: events, projections, output."""
    async with httpx.AsyncClient(base_url=url) as http:
        client = LangGraphClient(http)
        async with client.threads.stream(
            assistant_id="agent",
            transport=transport,  # type: ignore[arg-type]
        ) as thread:
            events = thread.events
            await thread.run.start(input=QUESTION)

            async def messages() -> list[str]:
                streams = [message async for message in thread.messages]
                return [str(await message.text) for message in streams]

            async def tool_calls() -> list[Any]:
                calls = [call async for call in thread.tool_calls]
                return [[call.name, call.input, (await call.output)["content"]] for call in calls]

            async def methods() -> list[str]:
                seen = []
                async for event in events:
                    if "method" not in event:  # a WebSocket's subscribe reply
                        continue
                    data = event["params"]["data"]
                    seen.append(f"{event['method']}:{data.get('event', '')}")
                    if event["method"] == "lifecycle" and data["event"] == "completed":
                        return seen
                return seen

            seen, texts, calls = await asyncio.wait_for(
                asyncio.gather(methods(), messages(), tool_calls()), 60
            )
            output = await asyncio.wait_for(thread.output, 60)
    return {"events": seen, "messages": texts, "tool_calls": calls, "output": output}


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_a_scripted_thread_replays_to_the_sdks_threads_stream(
    tmp_path: Path, transport: str
) -> None:
    path = agent_thread().save(tmp_path / "thread.json")
    server = FakeServer.from_path(path)
    with server.serve() as url:
        view = run_sdk(_thread_view(url, transport))
    server.check()
    assert view["messages"] == ["", WEATHER_ANSWER]  # the root's: the tool call, the answer
    assert view["tool_calls"] == [["get_weather", {"city": "LA"}, "LA: 21C, sunny"]]
    assert view["output"] == {"messages": ["q", "call", "result", "answer"]}
    assert view["events"][0] == "lifecycle:running" and view["events"][-1] == "lifecycle:completed"
    assert view["events"].count("messages:content-block-delta") == 1 + len(WEATHER_ANSWER.split())
    assert "tools:tool-started" in view["events"] and "custom:" in view["events"]


async def _interrupted(url: str) -> dict[str, Any]:
    async with (
        httpx.AsyncClient(base_url=url) as http,
        LangGraphClient(http).threads.stream(assistant_id="agent") as thread,
    ):
        await thread.run.start(input=QUESTION)
        # a projection ends when the run is interrupted: the interrupt is known by then (what
        # it held is a race between the SDK's connections: not compared)
        async for _ in thread.messages:
            pass
        interrupts = [dict(i) for i in thread.interrupts]
        await thread.run.respond({"approved": True})
        output = await asyncio.wait_for(thread.output, 60)
        return {
            "interrupts": interrupts,
            "output": output,
            "interrupted_after": thread.interrupted,
        }


def test_an_interrupt_answered_with_run_respond_resumes_the_scripted_run(
    tmp_path: Path,
) -> None:
    run = (
        ScriptedRun("agent", input=QUESTION, protocol="threads")
        .tokens("Deploy to prod?")
        .interrupt({"question": "deploy to prod?"})
        .respond({"approved": True})
        .values({"question": "deploy?", "answer": "deployed"})
    )
    path = run.save(tmp_path / "interrupt.json")
    server = FakeServer.from_path(path)
    with server.serve() as url:
        view = run_sdk(_interrupted(url))
    server.check()
    assert len(view["interrupts"]) == 1 and view["interrupts"][0]["interrupt_id"]
    assert view["output"] == {"question": "deploy?", "answer": "deployed"}
    assert view["interrupted_after"] is False
    sent = Cassette.load(path).threads[0].commands[1].command
    assert sent["method"] == "input.respond"
    assert sent["params"]["interrupt_id"] == view["interrupts"][0]["interrupt_id"]


async def _failing(client: LangGraphClient) -> str:
    async with client.threads.stream(assistant_id="agent") as thread:
        await thread.run.start(input=QUESTION)
        with pytest.raises(RuntimeError) as failure:
            await asyncio.wait_for(thread.output, 60)
        return str(failure.value)


def test_a_scripted_failure_fails_thread_output_in_process(tmp_path: Path) -> None:
    path = (
        ScriptedRun("agent", input=QUESTION, protocol="threads")
        .tokens("Let me check")
        .error("ToolException", "weather service down")
        .save(tmp_path / "failing.json")
    )

    async def run() -> str:
        async with FakeServer.from_path(path).async_client() as client:
            return await _failing(client)

    assert run_sdk(run()) == "Run errored: weather service down"


def test_a_scripted_thread_passes_the_protocol_schemas_and_refuses_what_none_sends() -> None:
    cassette = agent_thread().start(input={"messages": []}).tokens("again").cassette()
    thread = cassette.threads[0]
    assert check_thread(thread, source="scripted") == []
    assert [c.command["method"] for c in thread.commands] == ["run.start", "run.start"]
    assert [e.seq for e in thread.events] == list(range(1, len(thread.events) + 1))
    lifecycle = [
        e.event["params"]["data"]["event"] for e in thread.events if e.method == "lifecycle"
    ]
    assert lifecycle == ["running", "completed", "running", "completed"]

    with pytest.raises(ValueError, match="respond\\(\\) answers an interrupt"):
        ScriptedRun(protocol="threads", input=QUESTION).respond("yes")
    with pytest.raises(ValueError, match="the run failed"):
        ScriptedRun(protocol="threads", input=QUESTION).error().tokens("late")
    with pytest.raises(ValueError, match="Faults\\(drop_after=N\\)"):
        ScriptedRun(protocol="threads", input=QUESTION).cut()

    broken = ScriptedRun(protocol="threads", input=QUESTION).tokens("hi")
    assert broken._threads is not None
    broken._threads.events[-1].event["params"]["data"] = {"event": "message-finished"}
    with pytest.raises(SchemaViolationError, match=r"scripted thread .*messages"):
        broken.cassette()


def test_the_same_thread_script_gives_the_same_file(tmp_path: Path) -> None:
    first = agent_thread().save(tmp_path / "a.json").read_bytes()
    assert agent_thread().save(tmp_path / "b.json").read_bytes() == first
    assert b'"text-delta"' in first and b'"tool-finished"' in first


async def _arrivals(url: str) -> list[tuple[str, float]]:
    """(message text, seconds from sending run.start to its finish arriving) for each root
    message, as the SDK's caller sees it."""
    async with (
        httpx.AsyncClient(base_url=url) as http,
        LangGraphClient(http).threads.stream(assistant_id="agent") as thread,
    ):
        events = thread.events
        sent = time.monotonic()  # before the command: nothing timed from it can come earlier
        await thread.run.start(input=QUESTION)
        seen = []
        async for event in events:
            data = event["params"]["data"]
            if event["method"] == "messages" and data["event"] == "content-block-finish":
                seen.append((data["content"]["text"], time.monotonic() - sent))
            if event["method"] == "lifecycle" and data["event"] == "completed":
                return seen
    return seen


def test_a_stall_in_a_scripted_thread_is_felt_on_timed_replay(tmp_path: Path) -> None:
    path = (
        ScriptedRun("agent", input=QUESTION, protocol="threads")
        .tokens("first")
        .wait(1.0)
        .tokens("second")
        .save(tmp_path / "stall.json")
    )
    server = FakeServer.from_path(path, speed=4.0)
    with server.serve() as url:
        (first, _), (second, at) = run_sdk(asyncio.wait_for(_arrivals(url), 60))
    assert (first, second) == ("first", "second")
    assert at >= 0.25  # released 1 s (at 4x speed) after its command was answered


def test_a_stall_fault_pauses_a_thread_protocol_subscription(tmp_path: Path) -> None:
    """`Faults(stall=(N, S))` on the thread protocol: after N events one subscription goes
    quiet for S seconds (the recording has no pause), then carries on; nothing is lost."""
    path = (
        ScriptedRun("agent", input=QUESTION, protocol="threads")
        .tokens("first")
        .tokens("second")
        .save(tmp_path / "quick.json")
    )
    timings = {}
    for name, faults in (("stalled", Faults(stall=(2, 1.5))), ("plain", None)):
        with FakeServer.from_path(path, faults=faults).serve() as url:
            arrivals = run_sdk(asyncio.wait_for(_arrivals(url), 60))
        assert [text for text, _ in arrivals] == ["first", "second"]
        timings[name] = arrivals[-1][1]
    assert timings["stalled"] >= 1.4 > timings["plain"] + 0.4
