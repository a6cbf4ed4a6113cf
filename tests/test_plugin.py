"""The pytest plugin as a user meets it: a test file, a marker, record modes, failure messages."""

from __future__ import annotations

import json
import socket

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import os

import pytest
from langgraph_sdk import get_sync_client

TEXT = os.environ.get("LG_QUESTION", "whats the weather in la")
QUESTION = {"messages": [{"role": "human", "content": TEXT}]}


@pytest.mark.lg_cassette
def test_weather():
    with get_sync_client(url=os.environ["LG_URL"], api_key=None) as client:
        thread = client.threads.create()
        events = [c.event for c in client.runs.stream(thread["thread_id"], "agent", input=QUESTION)]
    assert events[0] == "metadata"
    assert events[-1] == "values"
"""


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# pytest-asyncio is installed here and warns in projects that leave this unset.
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(test_weather=USER_TEST)
    return pytester


def test_record_once_then_replay_offline(
    user_project: pytest.Pytester,
    langgraph_url: str,
    dead_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_URL", langgraph_url)
    user_project.runpytest("--lg-record-mode=once").assert_outcomes(passed=1)
    cassette = user_project.path / "cassettes" / "test_weather" / "test_weather.json"
    assert json.loads(cassette.read_text())["format"] == "lg-testkit-cassette"

    monkeypatch.setenv("LG_URL", dead_url)  # the server is gone for the replay
    user_project.runpytest().assert_outcomes(passed=1)


def test_missing_cassette_in_none_mode_fails_with_how_to_record(
    user_project: pytest.Pytester, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_URL", dead_url)
    result = user_project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*No recorded interaction in *test_weather.json matches POST /threads.*",
            "*test_weather.json does not exist. Record it with record mode 'once' "
            "(pytest: --lg-record-mode=once).*",
        ]
    )


def test_unmatched_request_names_the_closest_recording(
    user_project: pytest.Pytester,
    langgraph_url: str,
    dead_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_URL", langgraph_url)
    user_project.runpytest("--lg-record-mode=once").assert_outcomes(passed=1)

    monkeypatch.setenv("LG_URL", dead_url)
    monkeypatch.setenv("LG_QUESTION", "and in sf?")
    result = user_project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: No recorded interaction in *test_weather.json matches "
            "POST /threads/*/runs/stream.",
            "*Closest recorded: #1 POST /threads/*/runs/stream",
            "*json.input.messages[[]0[]].content: "
            "recorded 'whats the weather in la', got 'and in sf?'",
            "*Record mode is 'none'*--lg-record-mode=new_episodes*",
        ]
    )


def test_marker_path_record_mode_and_cli_precedence(
    pytester: pytest.Pytester, langgraph_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_URL", langgraph_url)
    pytester.makepyfile(
        test_named=USER_TEST.replace(
            "@pytest.mark.lg_cassette",
            '@pytest.mark.lg_cassette("shared/weather.json", record_mode="all")',
        )
    )
    pytester.makeini(INI + "lg_cassette_dir = recordings\n")
    pytester.runpytest().assert_outcomes(passed=1)  # marker says all: records despite ini none
    cassette = pytester.path / "recordings" / "shared" / "weather.json"
    recorded_at = json.loads(cassette.read_text())["meta"]["recorded_at"]
    assert recorded_at

    # The command line beats the marker: none replays, so the file is left as it was.
    before = cassette.read_bytes()
    monkeypatch.setenv("LG_URL", "http://127.0.0.1:9")
    pytester.runpytest("--lg-record-mode=none").assert_outcomes(passed=1)
    assert cassette.read_bytes() == before


def test_options_and_marker_are_documented(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        ["*--lg-record-mode=*none*", "*--lg-cassette-dir=*", "*--lg-speed=*", "*lg_record_mode*"]
    )
    pytester.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.lg_cassette(path=None*"])
