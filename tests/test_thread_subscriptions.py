"""A thread-protocol subscription's filter, on replay, as langgraph-api applies it.

A body without a non-empty list of known channels is refused with HTTP 400 and the server's own
words (over a WebSocket: an `invalid_argument` error frame), in-process and over HTTP. Anything
else opens a stream, odd namespaces and depths included, as the server does, and never an error
of the fake's own. Which events a subscription gets is worked out once per channel and
namespace, not per event: a hypothesis property holds it to the per-event filter.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from lg_testkit import Cassette, FakeServer
from lg_testkit.protocol import SUBSCRIPTION_CHANNELS, matches_filter
from lg_testkit.replay.threads import subscription_filter, wire_of
from lg_testkit.threadlog import ProtocolEvent, ProtocolThread

CASSETTE = Path(__file__).resolve().parents[1] / "examples/frontend/cassettes/threads-approve.json"
THREAD = Cassette.load(CASSETTE).threads[0].thread_id
EVENTS = f"/threads/{THREAD}/stream/events"

REFUSED = [
    ({}, "channels is required and must be a non-empty array"),
    ({"channels": []}, "channels is required and must be a non-empty array"),
    ({"channels": "values"}, "channels is required and must be a non-empty array"),
    ("values", "channels is required and must be a non-empty array"),
    ({"channels": ["values", "bogus"]}, "channels contains unsupported entries: bogus. Allowed"),
    ({"channels": [["values"]]}, "channels contains unsupported entries: ['values']. Allowed"),
]
ODD = [
    {"channels": ["values"], "namespaces": [[1]]},
    {"channels": ["values"], "namespaces": [None]},
    {"channels": ["values"], "namespaces": "ab"},
    {"channels": ["values"], "namespaces": [["a"]], "depth": "x"},
    {"channels": ["custom:anything", "checkpoints"], "since": "x"},
]


def _first_event(stream: httpx.Response) -> dict[str, Any]:
    for line in stream.iter_lines():
        if line.startswith("data: "):
            event: dict[str, Any] = json.loads(line[len("data: ") :])
            return event
    raise AssertionError("the stream ended without an event")


@pytest.mark.parametrize(("body", "detail"), REFUSED)
def test_a_subscription_without_known_channels_is_refused_as_the_server_does(
    body: Any, detail: str
) -> None:
    server = FakeServer.from_path(CASSETTE)
    with server.serve() as url, httpx.Client(base_url=url) as over_http:
        answer = over_http.post(EVENTS, json=body)
    with httpx.Client(base_url="http://lg", transport=server.sync_transport()) as in_process:
        again = in_process.post(EVENTS, json=body)
    for response in (answer, again):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"
        assert response.json()["detail"].startswith(detail)
    assert server.unmatched == []  # a refusal is an answer, not a miss


def test_an_odd_filter_opens_a_stream_as_the_server_does() -> None:
    """Odd namespaces and depths are taken (langgraph-api answers them with an open stream):
    one that names no namespace of the recording gets no events, a plain one still does."""
    server = FakeServer.from_path(CASSETTE)
    start = Cassette.load(CASSETTE).threads[0].commands[0].command
    with server.serve() as url, httpx.Client(base_url=url, timeout=5) as client:
        assert client.post(f"/threads/{THREAD}/commands", json=start).json()["type"] == "success"
        for body in ODD:
            with client.stream("POST", EVENTS, json=body) as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
        with client.stream("POST", EVENTS, json={"channels": ["lifecycle"]}) as stream:
            assert _first_event(stream)["method"] == "lifecycle"
    assert server.unmatched == []


def test_a_websocket_subscription_without_known_channels_gets_an_error_frame() -> None:
    server = FakeServer.from_path(CASSETTE)

    async def subscribe(url: str) -> list[dict[str, Any]]:
        async with connect(url.replace("http", "ws", 1) + EVENTS) as socket:
            await socket.send(json.dumps({"id": 1, "method": "subscription.subscribe"}))
            refused = json.loads(await socket.recv())
            params = {"channels": ["lifecycle"]}
            await socket.send(
                json.dumps({"id": 2, "method": "subscription.subscribe", "params": params})
            )
            taken = json.loads(await socket.recv())
            return [refused, taken]

    with server.serve() as url:
        refused, taken = asyncio.run(subscribe(url))
    assert refused["type"] == "error" and refused["id"] == 1
    assert refused["error"] == "invalid_argument"
    assert refused["message"] == "channels is required and must be a non-empty array"
    assert taken["type"] == "success" and taken["id"] == 2


_NAMES = st.sampled_from(["agent", "tools", "research:1", "research:2", "research", "a:b:c"])
_NAMESPACES = st.lists(_NAMES, max_size=3) | st.sampled_from([[None], [1], [["x"]]])
_METHODS = st.sampled_from([*SUBSCRIPTION_CHANNELS, "input.requested", "lifecycle", "oddity"])


@st.composite
def _events(draw: st.DrawFn) -> ProtocolEvent:
    method = draw(_METHODS)
    data: Any = {"name": draw(st.sampled_from(["progress", "", 3]))} if method == "custom" else {}
    namespace = draw(_NAMESPACES | st.just("not a list"))
    params = {"namespace": namespace, "timestamp": 1, "data": data}
    envelope = {"type": "event", "event_id": "e", "seq": 0, "method": method, "params": params}
    return ProtocolEvent(0.0, 0, envelope)


_FILTERS = st.fixed_dictionaries(
    {"channels": st.lists(st.sampled_from([*SUBSCRIPTION_CHANNELS, "custom:progress"]))},
    optional={
        "namespaces": st.lists(st.lists(_NAMES, max_size=2), max_size=2) | st.just([[1]]),
        "depth": st.integers(-1, 3) | st.just("x"),
        "since": st.integers(0, 40),
    },
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_events(), max_size=40), body=_FILTERS)
def test_the_events_a_subscription_takes_are_those_the_filter_takes_one_by_one(
    events: list[ProtocolEvent], body: dict[str, Any]
) -> None:
    for seq, event in enumerate(events, start=1):
        event.event["seq"] = seq
    thread = ProtocolThread("1f0a7b7e-0000-4000-8000-000000000001", events=events)
    wanted = subscription_filter(body)
    taken = [n for n, event in enumerate(events) if wanted(event)]
    assert wire_of(thread).matching(wanted) == taken
    assert all(matches_filter(events[n].event, body) for n in taken)
