"""The core loop against a real `langgraph dev`: record once live, then replay with no server.

Replay runs point the client at a port nobody listens on, so any request that reached the
network would fail: passing replays prove the cassette alone answered.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from lg_testkit import Cassette, RecordedStream, UnmatchedRequestError, use_cassette
from lg_testkit.cli import seed_flow

SEED_INPUT = {"messages": [{"role": "human", "content": "whats the weather in la"}]}

STREAM_MODES: list[Any] = [
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "debug",
    "events",
    ["values", "updates", "messages-tuple", "custom"],
]


@pytest.fixture(scope="module")
def dead_url() -> str:
    """A loopback URL with nothing listening: replay must never need it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def recorded_streams(path: Path) -> list[RecordedStream]:
    """The event streams of a cassette, in request order."""
    responses = [i.response for i in Cassette.load(path).interactions]
    return [response.stream for response in responses if response.stream is not None]


async def stream_events(url: str, assistant: str, **kwargs: Any) -> list[tuple[str, Any]]:
    async with get_client(url=url, api_key=None) as client:
        thread = await client.threads.create()
        return [
            (part.event, part.data)
            async for part in client.runs.stream(thread["thread_id"], assistant, **kwargs)
        ]


def stream_events_sync(url: str, assistant: str, **kwargs: Any) -> list[tuple[str, Any]]:
    with get_sync_client(url=url, api_key=None) as client:
        thread = client.threads.create()
        return [
            (part.event, part.data)
            for part in client.runs.stream(thread["thread_id"], assistant, **kwargs)
        ]


def mode_id(mode: Any) -> str:
    return "+".join(mode) if isinstance(mode, list) else mode


@pytest.mark.parametrize("mode", STREAM_MODES, ids=mode_id)
async def test_async_client_replays_every_stream_mode(
    tmp_path: Path, langgraph_url: str, dead_url: str, mode: Any
) -> None:
    cassette = tmp_path / "run.json"
    with use_cassette(cassette, "all"):
        live = await stream_events(langgraph_url, "agent", input=SEED_INPUT, stream_mode=mode)
    with use_cassette(cassette, "none"):
        replayed = await stream_events(dead_url, "agent", input=SEED_INPUT, stream_mode=mode)

    assert replayed == live
    assert live[0][0] == "metadata" and len(live) >= 2
    [recorded] = recorded_streams(cassette)
    assert [(e.event, e.data) for e in recorded.events] == live


@pytest.mark.parametrize("mode", ["values", "messages-tuple", ["updates", "custom"]], ids=mode_id)
def test_sync_client_replays(tmp_path: Path, langgraph_url: str, dead_url: str, mode: Any) -> None:
    cassette = tmp_path / "run.json"
    with use_cassette(cassette, "all"):
        live = stream_events_sync(langgraph_url, "agent", input=SEED_INPUT, stream_mode=mode)
    with use_cassette(cassette, "none"):
        replayed = stream_events_sync(dead_url, "agent", input=SEED_INPUT, stream_mode=mode)

    assert replayed == live
    assert live[-1][0] != "error"


async def test_the_seed_notebook_flow_and_its_final_answer_replay(
    tmp_path: Path, langgraph_url: str, dead_url: str
) -> None:
    cassette = tmp_path / "seed.json"
    with use_cassette(cassette, "all"):
        live = await seed_flow(langgraph_url, echo=False)
    with use_cassette(cassette, "none"):
        replayed = await seed_flow(dead_url, echo=False)

    assert replayed == live
    final_answer = live[-1][1]
    assert (
        final_answer["messages"][-1]["content"]
        == "It is sunny and 72 degrees in Los Angeles today."
    )
    recorded = Cassette.load(cassette)
    # The JSON calls around the streams are recorded too: two thread creations, two runs.
    labels = [i.request.label for i in recorded.interactions]
    thread_ids = [
        i.response.json["thread_id"] for i in recorded.interactions if i.request.path == "/threads"
    ]
    assert len(thread_ids) == 2
    for thread_id in thread_ids:
        assert f"POST /threads/{thread_id}/runs/stream" in labels
    assert recorded.meta["server"]["version"]  # from GET /info


def raw_chunks(client: httpx.Client, thread_id: str, mode: Any) -> tuple[int, list[bytes]]:
    body = {"assistant_id": "agent", "input": SEED_INPUT, "stream_mode": mode}
    with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        return response.status_code, list(response.iter_raw())


@pytest.mark.parametrize("mode", [["values", "messages-tuple", "updates"], "events"], ids=mode_id)
def test_replay_sends_the_recorded_bytes_in_the_recorded_chunks(
    tmp_path: Path, langgraph_url: str, dead_url: str, mode: Any
) -> None:
    cassette = tmp_path / "bytes.json"
    with use_cassette(cassette, "all"), httpx.Client(base_url=langgraph_url) as client:
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        live_status, live_chunks = raw_chunks(client, thread_id, mode)
    with use_cassette(cassette, "none"), httpx.Client(base_url=dead_url) as client:
        client.post("/threads", json={})
        replay_status, replay_chunks = raw_chunks(client, thread_id, mode)

    assert live_status == replay_status == 200
    assert replay_chunks == live_chunks
    # Parse then encode of the stored stream is exactly what the server sent.
    [stream] = recorded_streams(cassette)
    assert b"".join(stream.encode()) == b"".join(live_chunks)
    assert all(item.raw is None for item in stream.items)  # real LangGraph output needs no raw


