"""Cassette files: readable layout, atomic writes, clear errors, no secrets."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lg_testkit import (
    Cassette,
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteVersionError,
    RecordingTransport,
)
from lg_testkit.cassette import (
    NO_DATA,
    CassetteWriter,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    StreamItem,
    dumps_compact,
    encode_json,
    model,
)
from lg_testkit.errors import CassetteError, CassetteWriteError
from lg_testkit.recorder import interactions_of
from lg_testkit.replay import ReplayTransport
from lg_testkit.threadlog import ProtocolCommand, ProtocolEvent, ProtocolThread

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
    with pytest.raises(CassetteWriteError, match=r"c\.json: cannot write cassette: disk full"):
        cassette.save()
    assert recorded.read_bytes() == before
    assert sorted(p.name for p in recorded.parent.iterdir()) == ["c.json"]  # no temp file left


def test_hand_edited_stream_items_replay_one_chunk_per_item(recorded: Path) -> None:
    cassette = Cassette.load(recorded)
    stream = cassette.interactions[1].response.stream
    assert stream is not None
    stream.items[1].data = {"messages": ["edited"]}
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


# -- stream items ------------------------------------------------------------------------------


def test_stream_items_are_typed_and_say_whether_they_are_events() -> None:
    stream = RecordedStream.from_chunks(
        [
            (0.01, b': heartbeat\r\n\r\nevent: values\r\ndata: {"a":1}\r\nid: 7\r\n\r\n'),
            (0.02, b'event: x\r\ndata: not json\r\n\r\ndata: {"cut'),
        ]
    )
    beat, values, text, tail = stream.items
    assert beat == StreamItem(0.01, comment=" heartbeat") and not beat.is_event
    assert values == StreamItem(0.01, "values", {"a": 1}, id="7") and values.is_event
    assert text == StreamItem(0.02, "x", text="not json") and text.data is NO_DATA
    # the server ended the stream there: the SDK dispatches the unterminated block (and fails
    # on its JSON), so it is an event; raw keeps its exact text
    assert tail.incomplete and tail.raw == 'data: {"cut' and tail.text == '{"cut' and tail.is_event
    assert stream.events == [values, text, tail]
    cut = RecordedStream.from_chunks([(0.02, b'data: {"a":1}\r\n\r\ndata: {"cut')], cut_short=True)
    assert [item.is_event for item in cut.items] == [True, False]  # never dispatched: cut short
    assert [StreamItem.from_dict(item.to_dict()) for item in stream.items] == stream.items
    assert b"".join(stream.encode_items()) == b"".join(stream.encode())


def test_loaded_items_replay_from_the_encoding_made_at_load(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load checks each event's data by encoding it once; replay sends that encoding."""
    stream = Cassette.load(recorded).interactions[1].response.stream
    assert stream is not None

    def no_second_encoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was encoded again")

    monkeypatch.setattr(model, "dumps_compact", no_second_encoding)
    monkeypatch.setattr(model.orjson, "dumps", no_second_encoding)
    assert b"".join(stream.encode()) == SSE


def test_data_is_sent_as_the_server_wrote_it_small_floats_and_big_integers_too(
    tmp_path: Path,
) -> None:
    """orjson writes some floats unlike Python's json, and reads integers beyond 64 bits as
    floats: the data is what the SDK reads (floats), the bytes sent are kept, none changes."""
    sent = (
        b'event: values\r\ndata: {"tiny":1e-05,"small":3.2e-06,"big":1180591620717411303424,'
        b'"neg":-9223372036854775809,"x":0.1,"y":1e+16}\r\n\r\n'
    )
    stream = RecordedStream.from_chunks([(0.0, sent)])
    assert stream.items[0].data["neg"] == -9.223372036854776e18  # a float, as in the SDK
    assert stream.items[0].raw == sent.decode()  # so the exact text is kept for replay
    request = RecordedRequest("POST", "/threads/t/runs/stream")
    response = RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream)
    Cassette([Interaction(request, response)]).save(tmp_path / "c.json")
    loaded = Cassette.load(tmp_path / "c.json").interactions[0].response.stream
    assert loaded is not None
    assert loaded.items[0].data["big"] == 2**70
    assert loaded.encode() == [sent]


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\x1f\x7f\u2028\udcff")),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_the_data_encoding_is_always_pythons_compact_json(value: object) -> None:
    assert encode_json(value) == dumps_compact(value).encode("utf-8", "surrogateescape")


