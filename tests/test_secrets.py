"""Planted secrets: with default settings no credential reaches a file, a log line or an error
message, through `use_cassette`, the pytest marker, the `lg_client` fixture and the recording
proxy; and every such recording still replays.

Placements (tests/secret_scenario.py plants all of them in one conversation with a stand-in
server that echoes what it is sent): the `x-api-key` of `get_client(api_key=...)`,
`Authorization: Bearer`, `Cookie`, `X-LangSmith-Api-Key`, `api-key`, `X-OpenAI-Api-Key`,
`?api_key=`, `config.configurable.openai_api_key`, `metadata.token`, a `Set-Cookie` answer, each
of them echoed inside stream events (under names that say nothing), and a configured secret and
the `x-api-key` streamed 4 characters per `messages` chunk. A failure names the placements that
leaked.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import secret_scenario as scenario

from lg_testkit import Cassette, Redaction, use_cassette
from lg_testkit.errors import SecretLeakError, UnmatchedRequestError
from lg_testkit.fakeserver import FakeServer
from lg_testkit.serving import serve_in_thread

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
MASKED_ANSWERS = ("The code is <redacted>.", "Your key <redacted> works")


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """The stand-in server that echoes every credential it is sent."""
    with serve_in_thread(scenario.echo_app) as url:
        yield url


def leaked(*texts: str) -> list[str]:
    """The placements whose secret is in any of the texts."""
    return [name for name, value in scenario.SECRETS.items() if any(value in t for t in texts)]


def files_under(folder: Path) -> list[str]:
    return [path.read_text("utf-8", "replace") for path in folder.rglob("*") if path.is_file()]


def check_live(got: dict[str, Any]) -> None:
    """Every planted value reached the server and came back (else the test proves nothing)."""
    assert leaked(json.dumps(got, default=str)) == list(scenario.SECRETS)
    assert scenario.folded(got["events"], "msg-split-1") == scenario.SPLIT_TEXT


def check_replayed(got: dict[str, Any]) -> None:
    """A replay of the masked recording: the split answers fold to the masked text."""
    answers = tuple(scenario.folded(got["events"], f"msg-split-{n}") for n in (1, 2))
    assert answers == MASKED_ANSWERS
    assert leaked(json.dumps(got, default=str)) == []
    assert got["events"][-1][1]["messages"][1]["content"] == MASKED_ANSWERS[0]


# -- the library ---------------------------------------------------------------------------------


def test_use_cassette_writes_no_planted_secret_and_replays(echo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "planted.json"
    configured = Redaction(secrets=[scenario.CONFIGURED])
    with use_cassette(path, "once", redaction=configured):
        live = asyncio.run(scenario.drive_url(echo_url))
    check_live(live)
    assert leaked(*files_under(tmp_path)) == []

    with use_cassette(path, "none"):  # the same client, same credentials: replays
        replayed = asyncio.run(scenario.drive_url("http://127.0.0.1:9"))
    check_replayed(replayed)
    created, fetched, _ = Cassette.load(path).interactions
    assert created.response.headers["set-cookie"] == "<redacted>"
    assert fetched.request.query == [["api_key", "<redacted>"], ["limit", "1"]]


def test_a_replay_that_does_not_match_names_no_credential(echo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "planted.json"
    with use_cassette(path, "once"):
        asyncio.run(scenario.drive_url(echo_url))
    live_key, live_token = "live-query-key-77aa88bb", "live-config-token-99cc00dd"

    async def differently() -> None:
        async with scenario.client("http://127.0.0.1:9") as client:
            metadata = {"token": scenario.SECRETS["metadata.token"]}
            thread = await client.threads.create(metadata=metadata)
            await client.http.get(
                f"/threads/{thread['thread_id']}", params={"api_key": live_key, "limit": "2"}
            )

    with pytest.raises(UnmatchedRequestError) as caught, use_cassette(path, "none"):
        asyncio.run(differently())
    message = str(caught.value)
    assert "query: recorded [['api_key', '<redacted>'], ['limit', '1']], got " in message
    assert live_key not in message and leaked(message) == []

    async def other_body() -> None:
        async with scenario.client("http://127.0.0.1:9") as client:
            await client.threads.create(metadata={"token": live_token, "user": "x"})

    with pytest.raises(UnmatchedRequestError) as caught, use_cassette(path, "none"):
        asyncio.run(other_body())
    message = str(caught.value)
    # `metadata.token` was masked when recorded: any value matches; the new field differs.
    assert "json.metadata.user: not recorded, got 'x'" in message
    assert "metadata.token" not in message and live_token not in message


def test_a_configured_secret_in_a_path_cannot_be_masked_and_is_refused(
    echo_url: str, tmp_path: Path
) -> None:
    secret = "thread-named-after-a-secret-42"
    path = tmp_path / "refused.json"

    async def fetch() -> None:
        async with scenario.client(echo_url) as client:
            await client.http.get(f"/threads/{secret}")

    redaction = Redaction(secrets=[secret])
    with pytest.raises(SecretLeakError) as caught, use_cassette(path, "once", redaction=redaction):
        asyncio.run(fetch())
    message = str(caught.value)
    assert message.startswith(f"{path}: refusing to write a cassette containing a secret value")
    assert "interaction #0 (GET /threads/<redacted>): interactions[0].request.path" in message
    assert secret not in message and leaked(message) == []
    assert not path.exists()


# -- the pytest marker and the lg_client fixture ---------------------------------------------------

MARKER_TEST = """
import asyncio, os
import pytest
import secret_scenario as s