async def test_recording_passes_events_through_as_the_graph_emits_them(
    tmp_path: Path, langgraph_url: str, dead_url: str
) -> None:
    async def tick_arrivals(url: str, speed: float | None) -> list[float]:
        async with get_client(url=url, api_key=None) as client:
            thread = await client.threads.create()
            arrivals = []
            async for part in client.runs.stream(
                thread["thread_id"], "ticker", input={}, stream_mode="custom"
            ):
                if part.event == "custom":
                    arrivals.append(time.monotonic())
            return arrivals

    cassette = tmp_path / "ticker.json"
    with use_cassette(cassette, "all"):
        live = await tick_arrivals(langgraph_url, None)
    # Six ticks 0.2 s apart: a buffering recorder would hand them over all at once at the end.
    assert len(live) == 6
    assert live[-1] - live[0] > 0.5

    [stream] = recorded_streams(cassette)
    ticks = [item.t for item in stream.events if item.event == "custom"]
    assert ticks[-1] - ticks[0] > 0.5  # arrival offsets are stored per event

    with use_cassette(cassette, "none", speed=1.0):
        timed = await tick_arrivals(dead_url, 1.0)
    assert timed[-1] - timed[0] > 0.5  # replay at recorded timing keeps the spread
    with use_cassette(cassette, "none", speed=4.0):
        fast = await tick_arrivals(dead_url, 4.0)
    assert fast[-1] - fast[0] < timed[-1] - timed[0]


async def test_an_error_run_and_a_422_replay_faithfully(
    tmp_path: Path, langgraph_url: str, dead_url: str
) -> None:
    async def scenario(url: str) -> tuple[list[tuple[str, Any]], int, str]:
        events = await stream_events(url, "failing", input={})
        with pytest.raises(httpx.HTTPStatusError) as rejected:
            await stream_events(url, "no-such-assistant", input={})
        return events, rejected.value.response.status_code, rejected.value.response.text

    cassette = tmp_path / "errors.json"
    with use_cassette(cassette, "all"):
        live = await scenario(langgraph_url)
    with use_cassette(cassette, "none"):
        replayed = await scenario(dead_url)

    assert replayed == live
    events, status, body = live
    assert events[-1] == ("error", {"error": "ValueError", "message": "boom"})
    assert status == 422 and "no-such-assistant" in body


async def test_a_stream_abandoned_halfway_is_recorded_up_to_the_break(
    tmp_path: Path, langgraph_url: str, dead_url: str
) -> None:
    async def first_two_ticks(url: str) -> list[Any]:
        async with get_client(url=url, api_key=None) as client:
            thread = await client.threads.create()
            seen = []
            async for part in client.runs.stream(
                thread["thread_id"], "ticker", input={}, stream_mode="custom"
            ):
                seen.append(part.data)
                if len(seen) == 3:  # metadata and two ticks
                    break
            return seen

    cassette = tmp_path / "cut.json"
    with use_cassette(cassette, "all"):
        live = await first_two_ticks(langgraph_url)
    [stream] = recorded_streams(cassette)
    assert stream.cut_short
    assert [item.data for item in stream.events][:3] == live
    assert len(stream.events) < 7  # not the whole run

    with use_cassette(cassette, "none"):
        assert await first_two_ticks(dead_url) == live


async def test_replay_without_a_recording_names_the_request_and_the_closest_one(
    tmp_path: Path, langgraph_url: str, dead_url: str
) -> None:
    cassette = tmp_path / "seed.json"
    with use_cassette(cassette, "all"):
        await stream_events(langgraph_url, "agent", input=SEED_INPUT)

    other_input = {"messages": [{"role": "human", "content": "and in sf?"}]}
    with use_cassette(cassette, "none"), pytest.raises(UnmatchedRequestError) as failure:
        await stream_events(dead_url, "agent", input=other_input)

    message = str(failure.value)
    assert "matches POST /threads/" in message and "/runs/stream" in message
    assert "Closest recorded: #1 POST /threads/" in message
    assert (
        "json.input.messages[0].content: recorded 'whats the weather in la', got 'and in sf?'"
        in message
    )
    assert "new_episodes" in message


async def test_new_episodes_appends_and_all_overwrites(tmp_path: Path, langgraph_url: str) -> None:
    cassette = tmp_path / "episodes.json"
    with use_cassette(cassette, "once"):
        await stream_events(langgraph_url, "agent", input=SEED_INPUT)
    assert len(recorded_streams(cassette)) == 1

    with use_cassette(cassette, "new_episodes"):
        # Replays the two recorded calls, records the failing run after them.
        await stream_events(langgraph_url, "agent", input=SEED_INPUT)
        await stream_events(langgraph_url, "failing", input={})
    assert [s.events[-1].event for s in recorded_streams(cassette)] == ["values", "error"]

    with use_cassette(cassette, "all"):
        await stream_events(langgraph_url, "failing", input={})
    assert [s.events[-1].event for s in recorded_streams(cassette)] == ["error"]
