"""Ids a thread-protocol client mints itself, on replay.

`useStream` from `@langchain/react` gives each message it sends a fresh uuid7 (the page shows it
at once, then matches the server's echo to it by id). The fake server takes such an id where
the recording has another, and hands it back in every event that echoes the message; any other
difference still gets HTTP 404. The cassette is the example front end's (examples/frontend).
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from lg_testkit import Cassette, FakeServer
from lg_testkit.replay.bindings import Bindings
from lg_testkit.replay.threads import ThreadReplay, wire_of

CASSETTE = Path(__file__).resolve().parents[1] / "examples/frontend/cassettes/threads-approve.json"


def first_values(client: httpx.Client, thread_id: str) -> dict[str, Any]:
    """The first `values` event a subscription to the thread gets."""
    body = {"channels": ["values"]}
    with client.stream("POST", f"/threads/{thread_id}/stream/events", json=body) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line[len("data: ") :])
                return event
    raise AssertionError("the subscription ended without a values event")


def test_a_message_id_the_client_minted_is_taken_and_echoed() -> None:
    recorded = Cassette.load(CASSETTE).threads[0]
    command = copy.deepcopy(recorded.commands[0].command)
    thread_id, message_id = str(uuid.uuid4()), str(uuid.uuid4())
    command["id"] = 7
    command["params"]["config"]["configurable"]["thread_id"] = thread_id
    command["params"]["input"]["messages"][0]["id"] = message_id

    server = FakeServer.from_path(CASSETTE)
    with httpx.Client(base_url="http://lg", transport=server.transport()) as client:
        reply = client.post(f"/threads/{thread_id}/commands", json=command)
        assert reply.status_code == 200, reply.text
        assert reply.json()["id"] == 7
        event = first_values(client, thread_id)
    (human,) = event["params"]["data"]["messages"]
    assert human["id"] == message_id  # the page's own message, not a second copy of it
    assert human["content"] == "Please refund order A-1042."
    server.check()


def test_a_command_that_differs_otherwise_is_still_refused() -> None:
    recorded = Cassette.load(CASSETTE).threads[0]
    command = copy.deepcopy(recorded.commands[0].command)
    thread_id = str(uuid.uuid4())
    command["params"]["config"]["configurable"]["thread_id"] = thread_id
    command["params"]["input"]["messages"][0]["id"] = str(uuid.uuid4())
    command["params"]["input"]["messages"][0]["content"] = "Please refund order B-7."

    server = FakeServer.from_path(CASSETTE)
    with httpx.Client(base_url="http://lg", transport=server.transport()) as client:
        reply = client.post(f"/threads/{thread_id}/commands", json=command)
    assert reply.status_code == 404
    detail = reply.json()["detail"]
    assert "json.params.input.messages[0].content" in detail, detail
    assert "messages[0].id" not in detail, detail  # the minted id is not what differs


def test_an_id_bound_during_a_replay_is_written_into_every_event_sent_after() -> None:
    """A replay writes its own ids into the recorded events: one bound while its streams are
    already sending (an id the client mints for a later command) is in every event sent after."""
    (thread,) = Cassette.load(CASSETTE).threads
    first, then = sorted(wire_of(thread).uuids())[:2]
    bindings = Bindings({first.decode(): "11111111-1111-4111-8111-111111111111"})
    replay = ThreadReplay(thread, bindings)
    sent = [replay.sendable("sse")[index] for index in range(len(thread.events))]
    assert first in b"".join(wire_of(thread).blocks("sse")) and first not in b"".join(sent)
    bindings.bind(then.decode(), "22222222-2222-4222-8222-222222222222")
    again = b"".join(replay.sendable("sse")[index] for index in range(len(thread.events)))
    assert then in b"".join(sent) and then not in again and first not in again
