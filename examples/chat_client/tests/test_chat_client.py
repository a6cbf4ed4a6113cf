"""The chat client against recorded streams: no server, no keys, same answers every run."""

from __future__ import annotations

import io

import pytest
from chat_client import ChatClient

pytestmark = pytest.mark.lg_cassette


async def test_answers_token_by_token_after_calling_the_weather_tool(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    reply = await chat.send(thread, "agent", "whats the weather in la")

    assert reply.tool_calls == ["get_weather"]
    assert reply.text == "It is sunny and 72 degrees in Los Angeles today."
    assert reply.error is None and reply.question is None
    assert isinstance(chat.out, io.StringIO)
    assert chat.out.getvalue() == reply.text + "\n"


async def test_asks_before_acting_and_resumes_with_the_answer(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    first = await chat.send(thread, "interrupt", "delete my files")
    assert first.question == "approve?"

    second = await chat.resume(thread, "interrupt", "no")
    assert second.question is None and second.error is None
    state = await chat.client.threads.get_state(thread)
    assert state["values"] == {"answer": "no"}


async def test_a_failed_run_is_reported_not_raised(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    reply = await chat.send(thread, "failing", "hello")

    assert reply.error == "ValueError: boom"
    assert isinstance(chat.out, io.StringIO)
    assert "[run failed: ValueError: boom]" in chat.out.getvalue()


async def test_the_whole_stream_matches_its_snapshot(chat: ChatClient, lg_snapshot) -> None:
    """Ids and token boundaries may churn on re-recording; what the user sees may not."""
    thread = await chat.new_thread()
    reply = await chat.send(thread, "agent", "whats the weather in la")
    assert reply.events == lg_snapshot
