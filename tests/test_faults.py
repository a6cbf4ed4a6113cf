"""A dropped connection as a consumer meets it: the SDK reconnects and the fake answers as the
recorded server would (no event twice), or, when the test asks, the reconnect finds the run gone
and the consumer sees the error. Faults reach the marker as well as `FakeServer`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakeserver_scenarios import Recording
from langgraph_sdk.errors import NotFoundError

from lg_testkit import FakeServer, Faults, use_cassette
from lg_testkit.script import ScriptedRun


async def subgraph_events(client: Any) -> list[list[Any]]:
    thread = await client.threads.create()
    stream = client.runs.stream(
        thread["thread_id"],
        "subgraph",
        input={"steps": []},
        stream_mode=["values", "updates", "debug"],
        stream_subgraphs=True,
    )
    return [[part.event, part.data] async for part in stream]


async def test_a_run_without_event_ids_resumes_where_it_dropped(recording: Recording) -> None:
    server = FakeServer.from_path(recording.cassette("subgraphs"), faults=Faults(drop_after=3))
    with pytest.warns(UserWarning, match="Reconnecting without a Last-Event-ID"):
        events = await subgraph_events(server.async_client())
    assert events == recording.observed["subgraphs"]["events"]  # every event once, in order
    assert any(line.startswith("GET ") and "/stream ->" in line for line in server.log)


async def test_a_reconnect_can_find_the_run_gone(recording: Recording) -> None:
    faults = Faults(drop_after=3, recover=False)
    server = FakeServer.from_path(recording.cassette("subgraphs"), faults=faults)
    with pytest.warns(UserWarning, match="Reconnecting"), pytest.raises(NotFoundError):
        await subgraph_events(server.async_client())
    assert server.log[-1].endswith("-> 404")


async def test_the_marker_path_takes_faults_too(recording: Recording) -> None:
    with (
        use_cassette(recording.cassette("subgraphs"), faults=Faults(drop_after=2, recover=False)),
        pytest.warns(UserWarning),
        pytest.raises(NotFoundError),
    ):
        from langgraph_sdk import get_client

        await subgraph_events(get_client(url="http://127.0.0.1:9", api_key=None))


def test_a_scripted_cut_drops_the_connection(tmp_path: Path) -> None:
    import httpx

    run = ScriptedRun("agent", stream_mode="messages-tuple")
    run.tokens("Hello there, how are you")
    run.cut()
    cassette = run.cassette()
    last = cassette.interactions[-1].response.stream.events[-1]  # type: ignore[union-attr]
    assert "chunk_position" not in last.data[0], "a message cut mid-way has no last chunk"
    path = cassette.save(tmp_path / "cut.json")
    server = FakeServer.from_path(path, validate="off")
    with httpx.Client(base_url="http://x", transport=server.transport()) as client:
        client.post("/threads", json={})
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream(
                "POST", f"/threads/{run.thread_id}/runs/stream", json=run.request_body
            ) as response,
        ):
            for _ in response.iter_bytes():
                pass
