"""Reading a cassette: every check replay relies on is made once, here, at load.

Any problem is a CassetteFormatError (or CassetteVersionError, CassetteNotFoundError) naming the
file and the JSON path, never a hang, a crash or a failure later in replay:

- only a regular file of at most MAX_BYTES is read (not a FIFO, a device, /dev/zero);
- JSON as the SDK's orjson reads it: no NaN, Infinity or numbers out of range; no duplicate
  keys; no value nested deeper than MAX_DEPTH;
- statuses 200-599, and none of 204/205/304 with content; header names are HTTP tokens and
  values hold no line break or NUL; event names and ids hold no line break (it would inject
  SSE lines); every string can be sent as bytes.

Two ways to read, one result. A file in the writer's layout is read by lines (lines.py, the
fast path); anything else, and every file with a problem, as a whole document (`by_document`,
which gives every error its message). Here orjson parses the bytes and each event's data is
encoded once, the encoding kept for replay. Duplicate keys, which orjson silently collapses, are
found by counting: the keys in the file's text against the keys parsed, both with C string
operations; only when the counts cannot be trusted or differ is the file parsed again by
Python's json, which sees every key. Python's json also parses what orjson refuses but the format
allows: lone surrogate escapes (bytes that were not UTF-8) and integers beyond 64 bits (orjson
would turn them into floats).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from lg_testkit.cassette.model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_DEPTH,
    MAX_OFFSET,
    NO_DATA,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    StreamItem,
    UnreadItems,
    encode_json,
    orjson_differs,
    too_deep,
)
from lg_testkit.cassette.seal import verified
from lg_testkit.errors import CassetteFormatError, CassetteNotFoundError, CassetteVersionError
from lg_testkit.threadlog import ProtocolCommand, ProtocolEvent, ProtocolThread

__all__ = ["MAX_BYTES", "by_document", "from_document", "load", "read_file"]

MAX_BYTES = 2_000_000_000  # a cassette larger than this is refused, not read
_VCRPY_HINT = (
    "; this looks like a vcrpy cassette: convert it with `lg-testkit import-vcrpy SRC DEST`"
)
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19  # 19 digits may be beyond 64 bits, which orjson turns into a float
_SLICE = 1 << 23  # bytes handled at a time where a whole file need not be copied at once
_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: header names, methods
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not in a header value (tab is allowed)
_NO_CONTENT = frozenset({204, 205, 304})
_ITEM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "t": (int, float),
    "event": str,
    "data": object,
    "text": str,
    "id": str,
    "retry": int,
    "comments": list,
    "comment": str,
    "incomplete": bool,
    "raw": str,
}
_ITEM_KEYS = frozenset(_ITEM_FIELDS)


def load(path: str | os.PathLike[str]) -> Cassette:
    """Read and check a cassette file: by lines where it has the writer's layout (lines.py),
    else as a whole document, which also gives every error its message."""
    from lg_testkit.cassette.lines import by_lines

    path = Path(path)
    content = read_file(path)
    seal = verified(content)
    with _gc_paused():  # the parse makes millions of objects and no garbage
        cassette = by_lines(path, content, sealed=seal is not None)
        if cassette is None:
            cassette = by_document(path, content)
    cassette.valid_for = seal.valid if seal is not None else None
    return cassette


def by_document(path: Path, content: bytes) -> Cassette:
    """Any valid cassette, however laid out; every error is raised from here."""
    document, exact = _parse(path, content)
    reader = _Reader(path)
    try:
        cassette = reader.cassette(document)
    except (CassetteFormatError, CassetteVersionError):
        if not exact:  # a duplicate key may be why: name it instead
            _parse_exact(path, content)
        raise
    if not exact and (reader.keys is None or reader.keys != _keys_in_text(content)):
        _parse_exact(path, content)  # raises naming the duplicate key, if there is one
    return cassette


def from_document(document: Any, path: str | os.PathLike[str] | None = None) -> Cassette:
    """Check and build a cassette from an already parsed document; `path` names it in errors."""
    cassette = _Reader(Path(path or "<document>")).cassette(document)
    cassette.path = None if path is None else Path(path)
    return cassette


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No garbage collection while a load makes its objects, which are all kept: they go to
    the oldest generation at once (freeze, unfreeze) instead of being scanned as young ones,
    unless something else froze objects (a forking server), which is left as it is."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


# -- bytes -------------------------------------------------------------------------------------


def read_file(path: Path, what: str = "cassette") -> bytes:
    """A file's bytes, if it is a regular file of at most MAX_BYTES (a FIFO would block the
    reader, /dev/zero never ends); `what` names the file in errors."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise CassetteNotFoundError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise CassetteFormatError(f"{path}: cannot read {what}: {exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _file_kind(info.st_mode)
            raise CassetteFormatError(f"{path}: cannot read {what}: {kind}, not a regular file")
        _check_size(path, info.st_size, what)
        parts = []
        size = 0
        while True:  # read what is there; keep reading only if the file grew meanwhile
            part = os.read(fd, min(info.st_size + 1, MAX_BYTES + 1 - size) or 1)
            if not part:
                break
            parts.append(part)
            size += len(part)
            _check_size(path, size, what)
        return parts[0] if len(parts) == 1 else b"".join(parts)  # b"" for an empty file
    except OSError as exc:
        raise CassetteFormatError(f"{path}: cannot read {what}: {exc}") from None
    finally:
        os.close(fd)


def _check_size(path: Path, size: int, what: str) -> None:
    if size > MAX_BYTES:
        raise CassetteFormatError(
            f"{path}: cannot read {what}: {_size(size)}, more than the {_size(MAX_BYTES)} a "
            "cassette may hold; record fewer or shorter runs per file"
        )


def _size(count: int) -> str:
    return f"{count / 1e6:,.0f} MB" if count >= 10_000_000 else f"{count:,} bytes"


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "a special file")


