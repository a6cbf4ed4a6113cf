"""The example chat client's cassettes (examples/chat_client), recorded from a real `langgraph dev`
with the Python SDK, served by the fake server to the real JS SDK: the JS flows
(tests/js/chat_example.mjs) see what the Python client saw, event for event, with strict
validation, including a drop the JS SDK recovers from and one it reports.

"What the Python client saw" is the example's own `ChatClient`, run against the same cassette
(the example's tests check it against literal answers, live when recording, offline in CI);
here the headline answers are checked literally as well.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lg_testkit import FakeServer, Faults

NODE = shutil.which("node")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_client"
CASSETTES = EXAMPLE / "cassettes" / "tests" / "test_chat_client"


@pytest.fixture(scope="session", autouse=True)
def _node() -> None:
    """Without node these tests cannot run: skipped on a developer's machine, failed in CI."""
    if NODE is None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("node is not installed, and CI must run the JS SDK against the example")
        pytest.skip("node is not installed: the JS SDK needs it")


CASSETTE_OF = {
    "conversation": "test_answers_token_by_token_and_remembers_the_conversation",
    "research": "test_shows_the_progress_its_research_subgraph_reports",
    "email": "test_asks_before_sending_and_resumes_with_the_answer",
    "wait": "test_waits_for_whole_answers_on_one_thread",
    "follow": "test_follows_a_run_started_in_the_background",
    "broken": "test_a_failed_run_is_reported_not_raised",
}
RESEARCH_ANSWER = (
    "About 'is the sky blue': the field guide and the weather archive agree, so the answer is yes."
)
RESEARCH_PROGRESS = [
    "search: planning 2 sources to read",
    "search: reading the field guide",
    "search: reading the weather archive",
    "main: writing 2 notes",
]


def _load_chat_client() -> Any:
    spec = importlib.util.spec_from_file_location("example_chat_client", EXAMPLE / "chat_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


chat_client = _load_chat_client()


def _server(scenario: str, faults: Faults | None = None) -> FakeServer:
    path = CASSETTES / f"{CASSETTE_OF[scenario]}.json"
    return FakeServer.from_path(path, validate="strict", faults=faults)


def _view(reply: Any) -> dict[str, Any]:
    """A `Reply` as the JS consumer prints it (JSON: tuples become lists)."""
    fields = {k: getattr(reply, k) for k in ("text", "progress", "question", "error", "events")}
    return json.loads(json.dumps(fields))


async def python_sees(scenario: str, url: str) -> dict[str, Any]:
    """The example's Python client, running the scenario's flow against `url`, as JSON."""
    return json.loads(json.dumps(await _python_flow(scenario, url)))  # type: ignore[no-any-return]


async def _python_flow(scenario: str, url: str) -> dict[str, Any]:
    chat = chat_client.ChatClient(url, out=io.StringIO())
    try:
        thread = await chat.new_thread()
        if scenario == "conversation":
            replies = [
                await chat.send(thread, "chat", "my name is Ada"),
                await chat.send(thread, "chat", "what is my name?"),
            ]
            return {"replies": [*map(_view, replies)], "history": await chat.history(thread)}
        if scenario == "research":
            return {"replies": [_view(await chat.send(thread, "research", "is the sky blue"))]}
        if scenario == "email":
            first = await chat.send(thread, "email", "lunch at noon?")
            asked = await chat.pending_question(thread)
            second = await chat.resume(thread, "email", "yes")
            return {
                "replies": [_view(first), _view(second)],
                "asked": asked,
                "after": await chat.pending_question(thread),
                "history": await chat.history(thread),
            }
        if scenario == "wait":
            texts = ["my name is Ada", "what is my name?"]
            return {"answers": [await chat.ask(thread, "chat", text) for text in texts]}
        if scenario == "follow":
            run_id = await chat.start(thread, "research", "is the sky blue")
            return {"run_id": run_id, "replies": [_view(await chat.follow(thread, run_id))]}
        assert scenario == "broken"
        return {"replies": [_view(await chat.send(thread, "broken", "hello"))]}
    finally:
        await chat.aclose()


def js_sees(js_dir: Path, scenario: str, url: str) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(js_dir / "chat_example.mjs"), scenario, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


HEADLINES: dict[str, Any] = {
    "conversation": lambda seen: (
        [r["text"] for r in seen["replies"]]
        == ["Nice to meet you, Ada! What can I do for you?", "Your name is Ada."]
    ),
    "research": lambda seen: (
        seen["replies"][0]["text"] == RESEARCH_ANSWER
        and seen["replies"][0]["progress"] == RESEARCH_PROGRESS
    ),
    "email": lambda seen: (
        seen["asked"]["question"] == "Send this email to ada@example.com?"
        and seen["after"] is None
        and seen["replies"][1]["text"] == "Sent to ada@example.com."
    ),
    "wait": lambda seen: (
        seen["answers"] == ["Nice to meet you, Ada! What can I do for you?", "Your name is Ada."]
    ),
    "follow": lambda seen: (
        seen["replies"][0]["text"] == RESEARCH_ANSWER
        and seen["replies"][0]["progress"] == RESEARCH_PROGRESS
    ),
    "broken": lambda seen: seen["replies"][0]["error"] == "ValueError: boom",
}


@pytest.mark.parametrize("scenario", list(CASSETTE_OF))
async def test_the_js_sdk_sees_what_the_python_client_saw(js_dir: Path, scenario: str) -> None:
    server = _server(scenario)
    with server.serve() as url:
        python = await python_sees(scenario, url)
    server.check()
    server = _server(scenario)  # a fresh server: the JS client gets the recorded ids too
    with server.serve() as url:
        js = js_sees(js_dir, scenario, url)
    server.check()  # every request the JS SDK made had a recording

    assert HEADLINES[scenario](python), python
    assert js == python


async def test_the_js_sdk_recovers_a_dropped_stream_where_it_dropped(js_dir: Path) -> None:
    server = _server("research")
    with server.serve() as url:
        whole = (await python_sees("research", url))["replies"][0]

    server = _server("research", Faults(drop_after=4))
    with server.serve() as url:
        seen = js_sees(js_dir, "research", url)["replies"][0]
    server.check()

    reconnects = [
        line for line in server.log if line.startswith("GET ") and "Last-Event-ID" in line
    ]
    assert len(reconnects) == 1, server.log  # it did drop, and the SDK came back once
    assert seen == whole  # every event once, in order: the same answer and progress


async def test_the_js_sdk_reports_a_run_lost_with_the_connection(js_dir: Path) -> None:
    server = _server("research")
    with server.serve() as url:
        whole = (await python_sees("research", url))["replies"][0]

    server = _server("research", Faults(drop_after=4, recover=False))
    with server.serve() as url:
        seen = js_sees(js_dir, "research", url)["replies"][0]

    assert seen["error"].startswith("connection lost: "), seen["error"]
    assert seen["events"] == whole["events"][:4]  # what came before the drop, nothing more
    assert seen["progress"] == RESEARCH_PROGRESS[:2]
    assert seen["text"] == ""
    assert server.log[-1].endswith("-> 404")  # the reconnect found the run gone
