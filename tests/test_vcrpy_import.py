"""vcrpy users bring their cassettes: a real vcrpy recording becomes an event-level one."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import secret_scenario as scenario
import vcr
from langgraph_sdk import get_sync_client

from lg_testkit import Cassette, CassetteFormatError, use_cassette
from lg_testkit.cli import main
from lg_testkit.serving import serve_in_thread

SEED_INPUT = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


def weather_events(url: str) -> list[tuple[str, Any]]:
    with get_sync_client(url=url, api_key=None) as client:
        thread = client.threads.create()
        return [
            (part.event, part.data)
            for part in client.runs.stream(
                thread["thread_id"], "agent", input=SEED_INPUT, stream_mode=["values", "updates"]
            )
        ]


def test_a_vcrpy_cassette_converts_and_replays_event_by_event(
    tmp_path: Path, langgraph_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    vcrpy_cassette = tmp_path / "weather.yaml"
    with vcr.use_cassette(str(vcrpy_cassette), record_mode="all"):
        live = weather_events(langgraph_url)

    converted = tmp_path / "weather.json"
    assert main(["import-vcrpy", str(vcrpy_cassette), str(converted)]) == 0
    assert "streams with" in capsys.readouterr().out
    streams = [
        i.response.stream for i in Cassette.load(converted).interactions if i.response.stream
    ]
    assert [(e.event, e.data) for e in streams[0].events] == live
    assert len(streams[0].chunks) == 1  # vcrpy kept one blob: no boundaries or timing to restore

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with use_cassette(converted, "none"):
        assert weather_events(dead_url) == live


def test_loading_a_vcrpy_cassette_directly_says_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("interactions:\n- request:\n    method: GET\nversion: 1\n")
    with pytest.raises(CassetteFormatError, match="looks like a vcrpy cassette: convert it with"):
        Cassette.load(path)


def test_import_masks_the_credentials_vcrpy_kept(tmp_path: Path) -> None:
    """vcrpy writes every header, query and body as sent (tests/secret_scenario.py plants a
    credential in each, and the stand-in server echoes them into the stream); the converted
    cassette holds none of them, each `<redacted>` where it was, and still replays."""
    vcrpy_cassette = tmp_path / "planted.yaml"
    with (
        serve_in_thread(scenario.echo_app) as url,
        vcr.use_cassette(str(vcrpy_cassette), record_mode="all"),
    ):
        live = asyncio.run(scenario.drive_url(url))
    credentials = [name for name in scenario.SECRETS if "configured" not in name]
    kept = vcrpy_cassette.read_text("utf-8")
    assert [name for name in credentials if scenario.SECRETS[name] in kept] == credentials

    converted = tmp_path / "planted.json"
    assert main(["import-vcrpy", str(vcrpy_cassette), str(converted)]) == 0
    text = converted.read_text("utf-8")
    assert [name for name in credentials if scenario.SECRETS[name] in text] == []
    cassette = Cassette.load(converted)
    create, _, run = cassette.interactions[:3]
    assert create.response.headers["set-cookie"] == "<redacted>"
    assert run.request.headers["x-api-key"] == "<redacted>"
    assert run.request.json["config"]["configurable"]["openai_api_key"] == "<redacted>"
    with use_cassette(converted, "none"):
        replayed = asyncio.run(scenario.drive_url("http://127.0.0.1:9"))
    key_answer = scenario.folded(replayed["events"], "msg-split-2")
    assert key_answer == "Your key <redacted> works"  # masked across its token events
    assert len(replayed["events"]) == len(live["events"])
