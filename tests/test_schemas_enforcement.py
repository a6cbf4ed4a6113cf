"""Validation where users meet it: recording, replaying (library and plugin), live servers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from lg_testkit import CassetteSession, SchemaViolationError
from lg_testkit.cassette import Cassette, StreamItem
from lg_testkit.contract import check_contract, format_table
from lg_testkit.errors import SchemaWarning
from lg_testkit.schemas import STREAM_MODES
from lg_testkit.validation import validate_cassette

STREAMS = Path(__file__).parent / "data" / "streams" / "0.16.7"
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
BAD_STREAM = (
    b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'
    b'event: messages\r\ndata: [{"content":"Hi","id":"m1"}]\r\n\r\n'
)


def stream_body(client: httpx.Client, path: str, **body: object) -> bytes:
    with client.stream("POST", path, json=body) as response:
        return response.read()


def broken_copy(tmp_path: Path) -> tuple[Path, int]:
    """The resume cassette with `run_id` removed from one stream's metadata event."""
    cassette = Cassette.load(STREAMS / "interrupt-resume.json")
    number = next(n for n, i in enumerate(cassette.interactions) if i.response.stream is not None)
    stream = cassette.interactions[number].response.stream
    assert stream is not None
    del stream.events[0].data["run_id"]
    stream.events[0].raw = None
    path = tmp_path / "broken.json"
    cassette.save(path)
    return path, number


def replay_all(session: CassetteSession) -> None:
    cassette = Cassette.load(session.path)
    with httpx.Client(base_url="http://127.0.0.1:9", transport=session.transport()) as client:
        for interaction in cassette.interactions:
            request = interaction.request
            with client.stream(
                request.method, request.path, json=request.json, headers=request.headers
            ) as response:
                response.read()


def test_replaying_an_invalid_stream_fails_naming_cassette_interaction_event_and_path(
    tmp_path: Path,
) -> None:
    path, number = broken_copy(tmp_path)
    with pytest.raises(SchemaViolationError) as caught:
        replay_all(CassetteSession(path))
    message = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert f"{path}#{number} (POST /threads/" in message
    assert f"{path}#{number}:0: metadata: $: 'run_id' is a required property" in message
    assert [p.index for p in caught.value.problems] == [0]


def test_validation_off_replays_the_invalid_stream_as_recorded(tmp_path: Path) -> None:
    path, _ = broken_copy(tmp_path)
    replay_all(CassetteSession(path, validate="off"))


def test_lenient_replay_warns_about_unknown_events_but_serves_them(tmp_path: Path) -> None:
    cassette = Cassette.load(STREAMS / "interrupt-resume.json")
    stream = next(i.response.stream for i in cassette.interactions if i.response.stream)
    assert stream is not None
    stream.items.insert(1, StreamItem(0.0, "feedback", {"score": 1}))
    stream.chunks = []  # edited: replay sends one chunk per item
    cassette.save(tmp_path / "unknown.json")
    with pytest.warns(SchemaWarning, match=r"unknown.json#\d+:1: feedback: \$: warning: unknown"):
        replay_all(CassetteSession(tmp_path / "unknown.json", validate="lenient"))
    with pytest.raises(SchemaViolationError, match="unknown event name 'feedback'"):
        replay_all(CassetteSession(tmp_path / "unknown.json"))


def test_recording_an_invalid_stream_fails_while_the_test_reads_it(tmp_path: Path) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream; charset=utf-8"}
        return httpx.Response(200, headers=headers, content=BAD_STREAM)

    session = CassetteSession(tmp_path / "new.json", "all")
    live = httpx.MockTransport(server)
    client = httpx.Client(base_url="http://lg", transport=session.transport(live))
    with client, pytest.raises(SchemaViolationError) as caught:
        stream_body(
            client,
            "/threads/t1/runs/stream",
            assistant_id="agent",
            stream_mode="messages-tuple",
        )
    assert f"{tmp_path / 'new.json'}#0:1: messages: $: expected at least 2 items, found 1" in str(
        caught.value
    )
    session.save()  # the invalid recording is still kept for inspection
    assert validate_cassette(Cassette.load(tmp_path / "new.json"))


