"""Malformed cassettes fail at load with a typed error naming the file and the place, never later.

tests/data/malformed/ holds one broken file per case; EXPECTED says which error and message
fragment each one gives. A fuzz test mutates a valid cassette at random places: whatever loads
must replay without an exception.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lg_testkit import Cassette, CassetteFormatError, CassetteVersionError, RecordingTransport
from lg_testkit.errors import CassetteError
from lg_testkit.recorder import interactions_of
from lg_testkit.replay import replay_response

MALFORMED = Path(__file__).parent / "data" / "malformed"
F, V = CassetteFormatError, CassetteVersionError
S = "interactions[1].response.stream"
EXPECTED: dict[str, tuple[type[Exception], str]] = {
    "empty.json": (F, ":1:1: not valid JSON (Expecting value)"),
    "truncated.json": (F, ":37:21: not valid JSON (Expecting ',' delimiter)"),
    "not-json.json": (F, ":1:2: not valid JSON"),
    "invalid-utf8.json": (
        F,
        "cannot read cassette: 'utf-8' codec can't decode byte 0xff in position 463",
    ),
    "vcrpy-yaml.json": (F, "this looks like a vcrpy cassette"),
    "not-a-cassette.json": (F, "$: expected format 'lg-testkit-cassette', found None"),
    "top-level-list.json": (F, "$: expected format 'lg-testkit-cassette', found 'list'"),
    "future-version.json": (V, "version 2 is newer than this lg-testkit reads (up to 1); upgrade"),
    "old-version.json": (V, "unsupported cassette format version 0"),
    "version-string.json": (V, "unsupported cassette format version '1'"),
    "version-true.json": (V, "unsupported cassette format version True"),
    "too-deep.json": (F, "cannot read cassette JSON: maximum recursion depth exceeded"),
    "huge-number.json": (F, "cannot read cassette JSON: Exceeds the limit (4300 digits)"),
    "missing-interactions.json": (F, "$: missing required field 'interactions'"),
    "interactions-not-list.json": (F, "$.interactions: expected a list, found an object"),
    "interaction-not-object.json": (F, "interactions[0]: expected an object, found a string"),
    "missing-request.json": (F, "interactions[0]: missing required field 'request'"),
    "request-method-number.json": (
        F,
        "interactions[0].request.method: expected a string, found an integer",
    ),
    "query-not-pairs.json": (F, "interactions[0].request.query[0]: expected a [name, value] pair"),
    "missing-status.json": (F, "interactions[0].response: missing required field 'status'"),
    "status-string.json": (
        F,
        "interactions[0].response.status: expected an integer, found a string",
    ),
    "status-out-of-range.json": (
        F,
        "interactions[0].response.status: expected an HTTP status code, found 42",
    ),
    "headers-list.json": (F, "interactions[0].response.headers: expected an object, found a list"),
    "header-value-number.json": (
        F,
        "interactions[0].response.headers.content-length: expected a string",
    ),
    "body-not-string.json": (
        F,
        "interactions[0].response.body: expected a string or null, found an integer",
    ),
    "body-unencodable.json": (F, "interactions[0].response.body: cannot be encoded as bytes"),
    "missing-items.json": (F, f"{S}: missing required field 'items'"),
    "items-not-list.json": (F, f"{S}.items: expected a list, found an object"),
    "item-not-object.json": (F, f"{S}.items[1]: expected an object, found a string"),
    "item-raw-not-string.json": (F, f"{S}.items[1].raw: expected a string, found an integer"),
    "item-raw-unencodable.json": (F, f"{S}.items[1]: cannot be encoded as bytes"),
    "item-data-unencodable.json": (F, f"{S}.items[1]: cannot be encoded as bytes"),
    "item-text-not-string.json": (F, f"{S}.items[1].text: expected a string, found an object"),
    "item-data-and-text.json": (F, f"{S}.items[1]: has both 'data' (JSON) and 'text'"),
    "item-event-not-string.json": (F, f"{S}.items[1].event: expected a string, found a list"),
    "item-t-string.json": (F, f"{S}.items[1].t: expected an integer or a number, found a string"),
    "item-t-infinite.json": (F, f"{S}.items[1].t: expected seconds between 0 and 86400, found inf"),
    "item-t-huge.json": (F, f"{S}.items[1].t: expected seconds between 0 and 86400, found 1e+21"),
    "item-retry-string.json": (F, f"{S}.items[1].retry: expected an integer, found a string"),
    "item-comments-not-list.json": (F, f"{S}.items[1].comments: expected a list, found an integer"),
    "item-comments-not-strings.json": (F, f"{S}.items[1].comments: expected a list of strings"),
    "chunks-not-pairs.json": (F, f"{S}.chunks[0]: expected a [t, byte_count] pair, found 55"),
    "chunk-size-string.json": (
        F,
        f"{S}.chunks[0]: expected a byte count (an integer >= 0), found '55'",
    ),
    "chunk-size-negative.json": (
        F,
        f"{S}.chunks[0]: expected a byte count (an integer >= 0), found -5",
    ),
    "chunk-t-string.json": (
        F,
        f"{S}.chunks[0]: expected seconds between 0 and 86400, found 'soon'",
    ),
    "newline-not-a-line-end.json": (F, f"{S}.newline: expected"),
    "cut-short-string.json": (F, f"{S}.cut_short: expected true/false, found a string"),
}


def test_every_file_in_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in MALFORMED.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_malformed_cassette_gives_a_typed_error_naming_file_and_place(name: str) -> None:
    error, fragment = EXPECTED[name]
    path = MALFORMED / name
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    assert type(info.value) is error
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert fragment in message
    # No library traceback rides along: nothing chained, or the chain suppressed (`from None`).
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


_spec = importlib.util.spec_from_file_location("make_corpus", MALFORMED / "make.py")
assert _spec is not None and _spec.loader is not None
_CORPUS_MAKER = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_CORPUS_MAKER)  # defines BASE; writes nothing unless run as a script


def test_the_valid_document_the_corpus_breaks_loads_and_replays(tmp_path: Path) -> None:
    """Most corpus files are `_document()` below with one thing broken."""
    cassette = Cassette.load(_valid(tmp_path / "c.json"))
    assert _replay_all(cassette) == [b'{"thread_id":"t1"}', _SSE]


# -- fuzz: what loads, replays -------------------------------------------------------------------

_SSE = (
    b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'
    b'event: values\r\ndata: {"messages":[]}\r\n\r\n'
)


def _document() -> dict[str, Any]:
    """A fresh copy of the corpus's valid base cassette (BASE in tests/data/malformed/make.py)."""
    return copy.deepcopy(_CORPUS_MAKER.BASE)