@pytest.mark.lg_cassette
def test_planted():
    got = asyncio.run(s.drive_url(os.environ["LG_ECHO_URL"]))
    assert s.folded(got["events"], "msg-split-1").startswith("The code is ")
"""

FIXTURE_TEST = """
import secret_scenario as s

async def test_planted(lg_client):
    s.plant_headers(lg_client)
    got = await s.drive(lg_client)
    assert s.folded(got["events"], "msg-split-1").startswith("The code is ")
"""


def run_twice(pytester: pytest.Pytester, *options: str) -> list[str]:
    """Record, then replay offline; returns everything pytest printed."""
    secret = f"--lg-secret={scenario.CONFIGURED}"
    recorded = pytester.runpytest("--lg-record-mode=once", secret, *options, "-rA")
    recorded.assert_outcomes(passed=1)
    replayed = pytester.runpytest(secret, "--lg-live-url=http://127.0.0.1:9", "-rA")
    replayed.assert_outcomes(passed=1)
    return [*recorded.outlines, *recorded.errlines, *replayed.outlines, *replayed.errlines]


def test_the_marker_writes_no_planted_secret_and_replays(
    pytester: pytest.Pytester, echo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_ECHO_URL", echo_url)
    pytester.makeini(INI)
    pytester.makepyfile(test_planted=MARKER_TEST)
    printed = run_twice(pytester)
    written = files_under(pytester.path / "cassettes")
    assert len(written) == 1
    assert leaked(*written) == [] and leaked(*printed) == []


def test_lg_client_writes_no_planted_secret_and_replays(
    pytester: pytest.Pytester, echo_url: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_planted=FIXTURE_TEST)
    printed = run_twice(pytester, f"--lg-live-url={echo_url}")
    written = files_under(pytester.path / "cassettes")
    assert len(written) == 1
    assert leaked(*written) == [] and leaked(*printed) == []


def test_keep_credential_fields_is_the_opt_out(
    pytester: pytest.Pytester, echo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_ECHO_URL", echo_url)
    pytester.makeini(INI + "lg_keep_credential_fields = true\n")
    pytester.makepyfile(test_planted=MARKER_TEST)
    pytester.runpytest("--lg-record-mode=once").assert_outcomes(passed=1)
    written = files_under(pytester.path / "cassettes")
    # The body fields are kept as sent; headers and query parameters are still masked.
    assert leaked(*written) == [
        "config.configurable.openai_api_key",
        "metadata.token",
        "split across token events (configured)",
    ]
    pytester.runpytest().assert_outcomes(passed=1)


REDACTED_INPUT_TEST = """
import asyncio, os
import pytest
from langgraph_sdk import get_client

