"""One engine behind every replay path: the marker's `use_cassette`, `ReplayTransport`,
`FakeServer` in-process and `FakeServer` over HTTP answer the same requests with the same
bytes, the same ids and the same validation outcome."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lg_testkit import Cassette, FakeServer, ReplayTransport, SchemaViolationError, use_cassette

DATA = Path(__file__).parent / "data" / "streams" / "0.16.7"
DEAD = "http://127.0.0.1:9"

Opener = Callable[[Path], "contextmanager[httpx.Client]"]


@contextmanager
def marker(path: Path) -> Iterator[httpx.Client]:
    with use_cassette(path, "none"), httpx.Client(base_url=DEAD) as client:
        yield client


@contextmanager
def replay_transport(path: Path) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=DEAD, transport=ReplayTransport(path)) as client:
        yield client


@contextmanager
def fake_in_process(path: Path) -> Iterator[httpx.Client]:
    server = FakeServer.from_path(path, strict=True)
    with httpx.Client(base_url=DEAD, transport=server.transport()) as client:
        yield client


@contextmanager
def fake_over_http(path: Path) -> Iterator[httpx.Client]:
    server = FakeServer.from_path(path)
    with server.serve() as url, httpx.Client(base_url=url) as client:
        yield client
    server.check()


PATHS = {
    "marker": marker,
    "ReplayTransport": replay_transport,
    "FakeServer in-process": fake_in_process,
    "FakeServer over HTTP": fake_over_http,
}


def replay_all(open_client: Callable[[Path], object], path: Path) -> list[tuple[int, str, bytes]]:
    """Send every recorded request in order; (status, content-type, body) of each answer."""
    cassette = Cassette.load(path)
    seen = []
    with open_client(path) as client:  # type: ignore[attr-defined]
        for interaction in cassette.interactions:
            request = interaction.request
            headers = {
                k: v for k, v in request.headers.items() if k in ("last-event-id", "content-type")
            }
            with client.stream(
                request.method,
                request.path,
                params=[tuple(pair) for pair in request.query],
                json=request.json,
                headers=headers,
            ) as response:
                body = b"".join(response.iter_raw())
                seen.append((response.status_code, response.headers.get("content-type", ""), body))
    return seen


@pytest.mark.parametrize("name", ["all-modes.json", "interrupt-resume.json"])
def test_every_path_answers_with_the_same_bytes_and_ids(name: str) -> None:
    path = DATA / name
    answers = {label: replay_all(opener, path) for label, opener in PATHS.items()}
    reference = answers.pop("marker")
    assert any(b"event: metadata" in body for _, _, body in reference)
    for label, seen in answers.items():
        assert seen == reference, f"{label} answered differently from the marker"


def broken(tmp_path: Path) -> Path:
    """all-modes.json with one `updates` event whose data is not an object."""
    document = json.loads((DATA / "all-modes.json").read_text())
    broken = copy.deepcopy(document)
    for interaction in broken["interactions"]:
        stream = interaction["response"].get("stream")
        for item in (stream or {}).get("items", []):
            if item.get("event") == "updates":
                item["data"] = "not a state"
                break
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken, indent=2))
    return path


@pytest.mark.parametrize("label", list(PATHS))
def test_every_path_reports_the_same_schema_problem(tmp_path: Path, label: str) -> None:
    path = broken(tmp_path)
    with pytest.raises(SchemaViolationError) as failure:
        replay_all(PATHS[label], path)
    problems = [str(problem) for problem in failure.value.problems]
    assert problems and all(p.startswith(f"{path}#") for p in problems)
    assert any(": updates: $: expected object" in p for p in problems), problems


@pytest.mark.parametrize("chunking", ["recorded", "byte", "random:7"])
def test_a_second_replay_rebinds_ids_split_across_any_cut(chunking: str) -> None:
    from lg_testkit.replay.bindings import Bindings, ids_in
    from lg_testkit.replay.tape import Tape

    cassette = Cassette.load(DATA / "all-modes.json")
    run = next(i for i in cassette.interactions if i.response.stream is not None)
    assert run.response.stream is not None
    tape = Tape(run.response.stream, chunking)
    bindings = Bindings.for_replay(ids_in(cassette.interactions), 1)
    pieces = list(tape.plan(bindings).pieces())
    assert b"".join(pieces) == bindings.live_bytes(tape.blob)
    assert [len(p) for p in pieces] == [len(p) for p in tape.plan(Bindings({})).pieces()]
