"""The plugin's fixtures, settings precedence and failure messages, as a user project sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lg_testkit.script import ScriptedRun

pytest_plugins = ["pytester"]

INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}

CLIENT_TESTS = """
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


async def test_async_client(lg_client):
    thread = await lg_client.threads.create()
    parts = lg_client.runs.stream(thread["thread_id"], "agent", input=QUESTION)
    events = [p.event async for p in parts]
    assert events[0] == "metadata" and events[-1] == "values"


def test_sync_client(lg_sync_client):
    thread = lg_sync_client.threads.create()
    parts = lg_sync_client.runs.stream(thread["thread_id"], "agent", input=QUESTION)
    events = [p.event for p in parts]
    assert events[0] == "metadata" and events[-1] == "values"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def cassettes(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))


def test_lg_client_and_lg_sync_client_record_then_replay(
    project: pytest.Pytester, langgraph_url: str
) -> None:
    project.makepyfile(test_clients=CLIENT_TESTS)
    project.runpytest(f"--lg-live-url={langgraph_url}", "--lg-record-mode=once").assert_outcomes(
        passed=2
    )
    assert cassettes(project.path) == [
        "cassettes/test_clients/test_async_client.json",
        "cassettes/test_clients/test_sync_client.json",
    ]
    project.runpytest().assert_outcomes(passed=2)  # no live URL: replayed


def test_contract_mode_runs_live_and_writes_nothing(
    project: pytest.Pytester, langgraph_url: str
) -> None:
    project.makepyfile(test_clients=CLIENT_TESTS)
    project.runpytest("--lg-contract", f"--lg-live-url={langgraph_url}").assert_outcomes(passed=2)
    assert cassettes(project.path) == []


def test_contract_mode_fails_on_an_invalid_live_stream(project: pytest.Pytester) -> None:
    """A server whose stream breaks the schemas fails the test, naming event and JSON path."""
    project.makepyfile(
        conftest="""
import httpx, pytest

BAD = b'event: metadata\\r\\ndata: {"attempt": 1}\\r\\n\\r\\n'


@pytest.fixture(autouse=True)
def broken_server(monkeypatch):
    def answer(self, request):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BAD)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", answer)
""",
        test_live="""
def test_stream(lg_sync_client):
    list(lg_sync_client.runs.stream(None, "agent", input={}))
""",
    )
    result = project.runpytest("--lg-contract", "--lg-live-url=http://broken.invalid")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*SchemaViolationError*", "*:0: metadata: $: 'run_id' is a required property*"]
    )


def test_precedence_cli_over_marker_over_lg_config_over_ini(
    project: pytest.Pytester, langgraph_url: str
) -> None:
    project.makeini(INI + "lg_cassette_dir = from_ini\nlg_record_mode = none\n")
    project.makeconftest(
        """
import pytest

@pytest.fixture
def lg_config():
    return {"cassette_dir": "from_fixture", "record_mode": "all"}
"""
    )
    project.makepyfile(
        test_order="""
import pytest

def test_fixture_beats_ini(lg_cassette):
    assert lg_cassette.record_mode.value == "all"
    assert lg_cassette.path.parent.parent.name == "from_fixture"

@pytest.mark.lg_cassette(record_mode="new_episodes", speed=2)
def test_marker_beats_fixture(lg_cassette):
    assert lg_cassette.record_mode.value == "new_episodes"
    assert lg_cassette.speed == 2.0
"""
    )
    project.runpytest().assert_outcomes(passed=2)
    result = project.runpytest("--lg-record-mode=once", "-k", "marker")
    result.assert_outcomes(failed=1)  # the CLI beats the marker
    result.stdout.fnmatch_lines(["*assert 'once' == 'new_episodes'*"])