# -- JSON --------------------------------------------------------------------------------------


def _parse(path: Path, content: bytes) -> tuple[Any, bool]:
    """(document, parsed exactly): orjson where it gives what Python's json would."""
    if not _long_numbers(content):
        try:
            return orjson.loads(content), False
        except orjson.JSONDecodeError:
            pass  # malformed, or something only Python's json reads (lone surrogates)
    return _parse_exact(path, content), True


def _long_numbers(content: bytes) -> bool:
    """Whether the text has a run of 19 digits (in a string, too: then json parses, exactly)."""
    for start in range(0, len(content), _SLICE):  # in slices: no copy of a whole large file
        piece = content[max(start - 18, 0) : start + _SLICE].translate(_DIGITS_ONLY)
        if _LONG_NUMBER in piece:
            return True
    return False


class _NonFinite:
    def __init__(self, text: str) -> None:
        self.text = text


class _Exact:
    """Python's json hooks: every key seen (duplicates noted), non-finite numbers marked."""

    def __init__(self) -> None:
        self.duplicates: dict[int, str] = {}  # id of an object -> a key it had twice
        self.flagged = False

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(pairs)
        if len(mapping) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.duplicates[id(mapping)] = key
                    break
                seen.add(key)
            self.flagged = True
        return mapping

    def constant(self, name: str) -> Any:
        self.flagged = True
        return _NonFinite(name)

    def number(self, text: str) -> Any:
        value = float(text)
        if math.isinf(value):
            self.flagged = True
            return _NonFinite(text)
        return value


