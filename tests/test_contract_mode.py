"""Contract mode in pytest: asked for explicitly, multi-step, and honest about what it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lg_testkit.script import ScriptedRun

pytest_plugins = ["pytester"]

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
DEAD_URL = "http://127.0.0.1:9"  # nothing listens there: any request to it fails to connect


def cassettes(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))


def test_a_live_url_in_the_ini_keeps_plain_pytest_offline(pytester: pytest.Pytester) -> None:
    """Issue 12: a team whose server is not on port 2024 puts the URL in the ini; plain
    `pytest` must still replay, and only `--lg-contract` goes to that server."""
    pytester.makeini(f"{INI}lg_live_url = {DEAD_URL}\n")
    ScriptedRun(input=QUESTION).values({"answer": 42}).save(
        pytester.path / "cassettes" / "test_app" / "test_answer.json"
    )
    pytester.makepyfile(
        test_app="""
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}

def test_answer(lg_sync_client):
    thread = lg_sync_client.threads.create()
    parts = list(lg_sync_client.runs.stream(thread["thread_id"], "agent", input=QUESTION))
    assert parts[-1].data == {"answer": 42}
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    live = pytester.runpytest("-p", "no:cacheprovider", "--lg-contract")
    live.assert_outcomes(failed=1)
    live.stdout.fnmatch_lines(["*ConnectError*"])


MULTI_STEP = """
import pytest
from lg_testkit import SchemaViolationError

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


def test_interrupt_then_resume(lg_sync_client):
    thread = lg_sync_client.threads.create()["thread_id"]
    first = list(lg_sync_client.runs.stream(thread, "interrupt", input={}, stream_mode="updates"))
    assert "__interrupt__" in first[-1].data
    resumed = list(
        lg_sync_client.runs.stream(
            thread, "interrupt", command={"resume": "yes"}, stream_mode="values"
        )
    )
    assert resumed[-1].data == {"answer": "yes"}
    assert lg_sync_client.threads.get_state(thread)["values"] == {"answer": "yes"}


async def test_two_turns_on_one_thread(lg_client):
    thread = (await lg_client.threads.create())["thread_id"]
    for turn in (1, 2):
        parts = [
            p
            async for p in lg_client.runs.stream(
                thread, "agent", input=QUESTION, stream_mode=["updates", "messages-tuple"]
            )
        ]
        assert parts[0].event == "metadata"
    state = await lg_client.threads.get_state(thread)
    assert [m["type"] for m in state["values"]["messages"]].count("human") == 2
"""


def test_contract_mode_runs_multi_step_tests_against_the_live_server(
    pytester: pytest.Pytester, langgraph_url: str
) -> None:
    """Interrupt then resume with a command, and a second turn: each stream validated live."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_steps=MULTI_STEP)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--lg-contract", f"--lg-live-url={langgraph_url}"
    )
    result.assert_outcomes(passed=2)
    assert cassettes(pytester.path) == []


def test_contract_mode_errors_name_the_server_not_a_cassette_never_written(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(
        """
import httpx, pytest

BAD = b'event: metadata\\r\\ndata: {"attempt": 1}\\r\\n\\r\\n'


@pytest.fixture(autouse=True)
def broken_server(monkeypatch):
    def answer(self, request):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BAD)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", answer)
"""
    )
    pytester.makepyfile(
        test_live="""
def test_stream(lg_sync_client):
    list(lg_sync_client.runs.stream(None, "agent", input={}))
"""
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--lg-contract", "--lg-live-url=http://broken.invalid"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*http://broken.invalid (not recorded)#0:0: metadata: $: 'run_id' is a required*"]
    )
    result.stdout.no_fnmatch_line("*cassettes/test_live*")
    assert cassettes(pytester.path) == []