@pytest.mark.lg_cassette
def test_calc():
    async def run():
        async with get_client(url=os.environ["LG_ECHO_URL"], api_key=None) as client:
            thread = await client.threads.create()
            ask = {"messages": [{"role": "human", "content": os.environ["ASK"]}]}
            modes = ["values", "messages-tuple"]
            stream = client.runs.stream(thread["thread_id"], "agent", input=ask, stream_mode=modes)
            return [part async for part in stream]
    assert len(asyncio.run(run())) > 3
"""


def test_a_redacted_request_field_matches_any_live_value_on_replay(
    pytester: pytest.Pytester, echo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_ECHO_URL", echo_url)
    monkeypatch.setenv("ASK", "calc 2 + 40")
    pytester.makeini(INI)
    pytester.makepyfile(test_calc=REDACTED_INPUT_TEST)
    redact = "--lg-redact-json=request:input.messages.*.content"
    pytester.runpytest("--lg-record-mode=once", redact).assert_outcomes(passed=1)
    (written,) = (pytester.path / "cassettes").rglob("*.json")
    run = Cassette.load(written).interactions[-1]
    assert run.request.json["input"]["messages"][0]["content"] == "<redacted>"

    pytester.runpytest().assert_outcomes(passed=1)  # was: json.input.messages[0].content differs
    monkeypatch.setenv("ASK", "calc 3 + 39")
    pytester.runpytest().assert_outcomes(passed=1)  # the cassette knows what it redacted


# -- the recording proxy ---------------------------------------------------------------------------


def test_the_proxy_writes_and_logs_no_planted_secret_and_replays(
    echo_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "proxy" / "planted.json"
    command = [sys.executable, "-m", "lg_testkit", "proxy", "--target", echo_url]
    command += ["--cassette", str(path), "--port", "0", "--secret", scenario.CONFIGURED]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    banner = process.stdout.readline()
    try:
        live = asyncio.run(scenario.drive_url(banner.split()[2]))
    finally:
        process.send_signal(signal.SIGINT)
        out, log = process.communicate(timeout=30)
    check_live(live)
    assert process.returncode == 0, log
    assert "GET /threads/" in log and "?api_key=<redacted>&limit=1 -> 200" in log
    assert leaked(*files_under(tmp_path), banner, out, log) == []

    with FakeServer.from_path(path).serve() as url:
        replayed = asyncio.run(scenario.drive_url(url))
        check_replayed(replayed)
        miss = httpx.get(f"{url}/threads/none?api_key=live-query-key-12345678&limit=9")
    assert miss.status_code == 404 and "api_key" in miss.text
    assert "live-query-key-12345678" not in miss.text


def test_the_proxy_leaves_out_an_exchange_whose_secret_cannot_be_masked(
    echo_url: str, tmp_path: Path
) -> None:
    secret = "thread-named-after-a-secret-42"
    path = tmp_path / "refused.json"
    command = [sys.executable, "-m", "lg_testkit", "proxy", "--target", echo_url]
    command += ["--cassette", str(path), "--port", "0", "--secret", secret]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().split()[2]
    try:
        httpx.post(f"{url}/threads", json={})
        httpx.get(f"{url}/threads/{secret}")
    finally:
        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "Left out of" in log and "#1 GET /threads/<redacted>" in log
    assert "interactions[1].request.path" in log
    assert secret not in log and secret not in path.read_text()
    assert [i.request.path for i in Cassette.load(path).interactions] == ["/threads"]


def test_the_proxy_masks_an_echo_it_learns_only_later(echo_url: str, tmp_path: Path) -> None:
    """An interaction already written is masked again when a later request shows a value in
    it was a credential."""
    from lg_testkit.proxy import RecordingProxy

    path = tmp_path / "late.json"
    key = "late-learned-key-31415926"
    proxy = RecordingProxy(echo_url, path, flush_interval=0)

    async def run() -> str:
        # In-process: each request returns once the proxy has written the cassette.
        transport = httpx.ASGITransport(proxy)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
            await client.post("/threads", json={"metadata": {"note": key}})  # not a secret yet
            first = path.read_text()
            await client.post("/threads", json={}, headers={"x-api-key": key})
        await proxy.stop()
        return first

    assert key in asyncio.run(run())
    assert key not in path.read_text()
    assert Cassette.load(path).interactions[0].response.json["metadata"] == {"note": "<redacted>"}


# -- a real server ---------------------------------------------------------------------------------

REAL_KEYS = {
    "x-api-key": "lsv2_pt_real_server_key_0123",
    "x-openai-api-key": "sk-real-openai-key-4567",
    "x-custom-auth-token": "custom-auth-token-89ab",
    "config.configurable.openai_api_key": "sk-real-config-key-cdef",
    "metadata.token": "real-metadata-token-3141",
}


async def real_run(url: str) -> list[Any]:
    """The agent graph, asked with a credential in every place, streaming the modes that show
    the run's config and metadata."""
    from langgraph_sdk import get_client

    headers = {k: v for k, v in REAL_KEYS.items() if k.startswith("x-") and k != "x-api-key"}
    async with get_client(url=url, api_key=REAL_KEYS["x-api-key"], headers=headers) as client:
        thread = await client.threads.create()
        stream = client.runs.stream(
            thread["thread_id"],
            "agent",
            input={"messages": [{"role": "human", "content": "whats the weather in la"}]},
            config={
                "configurable": {"openai_api_key": REAL_KEYS["config.configurable.openai_api_key"]}
            },
            metadata={"token": REAL_KEYS["metadata.token"]},
            stream_mode=["values", "debug", "checkpoints"],
        )
        return [(part.event, part.data) async for part in stream]


