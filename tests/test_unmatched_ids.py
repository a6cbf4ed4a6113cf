"""Issue 12, item 9: the 404 of an unmatched request must not list the thread id as a difference
when the thread's id is bound (the client's thread stands for the recorded one).

The request on the thread differs from every recording in its input only; that one difference
is what a user must read, for every recording the thread could replay, however the thread got
its id: the recorded one, one derived for a second replay, one the client chose, or a thread
served from a folder where several recordings start with the same thread creation.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from lg_testkit import FakeServer
from lg_testkit.script import ScriptedRun

ASKED = {"messages": [{"role": "human", "content": "not recorded"}]}


def _record(folder: Path, name: str, question: str) -> ScriptedRun:
    run = ScriptedRun(
        "agent",
        input={"messages": [{"role": "human", "content": question}]},
        stream_mode="updates",
        seed=name,
    ).update("agent", {"answer": name})
    run.save(folder / f"{name}.json")
    return run


def _unmatched_on_thread(server: FakeServer, create: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Create a thread, then stream a run nothing recorded: (thread id, the 404's body)."""
    with httpx.Client(base_url="http://lg", transport=server.transport()) as http:
        thread_id = http.post("/threads", json=create).json()["thread_id"]
        body = {"input": ASKED, "stream_mode": "updates", "assistant_id": "agent"}
        answer = http.post(f"/threads/{thread_id}/runs/stream", json=body)
    assert answer.status_code == 404, answer.text
    return thread_id, answer.json()


def _assert_only_the_input_differs(thread_id: str, recorded: list[str], body: dict) -> None:
    runs = [c for c in body["closest"] if c["request"].endswith("/runs/stream")]
    assert len(runs) == len(recorded), body["closest"]
    for closest in runs:
        assert closest["differences"] == [
            f"json.input.messages[0].content: recorded {q!r}, got 'not recorded'"
            for q in recorded
            if q in "".join(closest["differences"])
        ], closest
        assert not any(d.startswith("path:") for d in closest["differences"]), closest
    detail = body["detail"]
    assert "path: recorded" not in detail, detail
    assert f"got /threads/{thread_id}" not in detail, detail
    assert "(2 differences)" not in detail, detail  # a next-closest run counts the input only


@pytest.mark.parametrize("replay", ["first", "second", "client id"])
def test_one_recording_lists_only_the_input(tmp_path: Path, replay: str) -> None:
    _record(tmp_path, "weather", "whats the weather")
    server = FakeServer.from_path(tmp_path / "weather.json", validate="off")
    if replay == "second":
        _unmatched_on_thread(server, {})  # the first replay takes the recorded ids
    create = {"thread_id": str(uuid.uuid4())} if replay == "client id" else {}
    thread_id, body = _unmatched_on_thread(server, create)
    _assert_only_the_input_differs(thread_id, ["whats the weather"], body)


def test_a_folder_of_recordings_lists_only_the_input_for_each(tmp_path: Path) -> None:
    """Both recordings start with the same `POST /threads`: the thread may replay either, so
    either one's thread id is this thread's, and neither counts as a difference."""
    first = _record(tmp_path, "weather", "whats the weather")
    second = _record(tmp_path, "news", "whats the news")
    assert first.thread_id != second.thread_id
    server = FakeServer.from_path(tmp_path, validate="off")
    thread_id, body = _unmatched_on_thread(server, {})
    _assert_only_the_input_differs(thread_id, ["whats the weather", "whats the news"], body)


def test_a_thread_nothing_bound_is_named_as_the_difference(tmp_path: Path) -> None:
    """A run on a thread this server never handed out, with the recorded body: the thread is
    what differs, and the 404 says so (rather than calling the recording already played)."""
    run = _record(tmp_path, "weather", "whats the weather")
    server = FakeServer.from_path(tmp_path / "weather.json", validate="off")
    unknown = str(uuid.uuid4())
    with httpx.Client(base_url="http://lg", transport=server.transport()) as http:
        answer = http.post(f"/threads/{unknown}/runs/stream", json=run.request_body)
    assert answer.status_code == 404
    runs = [c for c in answer.json()["closest"] if c["request"].endswith("/runs/stream")]
    assert runs[0]["differences"] == [
        f"path: recorded /threads/{run.thread_id}/runs/stream, got /threads/{unknown}/runs/stream"
    ]
    assert "already played" not in answer.json()["detail"]
    assert f"Thread {unknown} was not created on this server" in answer.json()["detail"]


@pytest.mark.parametrize("replay", ["first", "second", "client id"])
def test_the_404_names_the_request_as_the_client_sent_it(tmp_path: Path, replay: str) -> None:
    """A second replay's thread has ids of its own: the 404 names the client's, not the
    recorded ones it was compared in."""
    _record(tmp_path, "weather", "whats the weather")
    server = FakeServer.from_path(tmp_path / "weather.json", validate="off")
    if replay == "second":
        _unmatched_on_thread(server, {})
    create = {"thread_id": str(uuid.uuid4())} if replay == "client id" else {}
    thread_id, body = _unmatched_on_thread(server, create)
    first_line = body["detail"].splitlines()[0]
    assert first_line.endswith(f"matches POST /threads/{thread_id}/runs/stream."), first_line