def _parse_exact(path: Path, content: bytes) -> Any:
    """Parse with Python's json, refusing duplicate keys and non-finite numbers by place."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(f"{path}: cannot read cassette: {exc}") from None
    hooks = _Exact()
    try:
        document = json.loads(
            text,
            object_pairs_hook=hooks.pairs,
            parse_constant=hooks.constant,
            parse_float=hooks.number,
        )
    except json.JSONDecodeError as exc:
        hint = _VCRPY_HINT if "interactions:" in text else ""
        raise CassetteFormatError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            f"expected an lg-testkit cassette{hint}"
        ) from None
    except RecursionError as exc:
        raise CassetteFormatError(
            f"{path}: cannot read cassette JSON: {exc} (a value may nest {MAX_DEPTH} levels)"
        ) from None
    except ValueError as exc:  # e.g. a 5000-digit number
        raise CassetteFormatError(f"{path}: cannot read cassette JSON: {exc}") from None
    if hooks.flagged:
        _refuse_flagged(path, document, hooks.duplicates)
    return document


def _refuse_flagged(path: Path, document: Any, duplicates: dict[int, str]) -> None:
    """Find the first duplicate key or non-finite number in document order, and refuse it."""
    stack: list[tuple[Any, str]] = [(document, "$")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _NonFinite):
            raise CassetteFormatError(
                f"{path}: {where}: expected a finite number, found {value.text} "
                "(JSON has no NaN or Infinity, and the SDK refuses numbers beyond 1.8e308)"
            ) from None
        if isinstance(value, dict):
            if id(value) in duplicates:
                raise CassetteFormatError(
                    f"{path}: {where}: duplicate key {duplicates[id(value)]!r} (a JSON reader "
                    "keeps one of the two silently); keep the one you mean"
                ) from None
            for key, inner in reversed(value.items()):
                stack.append((inner, key if where == "$" else f"{where}.{key}"))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((value[index], f"{where}[{index}]"))


def _keys_in(encoded: bytes) -> int | None:
    """The number of object keys in compact JSON text, or None where a simple count could be
    wrong: `\\":` only occurs inside strings, unless a key ends in a backslash."""
    if b'\\\\":' in encoded:
        return None
    return encoded.count(b'":') - encoded.count(b'\\":')


def _keys_in_text(content: bytes) -> int | None:
    """Keys in the file as written (a duplicate counts twice); None if not countable."""
    if _SPACED_COLON.search(content) is not None:
        return None
    return _keys_in(content)


# -- the document ------------------------------------------------------------------------------


class _Reader:
    """Turns a parsed cassette document into objects, naming the place of anything malformed.

    `keys` counts the object keys it met (None once a count was not possible), for the check
    against the keys in the file's text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: int | None = 0

    def fail(self, where: str, message: str) -> CassetteFormatError:
        return CassetteFormatError(f"{self.path}: {where}: {message}")

    def need(self, mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(mapping, dict):
            raise self.fail(where, f"expected an object, found {_kind(type(mapping))}")
        if key not in mapping:
            raise self.fail(where, f"missing required field {key!r}")
        value = mapping[key]
        if not isinstance(value, kind) or isinstance(value, bool) and bool not in _tuple(kind):
            raise self.fail(f"{where}.{key}", f"expected {_kind(kind)}, found {_kind(type(value))}")
        return value

    def optional(
        self, mapping: dict[str, Any], key: str, kind: Any, default: Any, where: str
    ) -> Any:
        if key not in mapping:
            return default
        return self.need(mapping, key, kind, where)

    def count(self, encoded: bytes) -> None:
        if self.keys is not None:
            found = _keys_in(encoded)
            self.keys = None if found is None else self.keys + found

    def value(self, value: Any, where: str, limit: int = MAX_DEPTH) -> bytes:
        """A JSON value's compact encoding, after checking its depth; its keys are counted."""
        encoded = self.encode(value, where, limit)
        self.count(encoded)
        return encoded

    def encode(self, value: Any, where: str, limit: int = MAX_DEPTH) -> bytes:
        """A JSON value's compact encoding (`encode_json`), refusing what replay cannot send."""
        try:
            encoded = encode_json(value)
        except RecursionError:
            raise self.fail(where, f"nested more than {limit} levels deep") from None
        except UnicodeEncodeError as exc:
            reason = f"cannot be encoded as bytes ({exc.reason} at {exc.start})"
            raise self.fail(where, reason) from None
        if too_deep(encoded, limit):
            raise self.fail(where, f"nested more than {limit} levels deep")
        return encoded

    def rest(self, mapping: dict[str, Any], read_apart: tuple[str, ...], where: str) -> None:
        """Check and count all of `mapping` but the children read on their own."""
        others = {key: value for key, value in mapping.items() if key not in read_apart}
        self.value(others, where, MAX_DEPTH + 1)
        if self.keys is not None:
            self.keys += len(mapping) - len(others)

    def cassette(self, document: Any) -> Cassette:
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            found = (
                document.get("format") if isinstance(document, dict) else type(document).__name__
            )
            hint = _VCRPY_HINT if isinstance(document, dict) and "interactions" in document else ""
            raise self.fail("$", f"expected format {FORMAT_NAME!r}, found {found!r}{hint}")
        version = document.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            if type(version) is int and version > FORMAT_VERSION:
                raise CassetteVersionError(
                    f"{self.path}: cassette format version {version} is newer than this lg-testkit "
                    f"reads (up to {FORMAT_VERSION}); upgrade lg-testkit or re-record the cassette"
                )
            raise CassetteVersionError(
                f"{self.path}: unsupported cassette format version {version!r}; "
                f"this lg-testkit reads version {FORMAT_VERSION}; re-record the cassette"
            )
        raw = self.need(document, "interactions", list, "$")
        self.rest(document, ("interactions",), "$")
        meta = document.get("meta", {})
        interactions = [self.interaction(item, f"interactions[{i}]") for i, item in enumerate(raw)]
        listed = self.optional(document, "threads", list, [], "$")
        threads = [self.thread(thread, f"threads[{i}]") for i, thread in enumerate(listed)]
        return Cassette(interactions, meta if isinstance(meta, dict) else {}, self.path, threads)

    def thread(self, raw: Any, where: str) -> ProtocolThread:
        """One thread-protocol log (lg_testkit.threadlog): its keys were counted with the
        document's, and its values' depth checked."""
        thread = ProtocolThread(
            self.need(raw, "thread_id", str, where),
            stream_headers=self.headers(raw, where, "stream_headers"),
        )
        for index, command in enumerate(self.optional(raw, "commands", list, [], where)):
            at = f"{where}.commands[{index}]"
            status = self.need(command, "status", int, at)
            if not 200 <= status <= 599:
                raise self.fail(
                    f"{at}.status", f"expected an HTTP status from 200 to 599, found {status!r}"
                )
            self.seconds(self.need(command, "t", (int, float), at), f"{at}.t")
            thread.commands.append(
                ProtocolCommand(command["t"], command.get("command"), status, command.get("reply"))
            )
        for index, event in enumerate(self.optional(raw, "events", list, [], where)):
            at = f"{where}.events[{index}]"
            self.seconds(self.need(event, "t", (int, float), at), f"{at}.t")
            after = self.need(event, "after", int, at)
            if after < -1:
                raise self.fail(f"{at}.after", f"expected a command index or -1, found {after}")
            opened = self.optional(event, "opened", int, 0, at)
            thread.events.append(
                ProtocolEvent(event["t"], after, self.need(event, "event", dict, at), opened)
            )
        return thread

    def string(self, text: str, where: str) -> None:
        """Replay turns strings back into bytes: a lone surrogate escape other than one for a
        byte that was not UTF-8 (U+DC80-U+DCFF) cannot be sent."""
        if text.isascii():
            return
        try:
            text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            reason = f"cannot be encoded as bytes ({exc.reason} at {exc.start})"
            raise self.fail(where, reason) from None

    def headers(self, mapping: dict[str, Any], where: str, key: str = "headers") -> dict[str, str]:
        headers: dict[str, str] = self.optional(mapping, key, dict, {}, where)
        for name, value in headers.items():
            at = f"{where}.{key}.{name}"
            if not isinstance(value, str):
                raise self.fail(at, f"expected a string, found {_kind(type(value))}")
            if not _TOKEN.fullmatch(name):
                raise self.fail(f"{where}.{key}", f"{name!r} is not a header name (an HTTP token)")
            if _CONTROL.search(value):
                raise self.fail(at, f"a header value holds no line break or NUL, found {value!r}")
            self.string(value, at)
        return headers

    def interaction(self, raw: Any, where: str) -> Interaction:
        req = self.need(raw, "request", dict, where)
        res = self.need(raw, "response", dict, where)
        self.rest(raw, ("request", "response"), where)
        at_req, at_res = f"{where}.request", f"{where}.response"
        query = self.optional(req, "query", list, [], at_req)
        for index, pair in enumerate(query):
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(part, str) for part in pair)
            ):
                message = "expected a [name, value] pair of strings"
                raise self.fail(f"{at_req}.query[{index}]", message)
        method = self.need(req, "method", str, at_req)
        if not _TOKEN.fullmatch(method):
            raise self.fail(f"{at_req}.method", f"expected an HTTP method, found {method!r}")
        request = RecordedRequest(
            method=method,
            path=self.need(req, "path", str, at_req),
            query=query,
            headers=self.headers(req, at_req),
            json=req.get("json"),
            body=self.optional(req, "body", (str, type(None)), None, at_req),
        )
        self.rest(req, (), at_req)
        status = self.need(res, "status", int, at_res)
        if not 200 <= status <= 599:
            raise self.fail(
                f"{at_res}.status", f"expected an HTTP status from 200 to 599, found {status!r}"
            )
        response = RecordedResponse(
            status=status,
            headers=self.headers(res, at_res),
            json=res.get("json"),
            body=self.optional(res, "body", (str, type(None)), None, at_res),
        )
        if response.body is not None:
            self.string(response.body, f"{at_res}.body")
        self.rest(res, ("stream",), at_res)
        if "stream" in res:
            response.stream = self.stream(res["stream"], f"{at_res}.stream")
        if status in _NO_CONTENT:
            content = (
                "a stream"
                if response.stream is not None
                else "a body"
                if response.body or response.json is not None
                else None
            )
            if content is not None:
                raise self.fail(at_res, f"a {status} response has no content, found {content}")
        return Interaction(request, response)

    def seconds(self, value: Any, where: str) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        # A day bounds any real run; a larger offset would make timed replay wait for ever.
        if not number or not 0 <= value <= MAX_OFFSET:
            raise self.fail(
                where, f"expected seconds between 0 and {MAX_OFFSET:.0f}, found {value!r}"
            )

    def stream(self, raw: Any, where: str) -> RecordedStream:
        items = self.listed(raw, where)
        self.rest(raw, ("items",), where)
        newline = self.optional(raw, "newline", str, "\r\n", where)
        if newline not in ("\r\n", "\n", "\r"):
            expected = 'expected "\\r\\n", "\\n" or "\\r"'
            raise self.fail(f"{where}.newline", f"{expected}, found {newline!r}")
        chunks = self.optional(raw, "chunks", list, [], where)
        for index, chunk in enumerate([] if _usual_chunks(chunks) else chunks):
            if type(chunk) is list and len(chunk) == 2:
                t, size = chunk
                if type(size) is int and size >= 0 and type(t) is float and 0 <= t <= MAX_OFFSET:
                    continue  # the usual case, checked at once
            at = f"{where}.chunks[{index}]"
            if not isinstance(chunk, list) or len(chunk) != 2:
                raise self.fail(at, f"expected a [t, byte_count] pair, found {chunk!r}")
            self.seconds(chunk[0], at)
            if isinstance(chunk[1], bool) or not isinstance(chunk[1], int) or chunk[1] < 0:
                raise self.fail(at, f"expected a byte count (an integer >= 0), found {chunk[1]!r}")
        cut_short = self.optional(raw, "cut_short", bool, False, where)
        dropped = self.optional(raw, "dropped", str, None, where)
        return RecordedStream(
            self.items(items, f"{where}.items"), chunks, newline, cut_short, dropped
        )

    def listed(self, raw: Any, where: str) -> Any:
        """What stands for a stream's items, checked as far as the stream needs it."""
        return self.need(raw, "items", list, where)

    def items(self, raw: Any, where: str) -> list[StreamItem] | UnreadItems:
        """The stream's items, each one's data encoded once, the encoding kept for replay (or,
        from a sealed file, where to read them when they are first used: lines.py).

        The hot loop of a load: the usual item ({"t", "event", "data"}, maybe "id") is checked
        inline, and the data's encodings are checked together (floats, keys) in one pass."""
        items: list[StreamItem] = []
        encoded: list[bytes] = []
        with_data: list[int] = []
        keys = 0
        usual, usual_id = _USUAL, _USUAL_ID
        for index, obj in enumerate(raw):
            names = obj.keys() if type(obj) is dict else None
            if names in (usual, usual_id):
                t, event, data = obj["t"], obj["event"], obj["data"]
                sse_id = obj.get("id")
                if (
                    (type(t) is float or type(t) is int)
                    and 0 <= t <= MAX_OFFSET
                    and type(event) is str
                    and event.isprintable()
                    and (sse_id is None or type(sse_id) is str and sse_id.isprintable())
                ):
                    item = StreamItem(t, event, data, None, sse_id)
                else:
                    item = self.item(obj, f"{where}[{index}]")
            else:
                item = self.item(obj, f"{where}[{index}]")
            items.append(item)
            keys += len(obj)
            if item.data is not NO_DATA:
                try:
                    data_json: bytes | None = orjson.dumps(item.data)
                except TypeError:  # deeper than orjson writes, or (parsed by json) big ints...
                    data_json = None
                if data_json is None:
                    data_json = self.encode(item.data, f"{where}[{index}].data")
                encoded.append(data_json)
                with_data.append(index)
        joined = b",".join(encoded)
        if orjson_differs(joined):  # small floats somewhere: json writes them, not orjson
            for number, index in enumerate(with_data):
                if orjson_differs(encoded[number]):
                    encoded[number] = self.encode(items[index].data, f"{where}[{index}].data")
            joined = b",".join(encoded)
        self.count(joined)
        if self.keys is not None:
            self.keys += keys
        for index, data_json in zip(with_data, encoded, strict=True):
            item = items[index]
            item._json = data_json  # checked, and kept for replay
            item._json_of = item.data
        return items

    def item(self, raw: Any, where: str) -> StreamItem:
        """One stream item of any shape, checked so that replay cannot fail on it later."""
        if type(raw) is not dict:
            raise self.fail(where, f"expected an object, found {_kind(type(raw))}")
        if not raw.keys() <= _ITEM_KEYS:
            unknown = sorted(set(raw) - _ITEM_KEYS)[0]
            known = ", ".join(_ITEM_FIELDS)
            raise self.fail(where, f"unknown field {unknown!r}; an item has {known}")
        for key, value in raw.items():
            kind = _ITEM_FIELDS[key]
            if key != "data" and (
                (type(value) is bool and kind is not bool) or not isinstance(value, kind)
            ):
                found = _kind(type(value))
                raise self.fail(f"{where}.{key}", f"expected {_kind(kind)}, found {found}")
        t = raw.get("t", 0.0)
        self.seconds(t, f"{where}.t")
        data = raw.get("data", NO_DATA)
        text = raw.get("text")
        if data is not NO_DATA and text is not None:
            message = "has both 'data' (JSON) and 'text' (data that is not JSON); keep one"
            raise self.fail(where, message)
        event, sse_id, comment = raw.get("event"), raw.get("id"), raw.get("comment")
        comments = raw.get("comments", [])
        if not all(isinstance(line, str) for line in comments):
            raise self.fail(f"{where}.comments", "expected a list of strings")
        for key, value, breaks in (
            ("event", event, "\r\n"),
            ("id", sse_id, "\r\n\0"),
            ("text", text, "\r"),
            ("comment", comment, "\r"),
        ):
            if value is not None and any(char in value for char in breaks):
                raise self.fail(
                    f"{where}.{key}",
                    f"a line break or NUL here would change the stream's lines: {value!r}",
                )
        if any("\r" in line or "\n" in line for line in comments):
            raise self.fail(f"{where}.comments", "a comment line holds no line break")
        rawtext = raw.get("raw")
        for value in (event, sse_id, text, comment, rawtext, *comments):
            if value is not None:
                self.string(value, where)
        return StreamItem(
            t,
            event,
            data,
            text,
            sse_id,
            raw.get("retry"),
            tuple(comments),
            comment,
            raw.get("incomplete", False),
            rawtext,
        )


def _usual_chunks(chunks: list[Any]) -> bool:
    """Whether every chunk is a plain [t, size] pair: seconds (a float in range), then an int
    byte count; checked with C loops, as a stream has thousands."""
    if not chunks:
        return True
    if set(map(type, chunks)) != {list} or set(map(len, chunks)) != {2}:
        return False
    ts, sizes = zip(*chunks, strict=True)
    return (
        set(map(type, ts)) == {float}
        and set(map(type, sizes)) == {int}
        and min(ts) >= 0
        and max(ts) <= MAX_OFFSET
        and min(sizes) >= 0
    )


_USUAL = frozenset({"t", "event", "data"})
_USUAL_ID = frozenset({"t", "event", "data", "id"})
_JSON_NAMES = {
    "str": "a string",
    "NoneType": "null",
    "dict": "an object",
    "list": "a list",
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
    "object": "any JSON value",
}


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind(kind: type | tuple[type, ...]) -> str:
    """JSON's names for Python types, as a cassette's author knows them."""
    return " or ".join(_JSON_NAMES.get(k.__name__, k.__name__) for k in _tuple(kind))
