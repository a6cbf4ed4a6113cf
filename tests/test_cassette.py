"""Cassette files: readable layout, atomic writes, clear errors, no secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from lg_testkit import (
    Cassette,
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteVersionError,
    RecordingTransport,
)
from lg_testkit.recorder import interactions_of
from lg_testkit.replay import ReplayTransport

SSE = (
    b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'
    b'event: values\r\ndata: {"messages":[]}\r\n\r\n'
)


def fake_server(request: httpx.Request) -> httpx.Response:
    """Stands in for the network while recording: a stream and a JSON answer."""
    if request.url.path.endswith("/stream"):
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream; charset=utf-8", "set-cookie": "s=1"},
            stream=httpx.ByteStream(SSE),
        )
    return httpx.Response(200, json={"thread_id": "t1", "ratio": 0.5})


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    transport = RecordingTransport(httpx.MockTransport(fake_server))
    headers = {
        "authorization": "Bearer sk-very-secret",
        "x-api-key": "lsv2-secret",
        "cookie": "a=b",
    }
    with httpx.Client(transport=transport, base_url="http://lg", headers=headers) as client:
        client.post("/threads", json={"metadata": {"b": 1, "a": 2}})
        with client.stream("POST", "/threads/t1/runs/stream", json={"stream_mode": "values"}) as r:
            r.read()
    path = tmp_path / "c.json"
    Cassette(interactions_of(transport.captures)).save(path)
    return path


def test_layout_is_readable_json_with_one_line_per_event(recorded: Path) -> None:
    text = recorded.read_text()
    assert json.loads(text)["format"] == "lg-testkit-cassette"
    event_lines = [line.strip() for line in text.splitlines() if '"event":' in line]
    assert [json.loads(line.rstrip(","))["event"] for line in event_lines] == ["metadata", "values"]
    assert Cassette.load(recorded).dumps() == text  # load and save is stable


def test_secrets_never_reach_the_file(recorded: Path) -> None:
    text = recorded.read_text()
    for secret in ("sk-very-secret", "lsv2-secret", "a=b", "s=1"):
        assert secret not in text
    request_headers = Cassette.load(recorded).interactions[0].request.headers
    assert request_headers["authorization"] == "<redacted>"


def test_replay_transport_answers_from_the_file(recorded: Path) -> None:
    with httpx.Client(transport=ReplayTransport(recorded), base_url="http://elsewhere") as client:
        # Key order in the body does not matter; the host does not either.
        assert (
            client.post("/threads", json={"metadata": {"a": 2, "b": 1}}).json()["thread_id"] == "t1"
        )
        with client.stream("POST", "/threads/t1/runs/stream", json={"stream_mode": "values"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert b"".join(r.iter_raw()) == SSE


def test_an_interrupted_save_leaves_the_previous_cassette(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = recorded.read_bytes()
    cassette = Cassette.load(recorded)
    cassette.interactions.pop()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        cassette.save()
    assert recorded.read_bytes() == before
    assert sorted(p.name for p in recorded.parent.iterdir()) == ["c.json"]  # no temp file left


def test_hand_edited_stream_items_replay_one_chunk_per_item(recorded: Path) -> None:
    cassette = Cassette.load(recorded)
    stream = cassette.interactions[1].response.stream
    assert stream is not None
    stream.items[1]["data"] = {"messages": ["edited"]}
    assert stream.encode()[-1] == b'event: values\r\ndata: {"messages":["edited"]}\r\n\r\n'


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            "{not json",
            CassetteFormatError,
            r"c\.json:1:2: not valid JSON .*expected an lg-testkit cassette",
        ),
        (
            '{"interactions": []}',
            CassetteFormatError,
            r"expected format 'lg-testkit-cassette', found None",
        ),
        (
            '{"format": "lg-testkit-cassette", "version": 99, "interactions": []}',
            CassetteVersionError,
            r"format version 99 is newer than this lg-testkit reads \(up to 1\); upgrade",
        ),
        (
            '{"format": "lg-testkit-cassette", "version": 1, "interactions": '
            '[{"request": {"method": "GET", "path": "/ok"}, "response": {}}]}',
            CassetteFormatError,
            r"interactions\[0\]\.response: missing required field 'status'",
        ),
    ],
    ids=["not-json", "not-a-cassette", "future-version", "missing-field"],
)
def test_malformed_cassettes_name_file_and_place(
    tmp_path: Path, content: str, error: type[Exception], message: str
) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(error, match=message) as info:
        Cassette.load(path)
    assert str(path) in str(info.value)


def test_a_missing_cassette_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError, match="no such cassette"):
        Cassette.load(tmp_path / "nope.json")
