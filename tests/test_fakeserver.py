"""The fake server replays what a live `langgraph dev` sent, to every kind of client.

Cassettes are recorded once per session from the real dev server (fixture `recording`);
every test then compares what a consumer sees in replay with what it saw live.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakeserver_scenarios import AGENT_INPUT, ALL_MODES, SCENARIOS, Recording, without_ids
from langgraph_sdk import get_client

from lg_testkit.cassette import Cassette, RecordedRequest
from lg_testkit.errors import UnmatchedRequestError
from lg_testkit.fakeserver import FakeServer, Faults
from lg_testkit.replay.matching import differences, normalize


def recorded_stream_bytes(cassette: Path, index: int) -> bytes:
    stream = Cassette.load(cassette).interactions[index].response.stream
    assert stream is not None
    return b"".join(stream.encode())


# -- every client sees the recorded events --------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_async_sdk_in_process_sees_what_the_live_server_sent(
    recording: Recording, name: str
) -> None:
    server = FakeServer.from_path(recording.cassette(name))
    assert await SCENARIOS[name](server.async_client()) == recording.observed[name]
    assert server.unmatched == []


def same_conversation(observed: dict[str, Any]) -> dict[str, Any]:
    """What a replay from a folder must equal: its thread may be created from another cassette
    (creation is answered before the first run says which conversation it is)."""
    return without_ids({key: value for key, value in observed.items() if key != "thread"})


async def test_async_sdk_over_loopback_from_a_folder_of_cassettes(recording: Recording) -> None:
    server = FakeServer.from_path(recording.folder)
    with server.serve() as url:
        for name, scenario in reversed(SCENARIOS.items()):
            async with get_client(url=url, api_key=None) as client:
                seen = await scenario(client)
            assert same_conversation(seen) == same_conversation(recording.observed[name])
            # ids are bound: whatever thread id was handed out is the one the replies name
            if "final" in seen:
                assert seen["final"]["checkpoint"]["thread_id"] == seen["thread"]["thread_id"]
    assert server.unmatched == []


def sync_interrupt(client: Any) -> dict[str, Any]:
    thread = client.threads.create()
    tid = thread["thread_id"]
    first = [
        [p.event, p.data]
        for p in client.runs.stream(tid, "interrupt", input={}, stream_mode="updates")
    ]
    paused = client.threads.get_state(tid)
    second = [
        [p.event, p.data]
        for p in client.runs.stream(
            tid, "interrupt", command={"resume": "yes"}, stream_mode="updates"
        )
    ]
    return {
        "thread": thread,
        "first": first,
        "paused": paused,
        "second": second,
        "final": client.threads.get_state(tid),
    }


def sync_modes_events(client: Any) -> list[list[Any]]:
    tid = client.threads.create()["thread_id"]
    stream = client.runs.stream(
        tid, "agent", input=AGENT_INPUT, stream_mode=ALL_MODES, stream_resumable=True
    )
    return [[part.event, part.data] for part in stream]


def test_sync_sdk_in_process_and_over_loopback(recording: Recording) -> None:
    from langgraph_sdk import get_sync_client

    server = FakeServer.from_path(recording.cassette("interrupt"), recording.cassette("modes"))
    assert sync_interrupt(server.sync_client()) == recording.observed["interrupt"]
    assert sync_modes_events(server.sync_client()) == recording.observed["modes"]["events"]
    server.reset()
    with server.serve() as url, get_sync_client(url=url, api_key=None) as client:
        assert sync_interrupt(client) == recording.observed["interrupt"]
        assert sync_modes_events(client) == recording.observed["modes"]["events"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_against_lg_testkit_serve_gets_the_recorded_bytes(recording: Recording) -> None:
    command = [sys.executable, "-m", "lg_testkit", "serve", str(recording.folder), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as serve:
        try:
            assert serve.stdout is not None
            assert serve.stdout.readline().startswith("lg-testkit: serving 5 cassette(s)")
            url = serve.stdout.readline().strip()

            def curl(*args: str) -> bytes:
                return subprocess.run(
                    ["curl", "-sS", "-N", *args], check=True, capture_output=True
                ).stdout

            thread = json.loads(
                curl(
                    "-X",
                    "POST",
                    f"{url}/threads",
                    "-H",
                    "content-type: application/json",
                    "-d",
                    "{}",
                )
            )
            # Keys in another order, stream_mode as a string, the flags left out: same meaning.
            body = '{"input":{"value":"x"},"stream_mode":"values","assistant_id":"failing"}'
            headers_and_body = curl(
                "-i",
                "-X",
                "POST",
                f"{url}/threads/{thread['thread_id']}/runs/stream",
                "-H",
                "content-type: application/json",
                "-d",
                body,
            )
        finally:
            serve.terminate()
    head, _, streamed = headers_and_body.partition(b"\r\n\r\n")
    recorded = Cassette.load(recording.cassette("error")).interactions[1].response
    assert thread == recording.observed["error"]["thread"]
    assert streamed == recorded_stream_bytes(recording.cassette("error"), 1)
    assert b"content-type: text/event-stream; charset=utf-8" in head
    assert f"location: {recorded.headers['location']}".encode() in head


# -- deterministic, and one recording for any number of consumers ---------------------------------


async def raw_exchange(
    client: httpx.AsyncClient,
) -> list[tuple[int, list[tuple[str, str]], list[bytes]]]:
    """A fixed sequence of requests; every response's status, headers and chunks."""
    seen = []
    thread = None
    for method, path, body in [
        ("POST", "/threads", {}),
        (
            "POST",
            "/threads/{tid}/runs/stream",
            {"assistant_id": "interrupt", "input": {}, "stream_mode": "updates"},
        ),
        ("GET", "/threads/{tid}/state", None),
        (
            "POST",
            "/threads/{tid}/runs/stream",
            {"assistant_id": "interrupt", "command": {"resume": "yes"}, "stream_mode": ["updates"]},
        ),
        ("POST", "/threads", {}),
        (
            "POST",
            "/threads/{tid}/runs/stream",
            {"assistant_id": "interrupt", "input": {}, "stream_mode": "updates"},
        ),
    ]:
        path = path.format(tid=thread)
        async with client.stream(method, path, json=body) as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
        if path == "/threads":
            thread = json.loads(b"".join(chunks))["thread_id"]
        seen.append((response.status_code, response.headers.multi_items(), chunks))
    return seen


