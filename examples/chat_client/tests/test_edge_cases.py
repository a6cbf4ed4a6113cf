"""Edge cases no real graph produces easily, scripted with lg-testkit instead of recorded."""

from __future__ import annotations

import io
from pathlib import Path

from chat_client import STREAM, ChatClient

from lg_testkit import use_cassette
from lg_testkit.script import ScriptedRun

QUESTION = {"messages": [{"role": "human", "content": "hi"}]}


async def test_a_ten_thousand_token_answer_is_printed_whole(tmp_path: Path) -> None:
    answer = " ".join(f"w{i}" for i in range(10_000))
    ScriptedRun(input=QUESTION, **STREAM).tokens(answer).save(tmp_path / "long.json")

    with use_cassette(tmp_path / "long.json"):
        chat = ChatClient("http://127.0.0.1:2024", out=io.StringIO())
        reply = await chat.send(await chat.new_thread(), "agent", "hi")
        await chat.aclose()

    assert reply.text == answer
    assert isinstance(chat.out, io.StringIO) and chat.out.getvalue() == answer + "\n"


async def test_an_error_in_the_middle_of_a_tool_call_is_reported(tmp_path: Path) -> None:
    (
        ScriptedRun(input=QUESTION, **STREAM)
        .tool_call("get_weather", {"query": "la"})
        .error("ToolException", "weather service down")
        .save(tmp_path / "tool_error.json")
    )

    with use_cassette(tmp_path / "tool_error.json"):
        chat = ChatClient("http://127.0.0.1:2024", out=io.StringIO())
        reply = await chat.send(await chat.new_thread(), "agent", "hi")
        await chat.aclose()

    assert reply.tool_calls == ["get_weather"]
    assert reply.error == "ToolException: weather service down"
    assert reply.text == ""
