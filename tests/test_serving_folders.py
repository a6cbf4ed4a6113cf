"""Serving a folder: recordings that start alike are reported at startup, a consumer can pin the
cassette its conversation comes from, and every request is logged (for a browser front end,
the only way to see why it got a 404)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lg_testkit import FakeServer
from lg_testkit.script import ScriptedRun


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    ok = ScriptedRun("agent", stream_mode="values", seed="ok").values({"answer": 42})
    failing = ScriptedRun("agent", stream_mode="values", seed="failing").error("ValueError", "no")
    ok.save(tmp_path / "ok.json")
    failing.save(tmp_path / "failing.json")
    return tmp_path


def last_event(
    client: httpx.Client, prefix: str = "", headers: dict[str, str] | None = None
) -> str:
    thread = client.post(f"{prefix}/threads", json={}, headers=headers).json()["thread_id"]
    body = {"assistant_id": "agent", "stream_mode": ["values"]}
    text = client.post(f"{prefix}/threads/{thread}/runs/stream", json=body, headers=headers).text
    return [line for line in text.splitlines() if line.startswith("event: ")][-1]


def test_ambiguous_recordings_are_named(folder: Path) -> None:
    found = FakeServer.from_path(folder).engine.ambiguities()
    assert len(found) == 1
    assert "failing.json" in found[0] and "ok.json" in found[0]


def test_a_consumer_pins_its_cassette_by_header_or_path(folder: Path) -> None:
    server = FakeServer.from_path(folder)
    with httpx.Client(base_url="http://x", transport=server.transport()) as client:
        for _ in range(2):  # whatever the order, the pin decides
            assert last_event(client, headers={"lg-testkit-cassette": "ok"}) == "event: values"
            assert last_event(client, "/_cassette/failing.json") == "event: error"
    assert server.unmatched == []


def test_serve_warns_and_logs_each_request(folder: Path) -> None:
    command = [sys.executable, "-m", "lg_testkit", "serve", str(folder), "--port", "0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as serve:
        try:
            assert serve.stdout is not None and serve.stderr is not None
            url = ""
            while not url.startswith("http"):
                url = serve.stdout.readline().strip()
            warning = serve.stderr.readline()
            assert "warning:" in warning and "pin one with" in warning
            httpx.get(f"{url}/threads/nope/state")
            logged = serve.stderr.readline()
            assert logged.strip() == "lg-testkit: GET /threads/nope/state -> 404"
        finally:
            serve.terminate()


def test_a_browser_on_another_origin_may_call_and_read_location(folder: Path) -> None:
    server = FakeServer.from_path(folder / "ok.json")
    with server.serve() as url, httpx.Client(base_url=url) as client:
        preflight = client.options(
            "/threads",
            headers={
                "origin": "http://page.test",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, last-event-id",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-headers"] == "content-type, last-event-id"
        created = client.post("/threads", json={}, headers={"origin": "http://page.test"})
        assert created.headers["access-control-allow-origin"] == "*"
        assert "location" in created.headers["access-control-expose-headers"]
    assert server.unmatched == []


def test_a_huge_request_body_gets_413_and_nothing_is_kept(folder: Path) -> None:
    from lg_testkit.fakeserver.app import MAX_BODY

    server = FakeServer.from_path(folder / "ok.json")
    with server.serve() as url, httpx.Client(base_url=url) as client:
        answer = client.post("/threads", content=b"x" * (MAX_BODY + 1))
        assert answer.status_code == 413 and "request body over" in answer.json()["detail"]
        assert client.post("/threads", json={}).status_code == 200  # the server is fine
    assert server.unmatched == []


FRONTEND_CASSETTES = Path(__file__).parents[1] / "examples" / "frontend" / "cassettes"


@pytest.mark.parametrize("name", ["threads-approve", "threads-reject"])
def test_a_thread_protocol_client_pins_its_cassette(name: str) -> None:
    """Both recordings start with the same `run.start`, and a browser mints new thread and
    message ids, so nothing but the pin says which recording should answer."""
    recorded = FakeServer.from_path(FRONTEND_CASSETTES / f"{name}.json").cassettes[0].threads[0]
    first = recorded.commands[0]
    server = FakeServer.from_path(FRONTEND_CASSETTES)
    with httpx.Client(transport=server.transport(), base_url="http://fake") as client:
        for minted, pinned in (("cafe", "path"), ("beef", "header")):
            thread = f"01a2122b-0000-7000-8000-00000000{minted}"  # as the browser mints them
            message = first.command["params"]["input"]["messages"][0]["id"]
            command = json.loads(
                json.dumps(first.command)
                .replace(recorded.thread_id, thread)
                .replace(message, thread[:-4] + "0001")
            )
            if pinned == "path":
                answer = client.post(f"/_cassette/{name}/threads/{thread}/commands", json=command)
            else:
                path = f"/threads/{thread}/commands"
                answer = client.post(path, json=command, headers={"lg-testkit-cassette": name})
            assert answer.status_code == 200, answer.text
            if pinned == "path":  # the first replay of that recording: its ids as recorded
                assert answer.json()["result"] == first.reply["result"]
            assert server.engine.protocol[thread].recorded.thread_id == recorded.thread_id