async def test_same_cassette_and_requests_give_byte_identical_responses(
    recording: Recording,
) -> None:
    runs = []
    for _ in range(2):
        server = FakeServer.from_path(recording.cassette("interrupt"), chunking="random:7")
        async with httpx.AsyncClient(transport=server.transport(), base_url="http://x") as client:
            runs.append(await raw_exchange(client))
    assert runs[0] == runs[1]
    first_stream = runs[0][1][2]
    assert b"".join(first_stream) == recorded_stream_bytes(recording.cassette("interrupt"), 1)
    # the second thread replays the conversation again, under ids of its own
    assert runs[0][4][2] != runs[0][0][2]


async def test_every_new_thread_replays_the_whole_conversation(recording: Recording) -> None:
    server = FakeServer.from_path(recording.cassette("interrupt"))
    seen = await asyncio.gather(*(SCENARIOS["interrupt"](server.async_client()) for _ in range(10)))
    expected = recording.observed["interrupt"]
    assert seen[0] == expected  # the first replay is the recording itself, ids included
    thread_ids = {observed["thread"]["thread_id"] for observed in seen}
    assert len(thread_ids) == 10
    for observed in seen:
        assert without_ids(observed) == without_ids(expected)
        # ids are bound: the state a consumer reads names the thread it created
        tid = observed["thread"]["thread_id"]
        assert observed["final"]["checkpoint"]["thread_id"] == tid
    assert server.unmatched == []


async def test_polling_walks_through_recorded_answers_then_stays_on_the_last(
    recording: Recording,
) -> None:
    server = FakeServer.from_path(recording.cassette("interrupt"))
    client = server.async_client()
    tid = (await client.threads.create())["thread_id"]
    states = [await client.threads.get_state(tid) for _ in range(3)]
    observed = recording.observed["interrupt"]
    assert states == [observed["paused"], observed["final"], observed["final"]]


# -- matching by meaning; what a request with no recording gets -----------------------------------