def record_and_replay_real(url: str, path: Path) -> str:
    """Record from a real server, check nothing planted is in the file, replay offline;
    returns what the client saw live."""
    with use_cassette(path, "once"):
        live = json.dumps(asyncio.run(real_run(url)))
    text = path.read_text()
    assert not [name for name, value in REAL_KEYS.items() if value in text]
    with use_cassette(path, "none"):
        replayed = asyncio.run(real_run("http://127.0.0.1:9"))
    assert len(replayed) == len(json.loads(live))
    assert not [name for name, value in REAL_KEYS.items() if value in json.dumps(replayed)]
    return live


def test_a_real_server_echoing_credential_fields_into_its_runs(
    langgraph_url: str, tmp_path: Path
) -> None:
    """langgraph-api copies the run's config and metadata into `checkpoints` and `debug`."""
    live = record_and_replay_real(langgraph_url, tmp_path / "real.json")
    assert REAL_KEYS["config.configurable.openai_api_key"] in live  # echoed by the server
    assert REAL_KEYS["metadata.token"] in live


def test_a_real_server_echoing_credential_headers_into_its_runs(tmp_path: Path) -> None:
    """With `http.configurable_headers` set, langgraph-api puts request headers into every
    run's configurable (0.16.7 never copies `x-api-key` or `authorization` themselves)."""
    from lg_testkit.devserver import DevServer

    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(Path(__file__).parent / "graphs" / "agent.py", app)
    config = {
        "dependencies": ["."],
        "graphs": {"agent": "./agent.py:graph"},
        "http": {"configurable_headers": {"includes": ["x-*"]}},
    }
    (app / "langgraph.json").write_text(json.dumps(config))
    with DevServer(app) as server:
        live = record_and_replay_real(server.url, tmp_path / "headers.json")
    assert REAL_KEYS["x-openai-api-key"] in live and REAL_KEYS["x-custom-auth-token"] in live