# -- writing ------------------------------------------------------------------------------------


def test_any_recorded_string_round_trips_even_one_like_the_writers_own_markers(
    tmp_path: Path,
) -> None:
    odd = ["\u0000lg-line\u00000", "\u0000lg-line\u000099", '"\u0000lg-line\u00000"', "\udcff"]
    stream = RecordedStream.from_chunks([(0.0, b"event: values\r\ndata: [1]\r\n\r\n")])
    stream.items[0].data = {text: text for text in odd}
    interaction = Interaction(
        RecordedRequest("POST", "/threads/t/runs/stream", [["q", odd[0]]], json={"odd": odd}),
        RecordedResponse(200, {"x-odd": "\u0000lg-line"[1:]}, stream=stream),
    )
    cassette = Cassette([interaction], {"odd": odd})
    cassette.save(tmp_path / "c.json")
    again = Cassette.load(tmp_path / "c.json")
    assert again.interactions == cassette.interactions
    assert again.meta == cassette.meta
    assert again.dumps() == cassette.dumps() == (tmp_path / "c.json").read_text()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_cassette_follows_the_umask_an_existing_one_keeps_its_mode(
    tmp_path: Path, umask: int
) -> None:
    previous = os.umask(umask)
    try:
        path = Cassette().save(tmp_path / "new.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
        path.chmod(0o640)
        Cassette().save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(previous)


@pytest.mark.parametrize("failing", ["write", "fsync"])
def test_a_full_disk_is_a_typed_error_and_the_old_cassette_stays(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    before = recorded.read_bytes()
    cassette = Cassette.load(recorded)

    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, failing, full)
    with pytest.raises(CassetteWriteError) as info:
        cassette.save()
    assert str(info.value) == (
        f"{recorded}: cannot write cassette: No space left on device; the file was left as it was"
    )
    assert isinstance(info.value, CassetteError)
    assert recorded.read_bytes() == before
    assert sorted(p.name for p in recorded.parent.iterdir()) == ["c.json"]  # no temp file left


def test_a_cassette_in_a_folder_that_cannot_be_made_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CassetteWriteError, match=r"file/c\.json: cannot write cassette"):
        Cassette().save(tmp_path / "file" / "c.json")


def test_the_writer_keeps_finished_interactions_text_and_writes_what_save_writes(
    recorded: Path, tmp_path: Path
) -> None:
    cassette = Cassette.load(recorded)
    writer = CassetteWriter(tmp_path / "grown.json")
    first, second = cassette.interactions
    writer.keep(first)
    assert writer.kept(first) and not writer.kept(second)
    first.response.status = 500  # kept: its text was made when it was kept
    assert writer.save(cassette.meta, [first, second]) == tmp_path / "grown.json"
    first.response.status = 200
    assert (tmp_path / "grown.json").read_text() == cassette.dumps()


def test_saving_masks_nothing_by_itself() -> None:
    """Redaction is the caller's (session, proxy): the cassette package does not import it."""
    code = "import sys, lg_testkit.cassette; print('lg_testkit.redaction' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    assert not hasattr(Cassette(), "redaction")


def test_thread_protocol_logs_are_kept_one_command_or_event_a_line(tmp_path: Path) -> None:
    command = ProtocolCommand(0.0, {"id": 1, "method": "run.start"}, 200, {"type": "success"})
    event = ProtocolEvent(0.01, 0, {"type": "event", "seq": 1, "params": {"a": [1]}})
    thread = ProtocolThread("t1", [command], [event], {"content-type": "text/event-stream"})
    Cassette([], {}, threads=[thread]).save(tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text()
    assert '\n        {"t":0.01,"after":0,"event":{"type":"event","seq":1' in text
    loaded = Cassette.load(tmp_path / "c.json")
    assert loaded.threads == [thread] and loaded.dumps() == text
    (tmp_path / "c.json").write_text(text.replace('"status":200', '"status":101'))
    with pytest.raises(CassetteFormatError, match=r"threads\[0\]\.commands\[0\]\.status"):
        Cassette.load(tmp_path / "c.json")