def test_python_and_js_sdk_bodies_mean_the_same() -> None:
    python = RecordedRequest(
        "POST",
        "/threads/t/runs/stream",
        json={
            "input": {},
            "stream_mode": ["values"],
            "stream_subgraphs": False,
            "stream_resumable": False,
            "assistant_id": "agent",
        },
    )
    js = RecordedRequest(
        "POST",
        "/threads/t/runs/stream",
        json={
            "assistant_id": "agent",
            "input": {},
            "stream_mode": "values",
            "config": None,
        },
    )
    assert differences(python, js) == []
    assert (
        differences(
            RecordedRequest("POST", "/threads", json={}),
            RecordedRequest("POST", "/threads", json={"metadata": {}}),
        )
        == []
    )
    python_state = RecordedRequest("GET", "/threads/t/state", query=[["subgraphs", "false"]])
    assert differences(python_state, RecordedRequest("GET", "/threads/t/state")) == []
    other_user = RecordedRequest(
        "POST",
        "/threads/t/runs/stream",
        json={
            "assistant_id": "agent",
            "input": {},
            "config": {"configurable": {"user_id": "bob"}},
        },
    )
    assert differences(python, other_user) == [
        "json.config.configurable: not recorded, got {'user_id': 'bob'}"
    ]
    assert differences(python, other_user, ignore=["config.configurable.user_id"]) == [
        "json.config.configurable: not recorded, got {}"
    ]
    assert normalize(python) == normalize(js)


async def test_unmatched_request_gets_404_naming_the_closest_recording(
    recording: Recording,
) -> None:
    server = FakeServer.from_path(recording.folder)
    async with httpx.AsyncClient(transport=server.transport(), base_url="http://x") as client:
        tid = (await client.post("/threads", json={})).json()["thread_id"]
        response = await client.post(
            f"/threads/{tid}/runs/stream", json={"assistant_id": "failing", "input": {"value": "y"}}
        )
    assert response.status_code == 404
    body = response.json()
    assert body["closest"][0]["cassette"] == str(recording.cassette("error"))
    assert body["closest"][0]["differences"] == ["json.input.value: recorded 'x', got 'y'"]
    assert "json.input.value: recorded 'x', got 'y'" in body["detail"]
    assert [u.text for u in server.unmatched] == [body["detail"]]
    with pytest.raises(UnmatchedRequestError, match="recorded 'x', got 'y'"):
        server.check()


