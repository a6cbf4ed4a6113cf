"""Stream rules per endpoint, checked against what a real `langgraph dev` sends on each.

tests/data/streams/<version>/joins.json (recorded by tests/data/streams/record.py through the
Python SDK) holds `runs.create` + `runs.join_stream` without a mode (the SDK sends
`stream_mode=`), with an explicit mode (no `metadata` first), from `Last-Event-ID: -1` and from a
mid-stream id; a stateless `POST /runs/stream`; and `threads.join_stream` over a run that
succeeds and one that fails (langgraph-api 0.2.x has no thread stream: it answers 404).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client

from lg_testkit import CassetteSession, use_cassette
from lg_testkit.cassette import Cassette, Interaction, StreamItem
from lg_testkit.protocol import RouteKind, route
from lg_testkit.validation import check_interaction, validate_cassette

JOINS = sorted((Path(__file__).parent / "data" / "streams").glob("*/joins.json"))


def streams(path: Path) -> list[Interaction]:
    return [i for i in Cassette.load(path).interactions if i.response.stream is not None]


def names(interaction: Interaction) -> list[str]:
    assert interaction.response.stream is not None
    return [str(item.event) for item in interaction.response.stream.events]


def kind(interaction: Interaction) -> RouteKind:
    return route(interaction.request.method, interaction.request.path).kind


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize("path", JOINS, ids=lambda p: p.parent.name)
def test_real_joins_thread_streams_and_stateless_runs_pass_validation(
    path: Path, strict: bool
) -> None:
    assert validate_cassette(Cassette.load(path), strict=strict) == []


@pytest.mark.parametrize("path", JOINS, ids=lambda p: p.parent.name)
def test_the_recordings_hold_what_the_rules_are_about(path: Path) -> None:
    recorded = streams(path)
    joins = [i for i in recorded if kind(i) is RouteKind.JOIN]
    asked = [(dict(map(tuple, i.request.query)), i) for i in joins]  # type: ignore[arg-type]
    # The SDK's join without a mode: an empty `stream_mode=`, answered with the run's modes.
    assert any(q.get("stream_mode") == "" and names(i)[0] == "metadata" for q, i in asked)
    assert any(set(names(i)) == {"metadata", "custom", "values"} for i in joins)
    # Joined with an explicit mode, the server sends no metadata first.
    explicit = [i for q, i in asked if q.get("stream_mode") == "custom"]
    assert explicit and all(names(i)[0] == "custom" for i in explicit)
    # Joined part-way with a Last-Event-ID: only what followed it.
    ids = [i.request.headers.get("last-event-id") for i in joins]
    assert "-1" in ids and any(v not in (None, "-1") for v in ids)
    # The stateless run stream.
    assert any(i.request.path == "/runs/stream" for i in recorded)
    # The thread stream: run after run, an error ends only its run; or none on 0.2.x.
    thread = [i for i in recorded if kind(i) is RouteKind.THREAD_STREAM]
    if path.parent.name.startswith("0.2."):
        everything = Cassette.load(path).interactions
        assert [i.response.status for i in everything if kind(i) is RouteKind.THREAD_STREAM] == [
            404
        ]
    else:
        events = names(thread[0])
        assert events.count("metadata") == 4 and events[events.index("error") + 1] == "metadata"


def _edited(interaction: Interaction, items: list[StreamItem]) -> Interaction:
    edited = copy.deepcopy(interaction)
    assert edited.response.stream is not None
    edited.response.stream.items = items
    return edited


@pytest.mark.parametrize("path", JOINS, ids=lambda p: p.parent.name)
def test_the_rules_still_bite_on_each_endpoint(path: Path) -> None:
    recorded = streams(path)
    explicit = next(
        i
        for i in recorded
        if kind(i) is RouteKind.JOIN and ["stream_mode", "custom"] in i.request.query
    )
    assert explicit.response.stream is not None
    values = StreamItem(t=0.0, event="values", data={"ticks": 6})
    unasked = _edited(explicit, [*explicit.response.stream.items, values])
    assert [p.message for p in check_interaction(unasked, source="join")] == [
        "an event of stream mode 'values', which was not requested (stream_mode: ['custom'])"
    ]

    for thread in (i for i in recorded if kind(i) is RouteKind.THREAD_STREAM):
        assert thread.response.stream is not None
        items = list(thread.response.stream.items)
        error = next(n for n, item in enumerate(items) if item.event == "error")
        after_error = _edited(thread, [*items[: error + 1], values])
        assert [p.message for p in check_interaction(after_error, source="thread")] == [
            "no event may follow `error` (event 6)"
        ]

    stateless = next(i for i in recorded if i.request.path == "/runs/stream")
    assert stateless.response.stream is not None
    headless = _edited(stateless, stateless.response.stream.items[1:])
    assert "expected `metadata` (with the run_id) as the first event" in [
        p.message for p in check_interaction(headless, source="stateless")
    ]


def test_recording_sdk_joins_with_strict_validation(langgraph_url: str, tmp_path: Path) -> None:
    """What issue 12 met: every `runs.join_stream` recording failed strict validation."""
    path = tmp_path / "joins.json"
    with (
        CassetteSession(path, "all", validate="strict") as session,
        session.patched(),
        get_sync_client(url=langgraph_url) as client,
    ):
        thread_id = client.threads.create()["thread_id"]
        for mode in (None, "custom"):
            run = client.runs.create(
                thread_id, "ticker", input={}, stream_mode=["custom", "values"]
            )
            parts = list(client.runs.join_stream(thread_id, run["run_id"], stream_mode=mode))
            assert [p.event for p in parts if p.event == "custom"] == ["custom"] * 6
    assert validate_cassette(Cassette.load(path)) == []


@pytest.mark.parametrize("path", JOINS, ids=lambda p: p.parent.name)
def test_recorded_joins_replay_with_strict_validation(path: Path) -> None:
    ticker = {"input": {}, "stream_mode": ["custom", "values"]}
    with (
        use_cassette(path, "none", validate="strict"),
        get_sync_client(url="http://127.0.0.1:2024") as client,
    ):
        thread_id = client.threads.create()["thread_id"]
        run = client.runs.create(thread_id, "ticker", **ticker)
        joined = [p.event for p in client.runs.join_stream(thread_id, run["run_id"])]
        assert joined == ["metadata", *["custom"] * 6, "values"]
        run = client.runs.create(thread_id, "ticker", **ticker)
        parts = client.runs.join_stream(thread_id, run["run_id"], stream_mode="custom")
        assert [p.event for p in parts] == ["custom"] * 6
