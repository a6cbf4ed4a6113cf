"""A cassette's seal (lg_testkit.cassette.seal): a file lg-testkit wrote loads fast and is not
validated twice, but no edit, forged claim or change of rules lets an invalid stream through."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from test_schemas_enforcement import STREAMS, replay_all
from test_thread_tooling import CAPTURES, document

from lg_testkit import CassetteSession, FakeServer, SchemaViolationError
from lg_testkit.cassette import Cassette, RecordedStream, encode_all
from lg_testkit.cassette.seal import sealed_text, verified
from lg_testkit.errors import CassetteFormatError, CassetteVersionError
from lg_testkit.replay.threads import wire_of
from lg_testkit.schemas import rules_digest

RECORDED = STREAMS / "interrupt-resume.json"


def sealed_copy(tmp_path: Path) -> Path:
    path = tmp_path / "sealed.json"
    Cassette.load(RECORDED).save(path)
    return path


def unseal(text: str) -> str:
    """The document's text with its seal taken off (what a file written before 0.3 is)."""
    body = text[: text.rindex(',\n  "sealed": ')]
    return body + "\n}\n"


def break_first_metadata(text: str) -> str:
    """A hand edit: the first run stream's metadata loses its run_id."""
    at = text.index('"event":"metadata"')
    start = text.index('"run_id":', at)
    end = text.index('"', text.index('"', start + len('"run_id":')) + 1)
    return text[:start] + '"run_ix":' + text[start + len('"run_id":') : end + 1] + text[end + 1 :]


def test_a_saved_cassette_is_sealed_as_valid_and_loads_the_same(tmp_path: Path) -> None:
    path = sealed_copy(tmp_path)
    content = path.read_bytes()
    seal = verified(content)
    assert seal is not None and seal.valid == rules_digest()
    assert json.loads(content)["sealed"]["valid"] == rules_digest()  # still plain JSON

    sealed, plain = Cassette.load(path), Cassette.load(RECORDED)
    assert sealed.valid_for == rules_digest() and plain.valid_for is None
    assert sealed.interactions == plain.interactions
    assert sealed.dumps() == content.decode()  # load and save is stable
    replay_all(CassetteSession(path))


def test_a_hand_edited_sealed_cassette_is_checked_again(tmp_path: Path) -> None:
    path = sealed_copy(tmp_path)
    path.write_text(break_first_metadata(path.read_text()))  # the seal no longer verifies

    loaded = Cassette.load(path)
    assert loaded.valid_for is None
    with pytest.raises(SchemaViolationError, match="'run_id' is a required property"):
        replay_all(CassetteSession(path))
    server = FakeServer.from_path(path)
    with server.serve() as url, httpx.Client(base_url=url) as client:
        for interaction in loaded.interactions:
            request = interaction.request
            client.request(request.method, request.path, json=request.json)
    with pytest.raises(SchemaViolationError, match="'run_id' is a required property"):
        server.check()


def test_a_seal_claiming_other_rules_or_forged_as_invalid_is_not_trusted(tmp_path: Path) -> None:
    path = sealed_copy(tmp_path)
    broken = unseal(break_first_metadata(path.read_text()))
    body = broken[: -len("\n}\n")]
    for claim in ("0" * 16, None):  # passed other schemas once; or never passed
        path.write_text(sealed_text(body, claim))
        assert verified(path.read_bytes()) is not None
        with pytest.raises(SchemaViolationError, match="'run_id' is a required property"):
            replay_all(CassetteSession(path))


def test_an_invalid_recording_is_sealed_without_the_claim(tmp_path: Path) -> None:
    path = sealed_copy(tmp_path)
    edited = Cassette.load(path)
    stream = next(i.response.stream for i in edited.interactions if i.response.stream)
    assert stream is not None
    del stream.events[0].data["run_id"]
    stream.events[0].raw = None
    edited.save(path)
    seal = verified(path.read_bytes())
    assert seal is not None and seal.valid is None
    with pytest.raises(SchemaViolationError):
        replay_all(CassetteSession(path))