def test_pytest_plugin_fails_the_test_with_the_closest_recording(
    recording: Recording, pytester: pytest.Pytester
) -> None:
    folder = pytester.path / "cassettes" / "test_consumer"
    folder.mkdir(parents=True)
    shutil.copy(recording.cassette("error"), folder / "test_stream.json")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_consumer="""
        def test_stream(lg_fake_server):
            client = lg_fake_server.sync_client()
            tid = client.threads.create()["thread_id"]
            list(client.runs.stream(tid, "failing", input={"value": "changed"}))
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: No recorded interaction in *test_stream.json"
            " matches POST /threads/*/runs/stream.",
            "*json.input.value: recorded 'x', got 'changed'",
        ]
    )


# -- faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("over", ["in-process", "loopback"])
async def test_sdk_resumes_a_dropped_stream_from_last_event_id(
    recording: Recording, over: str
) -> None:
    recorded = Cassette.load(recording.cassette("modes")).interactions[1].response.stream
    assert recorded is not None
    ids = [item.id for item in recorded.events]
    # langgraph-api 0.16 can give two events one id; resuming after such an id is ambiguous on
    # a real server too, so drop right after an event whose id is unique.
    drop_after = next(n for n in range(5, len(ids)) if ids.count(ids[n - 1]) == 1)
    server = FakeServer.from_path(recording.cassette("modes"), faults=Faults(drop_after=drop_after))

    async def run(client: Any) -> list[list[Any]]:
        tid = (await client.threads.create())["thread_id"]
        stream = client.runs.stream(
            tid, "agent", input=AGENT_INPUT, stream_mode=ALL_MODES, stream_resumable=True
        )
        return [[part.event, part.data] async for part in stream]

    if over == "loopback":
        with server.serve() as url:
            async with get_client(url=url, api_key=None) as client:
                events = await run(client)
    else:
        events = await run(server.async_client())
    assert events == recording.observed["modes"]["events"]  # every event, exactly once
    joins = [
        line
        for line in server.log
        if line.startswith("GET") and "/stream [Last-Event-ID" in line
    ]
    assert len(joins) == 1


def test_join_replays_events_after_last_event_id(recording: Recording) -> None:
    server = FakeServer.from_path(recording.cassette("modes"))
    stream = Cassette.load(recording.cassette("modes")).interactions[1].response
    assert stream.stream is not None
    ids = [item.id for item in stream.stream.events]
    # langgraph-api 0.16 can repeat an id within one millisecond: resume after a unique one.
    k = next(k for k in range(2, len(ids) - 1) if ids.count(ids[k]) == 1)
    with httpx.Client(transport=server.sync_transport(), base_url="http://x") as client:
        client.post("/threads", json={})
        join = stream.headers["location"]
        after_kth = client.get(join, headers={"Last-Event-ID": ids[k]}).text
        everything = client.get(join, headers={"Last-Event-ID": "-1"}).text
    assert after_kth.count("\r\nid: ") == len(ids) - k - 1
    assert f"id: {ids[k + 1]}\r\n" in after_kth and f"id: {ids[k]}\r\n" not in after_kth
    assert everything.encode() == recorded_stream_bytes(recording.cassette("modes"), 1)


async def test_byte_chunking_splits_every_byte_and_changes_no_event(recording: Recording) -> None:
    server = FakeServer.from_path(recording.cassette("modes"), chunking="byte")
    client = server.async_client()
    tid = (await client.threads.create())["thread_id"]
    events = [
        [p.event, p.data]
        async for p in client.runs.stream(
            tid, "agent", input=AGENT_INPUT, stream_mode=ALL_MODES, stream_resumable=True
        )
    ]
    assert events == recording.observed["modes"]["events"]
    server.reset()
    async with httpx.AsyncClient(transport=server.transport(), base_url="http://x") as raw:
        await raw.post("/threads", json={})
        body = {
            "assistant_id": "agent",
            "input": AGENT_INPUT,
            "stream_mode": ALL_MODES,
            "stream_resumable": True,
        }
        async with raw.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
    assert {len(chunk) for chunk in chunks} == {1}
    assert b"".join(chunks) == recorded_stream_bytes(recording.cassette("modes"), 1)


def test_stall_with_heartbeats_over_loopback(recording: Recording) -> None:
    faults = Faults(stall=(2, 0.35), heartbeat=0.1)
    server = FakeServer.from_path(recording.cassette("error"), faults=faults)
    with server.serve() as url, httpx.Client(base_url=url) as client:
        tid = client.post("/threads", json={}).json()["thread_id"]
        body = {"assistant_id": "failing", "input": {"value": "x"}}
        streamed = client.post(f"/threads/{tid}/runs/stream", json=body).content
    beat = b": heartbeat\r\n\r\n"
    assert streamed.count(beat) >= 2
    assert streamed.replace(beat, b"") == recorded_stream_bytes(recording.cassette("error"), 1)
    second_event_end = streamed.index(b"event: values")
    assert streamed.index(beat) > second_event_end


async def test_speed_paces_streams_at_the_recorded_timing(tmp_path: Path) -> None:
    from lg_testkit import ScriptedRun

    question = {"messages": [{"role": "human", "content": "hi"}]}
    path = (
        ScriptedRun(input=question, stream_mode="custom")
        .custom(1)
        .wait(1.0)
        .custom(2)
        .save(tmp_path / "stall.json")
    )

    async def gap(server: FakeServer) -> float:
        client = server.async_client()
        thread = await client.threads.create()
        arrivals = [
            time.monotonic()
            async for part in client.runs.stream(
                thread["thread_id"], "agent", input=question, stream_mode="custom"
            )
            if part.event == "custom"
        ]
        await client.aclose()
        return arrivals[1] - arrivals[0]

    paced = await gap(FakeServer.from_path(path, speed=4.0))
    assert paced >= 0.25  # the 1 s stall, played 4x faster
    assert await gap(FakeServer.from_path(path)) < paced  # no speed: no waiting
