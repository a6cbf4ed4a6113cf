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
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lg_testkit import Cassette, CassetteFormatError, CassetteVersionError, RecordingTransport
from lg_testkit.cassette import StreamItem, lines, reader
from lg_testkit.errors import CassetteError
from lg_testkit.recorder import interactions_of
from lg_testkit.replay import ReplayEngine
from lg_testkit.replay.transports import to_httpx

MALFORMED = Path(__file__).parent / "data" / "malformed"
STREAMS = Path(__file__).parent / "data" / "streams"
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
    "data-too-deep.json": (F, f"{S}.items[1].data: nested more than 254 levels deep"),
    "data-far-too-deep.json": (F, "maximum recursion depth exceeded while decoding a JSON array"),
    "data-nan.json": (F, f"{S}.items[1].data.score: expected a finite number, found NaN"),
    "data-infinity.json": (F, f"{S}.items[1].data[1]: expected a finite number, found -Infinity"),
    "data-out-of-range.json": (F, f"{S}.items[1].data.messages[0]: expected a finite number"),
    "key-twice.json": (F, "$: duplicate key 'version'"),
    "interactions-twice.json": (F, "$: duplicate key 'interactions'"),
    "data-key-twice.json": (F, f"{S}.items[1].data: duplicate key 'messages'"),
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
        "interactions[0].response.status: expected an HTTP status from 200 to 599, found 42",
    ),
    "status-101.json": (F, "interactions[0].response.status: expected an HTTP status from 200"),
    "status-999.json": (F, "interactions[0].response.status: expected an HTTP status from 200"),
    "status-204-with-body.json": (
        F,
        "interactions[0].response: a 204 response has no content, found a body",
    ),
    "status-304-with-stream.json": (
        F,
        "interactions[1].response: a 304 response has no content, found a stream",
    ),
    "header-name-space.json": (F, "response.headers: 'x a' is not a header name (an HTTP token)"),
    "header-value-line-break.json": (
        F,
        "interactions[0].response.headers.x-a: a header value holds no line break or NUL",
    ),
    "request-method-space.json": (
        F,
        "interactions[0].request.method: expected an HTTP method, found 'GET /x'",
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
    "item-data-unencodable.json": (F, f"{S}.items[1].data: cannot be encoded as bytes"),
    "item-event-line-break.json": (F, f"{S}.items[1].event: a line break or NUL here would"),
    "item-id-line-break.json": (F, f"{S}.items[1].id: a line break or NUL here would change"),
    "item-comment-line-break.json": (F, f"{S}.items[1].comments: a comment line holds no line"),
    "item-unknown-field.json": (F, f"{S}.items[1]: unknown field 'evnet'; an item has t, event"),
    "item-text-not-string.json": (F, f"{S}.items[1].text: expected a string, found an object"),
    "item-data-and-text.json": (F, f"{S}.items[1]: has both 'data' (JSON) and 'text'"),
    "item-event-not-string.json": (F, f"{S}.items[1].event: expected a string, found a list"),
    "item-t-string.json": (F, f"{S}.items[1].t: expected an integer or a number, found a string"),
    "item-t-infinite.json": (F, f"{S}.items[1].t: expected a finite number, found 1e999"),
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
    """Each interaction's request answered by the replay engine, its body read in full."""
    engine = ReplayEngine([cassette], validate="off")
    out = []
    for interaction in cassette.interactions:
        stream = interaction.response.stream
        if stream is not None:  # what timed replay reads
            assert all(isinstance(t, float) for t in stream.timings())
        out.append(to_httpx(engine.respond(interaction.request)).read())
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
    cassette = Cassette.load(tmp_path / "c.json")
    [interaction] = cassette.interactions
    reply = ReplayEngine([cassette]).respond(interaction.request)
    assert to_httpx(reply).headers["x-title"] == "café"


# -- what is not a cassette file at all --------------------------------------------------------


def _load_within(path: Path, seconds: float = 10.0) -> BaseException | None:
    """`Cassette.load(path)` on a thread: the error it raised (None if it loaded), never a hang."""
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            Cassette.load(path)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"Cassette.load({path}) did not return within {seconds} s"
    return outcome[0]


def test_a_fifo_is_refused_at_once_not_read_for_ever(tmp_path: Path) -> None:
    fifo = tmp_path / "c.json"
    os.mkfifo(fifo)
    error = _load_within(fifo)
    assert isinstance(error, CassetteFormatError)
    assert str(error) == f"{fifo}: cannot read cassette: a FIFO, not a regular file"


def test_a_link_to_a_device_or_a_directory_is_refused(tmp_path: Path) -> None:
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    error = _load_within(zero)
    assert isinstance(error, CassetteFormatError)
    assert str(error) == f"{zero}: cannot read cassette: a character device, not a regular file"
    error = _load_within(tmp_path)
    assert isinstance(error, CassetteFormatError)
    assert str(error) == f"{tmp_path}: cannot read cassette: a directory, not a regular file"


def test_a_file_larger_than_the_cap_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _valid(tmp_path / "c.json")
    monkeypatch.setattr(reader, "MAX_BYTES", 100)
    size = path.stat().st_size
    with pytest.raises(CassetteFormatError) as info:
        Cassette.load(path)
    assert str(info.value) == (
        f"{path}: cannot read cassette: {size:,} bytes, more than the 100 bytes a cassette may "
        "hold; record fewer or shorter runs per file"
    )


# -- duplicate keys, in either reading of a file -----------------------------------------------


@pytest.mark.parametrize("indent", [2, None], ids=["writer-layout", "one-line"])
def test_a_duplicate_key_is_refused_wherever_it_is(tmp_path: Path, indent: int | None) -> None:
    """The writer's layout is read line by line, any other as a whole: both refuse it."""
    cassette = Cassette.load(_valid(tmp_path / "c.json"))
    cassette.interactions[1].request.json = {"assistant_id": "agent", "x": {"k": 1}}
    cassette.save(tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text()
    if indent is None:
        text = json.dumps(json.loads(text))
    places = [
        ('"assistant_id": "agent"', '"assistant_id": "agent", "assistant_id": "agent"', "json"),
        ('"k": 1', '"k": 1, "k": 2', "json.x"),
        ('"run_id":"r1"', '"run_id":"r1","run_id":"r2"', "stream.items[0].data"),
        ('"t":0.02', '"t":0.02,"t":0.03', "stream.items[1]"),
    ]
    for old, new, where in places:
        if indent is None:
            old, new = old.replace('":"', '": "'), new.replace('":"', '": "')
            old, new = old.replace('":0', '": 0'), new.replace('":0', '": 0')
            old, new = old.replace('","', '", "'), new.replace('","', '", "')
            old, new = old.replace('0,"', '0, "'), new.replace('0,"', '0, "')
        assert old in text, old
        (tmp_path / "dup.json").write_text(text.replace(old, new, 1))
        with pytest.raises(CassetteFormatError, match="duplicate key") as info:
            Cassette.load(tmp_path / "dup.json")
        assert where in str(info.value)


def test_every_layout_of_the_same_document_loads_the_same(tmp_path: Path) -> None:
    """Reformatted by hand or by a JSON tool, a cassette means what it meant."""
    written = STREAMS / "0.16.7" / "all-modes.json"
    original = Cassette.load(written)
    document = json.loads(written.read_text())
    layouts: list[dict[str, Any]] = [
        {"indent": 4},
        {"separators": (",", ":")},
        {"ensure_ascii": True},
    ]
    for layout in layouts:
        (tmp_path / "c.json").write_text(json.dumps(document, **layout))
        again = Cassette.load(tmp_path / "c.json")
        assert again.interactions == original.interactions
        assert again.dumps() == original.dumps()
        for mine, theirs in zip(again.interactions, original.interactions, strict=True):
            if mine.response.stream is not None:
                assert theirs.response.stream is not None
                assert mine.response.stream.encode() == theirs.response.stream.encode()


# -- fuzz: the writer's layout, read line by line, means what the whole document means --------


@settings(
    max_examples=int(os.environ.get("LG_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.sampled_from(list(' ",:{}1e\\'))),
        min_size=1,
        max_size=4,
    )
)
def test_an_edited_item_line_reads_as_the_whole_document_reads(
    edits: list[tuple[int, int, str]], tmp_path: Path
) -> None:
    """Files in the writer's layout are read by line (the fast path); after any edit of their
    item lines they load as the general reader loads them, or fail as it fails."""
    written = Cassette.load(_valid(tmp_path / "c.json"))
    stream = written.interactions[1].response.stream
    assert stream is not None
    stream.items.append(StreamItem(0.03, "values", {"messages": [{"id": "m", "n": 0.5}]}, id="9"))
    written.save(tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text()
    start = text.index('{"t":')
    end = text.index("\n          ]", start)
    edited = text[start:end]
    for at, removed, inserted in edits:
        at %= len(edited)
        edited = edited[:at] + inserted + edited[at + removed :]
    path = tmp_path / "edited.json"
    path.write_text(text[:start] + edited + text[end:])
    content = path.read_bytes()
    try:
        general = reader.by_document(path, content)
    except CassetteError as exc:
        with pytest.raises(type(exc)) as again:
            Cassette.load(path)
        assert str(again.value) == str(exc)
        return
    fast = lines.by_lines(path, content)
    assert fast is None or fast == general
    loaded = Cassette.load(path)
    assert loaded == general
    assert [i.response.stream.encode() for i in loaded.interactions if i.response.stream] == [
        i.response.stream.encode() for i in general.interactions if i.response.stream
    ]
