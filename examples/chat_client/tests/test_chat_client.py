"""The chat client against streams recorded from `langgraph dev` serving graph/: no server, no
keys, same answers every run. Every stream is checked against lg-testkit's schemas (strict)."""

from __future__ import annotations

import io

import pytest
from chat_client import ChatClient, export_transcript
from conftest import LG_URL

pytestmark = pytest.mark.lg_cassette(validate="strict")

RESEARCH_ANSWER = (
    "About 'is the sky blue': the field guide and the weather archive agree, so the answer is yes."
)
RESEARCH_PROGRESS = [
    "search: planning 2 sources to read",
    "search: reading the field guide",
    "search: reading the weather archive",
    "main: writing 2 notes",
]


def printed(chat: ChatClient) -> str:
    assert isinstance(chat.out, io.StringIO)
    return chat.out.getvalue()


async def test_answers_token_by_token_and_remembers_the_conversation(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    first = await chat.send(thread, "chat", "my name is Ada")
    second = await chat.send(thread, "chat", "what is my name?")

    assert first.text == "Nice to meet you, Ada! What can I do for you?"
    assert second.text == "Your name is Ada."  # the second turn saw the first one
    tokens = [data[0]["content"] for event, data in second.events if event == "messages"]
    assert tokens == ["Your", " ", "name", " ", "is", " ", "Ada."]  # streamed, not in one piece
    assert printed(chat) == f"{first.text}\n{second.text}\n"
    assert await chat.history(thread) == [
        ("you", "my name is Ada"),
        ("assistant", first.text),
        ("you", "what is my name?"),
        ("assistant", second.text),
    ]
    # The same thread, read by the sync SDK client (a script exporting the conversation).
    assert export_transcript(LG_URL, thread).splitlines() == [
        "you: my name is Ada",
        f"assistant: {first.text}",
        "you: what is my name?",
        f"assistant: {second.text}",
    ]


async def test_shows_the_progress_its_research_subgraph_reports(chat: ChatClient) -> None:
    reply = await chat.send(await chat.new_thread(), "research", "is the sky blue")

    assert reply.progress == RESEARCH_PROGRESS
    assert reply.text == RESEARCH_ANSWER
    subgraph_events = {event.split("|")[0] for event, _ in reply.events if "|search:" in event}
    assert subgraph_events == {"custom", "updates"}  # namespaced: stream_subgraphs=True
    assert reply.error is None and reply.question is None


async def test_asks_before_sending_and_resumes_with_the_answer(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    first = await chat.send(thread, "email", "lunch at noon?")
    question = {"question": "Send this email to ada@example.com?", "to": "ada@example.com"}
    assert first.text == "Draft to ada@example.com: lunch at noon?"
    assert first.question == question
    assert await chat.pending_question(thread) == question  # the thread waits for the answer

    second = await chat.resume(thread, "email", "yes")
    assert second.question is None and second.error is None
    assert second.text == "Sent to ada@example.com."
    assert await chat.pending_question(thread) is None
    assert (await chat.history(thread))[-1] == ("assistant", "Sent to ada@example.com.")
    assert "[the assistant asks: " in printed(chat)


async def test_waits_for_whole_answers_on_one_thread(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    assert await chat.ask(thread, "chat", "my name is Ada") == (
        "Nice to meet you, Ada! What can I do for you?"
    )
    assert await chat.ask(thread, "chat", "what is my name?") == "Your name is Ada."
    assert printed(chat) == ""  # runs.wait streams nothing


async def test_follows_a_run_started_in_the_background(chat: ChatClient) -> None:
    thread = await chat.new_thread()
    run_id = await chat.start(thread, "research", "is the sky blue")
    reply = await chat.follow(thread, run_id)

    assert reply.events[0] == ("metadata", {"run_id": run_id, "attempt": 1})
    assert reply.progress == RESEARCH_PROGRESS
    assert reply.text == RESEARCH_ANSWER
    assert printed(chat) == RESEARCH_ANSWER + "\n"


async def test_a_failed_run_is_reported_not_raised(chat: ChatClient) -> None:
    reply = await chat.send(await chat.new_thread(), "broken", "hello")

    assert reply.error == "ValueError: boom"
    assert "[run failed: ValueError: boom]" in printed(chat)


async def test_the_whole_stream_matches_its_snapshot(chat: ChatClient, lg_snapshot) -> None:
    """Ids and token boundaries may churn on re-recording; what the user sees may not."""
    reply = await chat.send(await chat.new_thread(), "research", "is the sky blue")
    assert reply.events == lg_snapshot