def test_a_file_written_before_the_seal_reads_as_before(tmp_path: Path) -> None:
    path = sealed_copy(tmp_path)
    old = tmp_path / "old.json"
    old.write_text(unseal(path.read_text()))
    assert Cassette.load(old).valid_for is None
    assert Cassette.load(old).interactions == Cassette.load(path).interactions
    digest = hashlib.sha256(old.read_bytes()).hexdigest()
    replay_all(CassetteSession(old))
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest  # replay never rewrites it


def test_an_unsendable_event_name_is_never_sealed_and_is_refused_where_it_is(
    tmp_path: Path,
) -> None:
    """The writer writes what a program put in a cassette, but seals only what is sendable: an
    event name with a line break (it would inject SSE lines) leaves the file unsealed, so that
    loading it checks every item and refuses this one, naming the place."""
    cassette = Cassette.load(RECORDED)
    stream = next(i.response.stream for i in cassette.interactions if i.response.stream)
    assert stream is not None
    stream.events[1].event = "values\r\nevent: injected"
    stream.events[1].raw = None
    cassette.save(tmp_path / "injected.json")
    assert verified((tmp_path / "injected.json").read_bytes()) is None
    with pytest.raises(CassetteFormatError, match=r"items\[\d+\]\.event: a line break"):
        Cassette.load(tmp_path / "injected.json")


def test_a_forged_seal_still_cannot_send_an_injected_line(tmp_path: Path) -> None:
    """A seal is a digest anyone can make again: a file edited and then sealed by hand loads
    (its items are read when used), but no byte of a stream with an unsendable event name is
    sent: its replay is refused, naming the place, as loading an unsealed file would be."""
    text = sealed_copy(tmp_path).read_text()
    body = text[: text.rindex(',\n  "sealed": ')]
    at = body.index('"event":"values"')
    body = body[:at] + '"event":"values\\r\\nevent: injected"' + body[at + 16 :]
    forged = tmp_path / "forged.json"
    forged.write_text(sealed_text(body, rules_digest()))
    assert verified(forged.read_bytes()) is not None
    with pytest.raises(CassetteFormatError, match=r"items\[\d+\]\.event: a line break"):
        replay_all(CassetteSession(forged))


def test_a_forged_seal_on_a_thread_log_cannot_make_replay_wait_for_ever(tmp_path: Path) -> None:
    """A thread event's time decides when timed replay sends it: one a year away, under a seal
    made again by hand, is still refused when the file loads, naming the event."""
    source = Path(__file__).parent.parent / "examples/frontend/cassettes/threads-reject.json"
    text = source.read_text()
    assert verified(text.encode()) is not None
    body = text[: text.rindex(',\n  "sealed": ')]
    at = body.index('{"t":0.79866,"after":0,')
    body = body[:at] + '{"t":31536000,"after":0,' + body[at + len('{"t":0.79866,"after":0,') :]
    forged = tmp_path / "forged.json"
    forged.write_text(sealed_text(body, None))
    assert verified(forged.read_bytes()) is not None
    with pytest.raises(
        CassetteFormatError, match=r"threads\[0\]\.events\[0\]\.t: expected seconds"
    ):
        Cassette.load(forged)