def test_match_on_lets_a_changed_body_replay(project: pytest.Pytester) -> None:
    ScriptedRun(input=QUESTION, stream_mode="values").values({"answer": 42}).save(
        project.path / "cassettes" / "scripted.json"
    )
    project.makepyfile(
        test_match="""
import pytest

@pytest.mark.lg_cassette("scripted.json", match_on=["method", "path"])
def test_other_question(lg_sync_client):
    thread = lg_sync_client.threads.create(metadata={"user": "someone else"})
    parts = list(lg_sync_client.runs.stream(thread["thread_id"], "agent", input={"other": 1}))
    assert parts[-1].data == {"answer": 42}

@pytest.mark.lg_cassette("scripted.json")
def test_same_request_strictly(lg_sync_client):
    thread = lg_sync_client.threads.create(metadata={"user": "someone else"})
"""
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*json.metadata.user: not recorded, got 'someone else'*"])


def test_lg_server_records_through_a_proxy_and_replays_over_http(
    project: pytest.Pytester, langgraph_url: str
) -> None:
    project.makepyfile(
        test_url="""
import httpx

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


def test_consumer_with_a_url(lg_server):
    with httpx.Client(base_url=lg_server) as client:
        thread = client.post("/threads", json={}).json()
        body = {"assistant_id": "agent", "input": QUESTION}
        text = client.post(f"/threads/{thread['thread_id']}/runs/stream", json=body).text
    assert text.startswith("event: metadata")
    assert "It is sunny and 72 degrees" in text
"""
    )
    live = project.runpytest(f"--lg-live-url={langgraph_url}", "--lg-record-mode=once")
    live.assert_outcomes(passed=1)
    [path] = cassettes(project.path)
    document = json.loads((project.path / path).read_text())
    assert document["meta"]["recorded_by"] == "lg-testkit proxy"
    project.runpytest().assert_outcomes(passed=1)


def test_lg_server_fails_the_test_on_a_request_it_cannot_answer(project: pytest.Pytester) -> None:
    ScriptedRun(input=QUESTION).values({}).save(project.path / "cassettes" / "s.json")
    project.makepyfile(
        test_url="""
import httpx, pytest

@pytest.mark.lg_cassette("s.json")
def test_unknown_call(lg_server):
    assert httpx.get(f"{lg_server}/assistants/nope").status_code == 404
"""
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 request to the fake server had no recorded answer*"])


def test_stream_snapshots_survive_id_churn_and_catch_changed_answers(
    project: pytest.Pytester,
) -> None:
    path = project.path / "cassettes" / "chat.json"

    def script(seed: str, answer: str) -> None:
        ScriptedRun(input=QUESTION, stream_mode="messages-tuple", seed=seed).tokens(answer).save(
            path
        )

    project.makepyfile(
        test_snap="""
import pytest

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}

@pytest.mark.lg_cassette("chat.json")
def test_answer(lg_sync_client, lg_snapshot):
    thread = lg_sync_client.threads.create()
    events = list(lg_sync_client.runs.stream(
        thread["thread_id"], "agent", input=QUESTION, stream_mode="messages-tuple"))
    assert events == lg_snapshot
"""
    )
    script("first", "It is sunny in LA")
    project.runpytest("--snapshot-update").assert_outcomes(passed=1)
    [stored] = list(project.path.rglob("__snapshots__/**/*.json"))
    snapshot = json.loads(stored.read_text())
    assert [e["event"] for e in snapshot] == ["metadata", "messages"]  # tokens folded into one
    assert snapshot[1]["data"][0]["content"] == "It is sunny in LA"
    assert "<id:1>" in stored.read_text()

    script("other-ids", "It is sunny in LA")  # same answer, every id different
    project.runpytest().assert_outcomes(passed=1)

    script("other-ids", "It is raining in LA")
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*assert [[]+ received[]] == [[]- snapshot[]]*",
            '*-*"content": "It is sunny in LA",*',
            '*+*"content": "It is raining in LA",*',
        ]
    )


def test_anyio_tests_use_the_clients_too(project: pytest.Pytester) -> None:
    ScriptedRun(input=QUESTION).values({"done": True}).save(project.path / "cassettes" / "a.json")
    project.makepyfile(
        test_anyio="""
import pytest

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}

@pytest.fixture
def anyio_backend():
    return "asyncio"

@pytest.mark.anyio
@pytest.mark.lg_cassette("a.json")
async def test_with_anyio(lg_client):
    thread = await lg_client.threads.create()
    parts = [p async for p in lg_client.runs.stream(thread["thread_id"], "agent", input=QUESTION)]
    assert parts[-1].data == {"done": True}
"""
    )
    project.runpytest("-p", "no:asyncio").assert_outcomes(passed=1)