def _valid(path: Path) -> Path:
    path.write_text(json.dumps(_document()))
    return path


def _replay_all(cassette: Cassette) -> list[bytes]:
    out = []
    for interaction in cassette.interactions:
        stream = interaction.response.stream
        if stream is not None:  # what timed replay reads
            assert all(isinstance(t, float) for t in stream.timings())
        out.append(replay_response(interaction).read())
    return out


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, as key/index paths."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


PLACES = [p for p in _paths(_document()) if p]
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_lists = st.lists(json_leaves, max_size=3)
json_values = (
    json_leaves
    | json_lists
    | st.dictionaries(st.text(max_size=5), json_leaves | json_lists, max_size=3)
)
mutations = st.lists(
    st.tuples(st.sampled_from(PLACES), st.one_of(json_values, st.just(...))), min_size=1, max_size=3
)


@settings(
    max_examples=int(os.environ.get("LG_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=mutations)
def test_whatever_loads_replays_without_an_exception(
    changes: list[tuple[tuple[Any, ...], Any]], tmp_path: Path
) -> None:
    document: Any = _document()
    for place, value in changes:
        parent = document
        try:
            for key in place[:-1]:
                parent = parent[key]
            if value is ...:  # `...` deletes the field
                del parent[place[-1]]
            else:
                parent[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this place
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    try:
        cassette = Cassette.load(path)
    except CassetteError as exc:
        assert str(exc).startswith(str(path))
        return
    _replay_all(cassette)


def test_a_recorded_non_ascii_header_value_replays(tmp_path: Path) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=[(b"x-title", "café".encode())], json={"a": 1})

    transport = RecordingTransport(httpx.MockTransport(server))
    with httpx.Client(transport=transport) as client:
        client.get("http://lg/ok")
    Cassette(interactions_of(transport.captures)).save(tmp_path / "c.json")
    [interaction] = Cassette.load(tmp_path / "c.json").interactions
    assert replay_response(interaction).headers["x-title"] == "café"