def test_every_recorded_stream_replays_the_same_bytes_from_its_sealed_lines(
    tmp_path: Path,
) -> None:
    """Replay makes a sealed stream's bytes from its lines in the file, without its items: for
    every stream recorded in this repository (heartbeats, ids, subgraph names, text data,
    dropped and cut-short streams), they are the bytes and chunks its items make."""
    root = Path(__file__).parent.parent
    paths = sorted(root.glob("tests/data/**/*.json")) + sorted(root.glob("examples/**/*.json"))
    checked = 0
    for path in paths:
        try:
            cassette = Cassette.load(path)
        except (CassetteFormatError, CassetteVersionError):
            continue  # a deliberately broken file, or not a cassette
        copy = tmp_path / "copy.json"
        cassette.save(copy)
        if verified(copy.read_bytes()) is None:
            continue  # not sealable (an event name no SSE line can carry): read in full
        sealed = Cassette.load(copy)
        for recorded, loaded in zip(cassette.interactions, sealed.interactions, strict=True):
            stream = recorded.response.stream
            if stream is None:
                continue
            assert loaded.response.stream is not None
            again = RecordedStream(
                list(stream.items), stream.chunks, stream.newline, stream.cut_short, stream.dropped
            )
            assert loaded.response.stream.blob() == again.blob(), path
            assert loaded.response.stream.cuts() == again.cuts(), path
            checked += 1
    assert checked > 100


def test_every_recorded_thread_log_replays_the_same_bytes_from_its_sealed_lines(
    tmp_path: Path,
) -> None:
    """Replay sends a sealed thread event's JSON text as the file holds it, never encoding it
    again: for every thread recorded from the Python and the JS server (commands, interrupts,
    subgraphs, tools, non-ASCII text) and every thread cassette in this repository, those are
    the bytes the events make when encoded (as an unsealed file's are), frame and SSE block."""
    examples = Path(__file__).parent.parent / "examples"
    cassettes = [Cassette.from_dict(document(f"{p.parent.name}/{p.stem}")) for p in CAPTURES]
    cassettes += [Cassette.load(p) for p in sorted(examples.glob("**/cassettes/threads-*.json"))]
    checked = 0
    for number, cassette in enumerate(cassettes):
        copy = tmp_path / f"{number}.json"
        cassette.save(copy)
        assert verified(copy.read_bytes()) is not None
        sealed = Cassette.load(copy)
        assert sealed.threads == cassette.threads
        for recorded, loaded in zip(cassette.threads, sealed.threads, strict=True):
            if recorded.events:  # read from the lines, not encoded again
                assert loaded.loaded_texts is not None
            made, kept = wire_of(recorded), wire_of(loaded)
            assert kept.datas() == encode_all(e.event for e in recorded.events)
            assert kept.blocks("sse") == made.blocks("sse")
            checked += len(recorded.events)
    assert checked > 1000


def test_a_forged_seal_cannot_put_a_line_break_into_a_thread_event(tmp_path: Path) -> None:
    """JSON may hold a raw line break between its tokens, and an SSE `data:` line may not: an
    event line given one and sealed again by hand is read the general way, and the event goes
    out as compact JSON on one line."""
    source = Path(__file__).parent.parent / "examples/frontend/cassettes/threads-reject.json"
    text = source.read_text()
    body = text[: text.rindex(',\n  "sealed": ')]
    at = body.index('"event":{"type":"event",') + len('"event":{"type":"event",')
    body = body[:at] + "\n" + body[at:]
    forged = tmp_path / "forged.json"
    forged.write_text(sealed_text(body, rules_digest()))
    assert verified(forged.read_bytes()) is not None
    (thread,) = Cassette.load(forged).threads
    assert thread.loaded_texts is None
    block = wire_of(thread).blocks("sse")[0]
    assert block.count(b"\r\n") == 4 and block.startswith(b"event: ")  # event, data, id, end


def test_a_thread_event_replaced_after_loading_is_sent_as_it_now_is(tmp_path: Path) -> None:
    """The file's text stands for the envelope it was loaded as, not for one put in its place."""
    source = Path(__file__).parent.parent / "examples/frontend/cassettes/threads-reject.json"
    (thread,) = Cassette.load(source).threads
    assert thread.loaded_texts is not None
    thread.events[0].event = {**thread.events[0].event, "seq": 999}
    assert b'"seq":999' in wire_of(thread).datas()[0]