def test_recording_a_real_server_in_every_mode_validates(
    tmp_path: Path, langgraph_url: str
) -> None:
    with (
        CassetteSession(tmp_path / "live.json", "all") as session,
        httpx.Client(base_url=langgraph_url, transport=session.transport(), timeout=60) as client,
    ):
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        body = stream_body(
            client,
            f"/threads/{thread_id}/runs/stream",
            assistant_id="agent",
            input=QUESTION,
            stream_mode=list(STREAM_MODES),
            stream_subgraphs=True,
            stream_resumable=True,
        )
    assert b"event: messages\r\n" in body and b"event: custom\r\n" in body
    assert validate_cassette(Cassette.load(tmp_path / "live.json")) == []


def test_contract_check_of_a_live_server_covers_every_mode(
    langgraph_url: str, tmp_path: Path
) -> None:
    reports = check_contract(langgraph_url, "subgraph", input={}, cassette=tmp_path / "c.json")
    assert [r.mode for r in reports] == list(STREAM_MODES)
    assert all(r.problems == [] and r.valid == r.events for r in reports)
    by_mode = {r.mode: r for r in reports}
    # metadata, root and subgraph updates, live and joined: 2 x (1 + 3)
    assert by_mode["updates"].events == 8
    table = format_table(reports)
    assert "| updates | 8 | 8 | 0 |" in table.splitlines()
    assert validate_cassette(Cassette.load(tmp_path / "c.json")) == []


# -- through the pytest plugin ---------------------------------------------------------------

pytest_plugins = ["pytester"]

INI = "[pytest]\nlg_cassette_dir = .\nasyncio_default_fixture_loop_scope = function\n"
REPLAY_TEST = """
import httpx, json
from lg_testkit.cassette import Cassette

def test_replay(lg_cassette):
    cassette = Cassette.load(lg_cassette.path)
    with httpx.Client(base_url="http://127.0.0.1:9", transport=lg_cassette.transport()) as client:
        for i in cassette.interactions:
            with client.stream(i.request.method, i.request.path, json=i.request.json) as r:
                r.read()
"""


def test_plugin_fails_the_test_on_an_invalid_replayed_stream(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    path, number = broken_copy(tmp_path)
    shutil.copy(path, pytester.path / "broken.json")
    pytester.makepyfile(test_replay=REPLAY_TEST)
    pytester.makeini(INI)
    pytester.makeconftest(
        "import pytest\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items: item.add_marker(pytest.mark.lg_cassette('broken.json'))\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*SchemaViolationError*broken.json#*1 schema problem*",
            f"*broken.json#{number}:0: metadata: $: 'run_id' is a required property",
        ]
    )
    pytester.runpytest("-p", "no:cacheprovider", "--lg-validate=off").assert_outcomes(passed=1)
    # lenient only relaxes unknown event names: a metadata event without run_id still fails
    lenient = pytester.runpytest("-p", "no:cacheprovider", "--lg-validate=lenient")
    lenient.assert_outcomes(failed=1)


def test_marker_and_ini_select_the_validation_level(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    path, _ = broken_copy(tmp_path)
    shutil.copy(path, pytester.path / "broken.json")
    pytester.makepyfile(
        test_replay=REPLAY_TEST.replace(
            "def test_replay",
            "import pytest\n@pytest.mark.lg_cassette('broken.json', validate='off')\n"
            "def test_replay",
        )
    )
    pytester.makeini(INI + "lg_validate = strict\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "--lg-validate=strict").assert_outcomes(failed=1)
    assert json.loads((pytester.path / "broken.json").read_text())["format"]


def test_a_recording_that_fails_validation_is_kept_and_the_hint_says_so(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_record=f"""
import httpx, pytest

BAD = {BAD_STREAM!r}

def server(request):
    return httpx.Response(200, headers={{"content-type": "text/event-stream"}}, content=BAD)

@pytest.mark.lg_cassette("bad.json")
def test_record(lg_cassette):
    transport = lg_cassette.transport(httpx.MockTransport(server))
    with httpx.Client(base_url="http://lg", transport=transport) as client:
        body = {{"assistant_id": "agent", "stream_mode": "messages-tuple"}}
        client.post("/threads/t1/runs/stream", json=body).read()
"""
    )
    pytester.makeini(INI)
    result = pytester.runpytest("-p", "no:cacheprovider", "--lg-record-mode=all")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the cassette is written all the same*"])
    result.stdout.no_fnmatch_line("*to keep the stream*")
    kept = Cassette.load(pytester.path / "bad.json")
    assert validate_cassette(kept)  # kept as the server sent it, invalid
