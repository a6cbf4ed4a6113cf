"""The README's quickstart, as a new project copies it: a fresh rootdir, no asyncio config."""

from __future__ import annotations

import pytest

from lg_testkit.script import ScriptedRun

pytest_plugins = ["pytester"]

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in paris"}]}
ANSWER = {"messages": [{"type": "human", "content": "whats the weather in paris"}]}
ANSWER["messages"].append({"type": "ai", "content": "Sunny."})

APP = f"""
from langgraph_sdk import get_client

QUESTION = {QUESTION!r}

async def weather(url: str) -> dict:
    client = get_client(url=url)
    thread = await client.threads.create()
    final = None
    async for chunk in client.runs.stream(thread["thread_id"], "agent", input=QUESTION):
        if chunk.event == "values":
            final = chunk.data
    return final
"""

TEST = """
import pytest
from app import weather

@pytest.mark.lg_cassette
async def test_weather():
    final = await weather("http://127.0.0.1:2024")
    assert final["messages"][-1]["type"] == "ai"


async def test_weather_with_the_fixture(lg_client):
    thread = await lg_client.threads.create()
    assert thread["thread_id"]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(app=APP)
    pytester.mkpydir("tests")
    (pytester.path / "tests" / "test_app.py").write_text(TEST)
    folder = pytester.path / "cassettes" / "tests" / "test_app"
    for name in ("test_weather", "test_weather_with_the_fixture"):
        ScriptedRun(input=QUESTION).values(ANSWER).save(folder / f"{name}.json")
    pytester.syspathinsert()
    return pytester


def test_the_quickstart_passes_without_pytest_asyncio(project: pytest.Pytester) -> None:
    """`pip install lg-testkit`, copy the README: no pytest-asyncio, no asyncio_mode."""
    project.makeini("[pytest]\n")
    result = project.runpytest("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*not natively supported*")


def test_the_quickstart_passes_with_pytest_asyncio_in_strict_mode(
    project: pytest.Pytester,
) -> None:
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_pytest_asyncio_still_runs_the_tests_it_is_asked_to(project: pytest.Pytester) -> None:
    project.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    (project.path / "tests" / "conftest.py").write_text(
        "import pytest, pytest_asyncio\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items:\n"
        "        assert isinstance(item, pytest_asyncio.plugin.PytestAsyncioFunction)\n"
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
