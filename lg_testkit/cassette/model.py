"""The cassette's data model, and the stream item codec: an item <-> the exact SSE text it is.

Reading a file is reader.py's job and writing one writer.py's; `Cassette.load` and `Cassette.save`
call them. Nothing here knows about HTTP servers, redaction or files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat
from operator import attrgetter, is_, itemgetter
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from lg_testkit.sse import SSEBlock, SSEParser, encode_block, sdk_json
from lg_testkit.threadlog import ProtocolThread

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_OFFSET",
    "NOT_JSON",
    "NO_DATA",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "RecordedStream",
    "StreamItem",
    "UnreadItems",
    "dumps_compact",
    "encode_all",
    "encode_json",
    "parse_json",
]

FORMAT_VERSION = 1
FORMAT_NAME = "lg-testkit-cassette"
# No JSON value in a cassette (event data, a body, meta) nests deeper. LangGraph never sends
# anything close; it is the deepest orjson writes, and one level less than the schema validator
# (jsonschema-rs) accepts; Python's own json fails near 1000.
MAX_DEPTH = 254
MAX_OFFSET = 86_400.0  # seconds from request to an item's arrival: a day bounds any real run


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


NOT_JSON: Final[Any] = _Marker("NOT_JSON")  # what `parse_json` returns for text that is not JSON
NO_DATA: Final[Any] = _Marker("NO_DATA")  # `StreamItem.data` of an item without JSON data


# -- JSON, exactly as the server wrote it ------------------------------------------------------


def dumps_compact(value: Any) -> str:
    """JSON the way LangGraph servers write it: compact, UTF-8 kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# orjson and Python's json write every value alike except floats below 1e-4: orjson writes
# 0.00001 and 3.2e-6 where json writes 1e-05 and 3.2e-06: `0.0000`, or a one-digit negative
# exponent at the end of a number. (Checked against millions of random floats.)
_ONE_DIGIT_EXPONENT = re.compile(rb"e-[0-9](?:[,\]}]|\Z)")


def orjson_differs(encoded: bytes) -> bool:
    """Whether orjson's encoding may differ from `dumps_compact`'s (a string that looks like a
    small float says yes too, which only costs the slower encoder)."""
    return b"0.0000" in encoded or _ONE_DIGIT_EXPONENT.search(encoded) is not None


def encode_json(value: Any) -> bytes:
    """`dumps_compact(value)` as bytes (non-UTF-8 bytes kept as surrogate escapes), made by
    orjson wherever that gives the same bytes, which is nearly always.

    `value` must hold no NaN or infinity (orjson writes them as null); loaded values never do.
    """
    try:
        out = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: big ints, lone surrogates, non-str keys, depth
        return dumps_compact(value).encode("utf-8", "surrogateescape")
    if orjson_differs(out):
        return dumps_compact(value).encode("utf-8", "surrogateescape")
    return out


def encode_all(values: Iterable[Any]) -> list[bytes]:
    """`encode_json` of each value, with one check over them all (a thread has thousands)."""
    values = list(values)
    try:
        out = list(map(orjson.dumps, values))
    except TypeError:  # as in encode_json
        return list(map(encode_json, values))
    if orjson_differs(b",".join(out)):  # a comma between them: no false match across two
        return list(map(encode_json, values))
    return out


def parse_json(text: str) -> Any:
    """The parsed JSON as langgraph_sdk reads it (lg_testkit.sse.sdk_json: orjson, so no NaN,
    Infinity, 1e400 or lone surrogates, integers beyond 64 bits as floats, bytes that are not
    UTF-8 as U+FFFD), or NOT_JSON where the SDK raises or the nesting is deeper than MAX_DEPTH."""
    try:
        value = sdk_json(text)
    except ValueError:
        return NOT_JSON
    if too_deep(text):
        return NOT_JSON
    return value


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def too_deep(encoded: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON text nests more than `limit` levels; C-speed string operations only."""
    if isinstance(encoded, str):
        if encoded.count("[") + encoded.count("{") <= limit:
            return False
        encoded = encoded.encode("utf-8", "surrogatepass")
    elif encoded.count(b"[") + encoded.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", encoded).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST.sub(b"", brackets)  # one level per pass
    return bool(brackets)


_NINETEEN_DIGITS = re.compile(rb"[0-9]{19}")


def _parse_sealed(encoded: bytes | memoryview | None) -> Any:
    """Data from a sealed file, read as the general reader reads it: by orjson, except where
    Python's json reads more exactly (19 digits or more, lone surrogates)."""
    text = bytes(encoded or b"")
    if not _NINETEEN_DIGITS.search(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text.decode("utf-8", "surrogateescape"))


# -- stream items ------------------------------------------------------------------------------


class StreamItem:
    """One block of a recorded event stream, as the file keeps it.

    An event has `event` (its name), `data` (the parsed JSON; NO_DATA when there is none) or
    `text` (data that is not JSON), and `id`/`retry`/`comments` when sent. A comment-only block
    (a heartbeat) has `comment`, its lines joined by "\\n". `incomplete` marks trailing text the
    stream ended without terminating. `raw` is the exact text, kept only where the canonical
    encoding (`wire()`) would not give the bytes the server sent. `t` is seconds from the request
    to the arrival of the item's last byte.

    The encoding of `data` replay sends is made once (when the item is loaded or first sent)
    and kept; assigning a new `data` is noticed. After changing `data` in place, call
    `changed()` before replaying the item (saving always writes `data` as it is). An item read
    from a sealed file (lg_testkit.cassette.seal) is given its data as a `memoryview` of the
    JSON text in the file (no parsed value is ever a memoryview), which is parsed only when
    `data` is first read: replay sends the bytes without ever parsing them.
    """

    __slots__ = (
        *("t", "event", "_data", "text", "id", "retry", "comments", "comment"),
        *("incomplete", "raw", "_json", "_json_of"),
    )
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(
        self,
        t: float = 0.0,
        event: str | None = None,
        data: Any = NO_DATA,
        text: str | None = None,
        id: str | None = None,  # noqa: A002 - the SSE field's name
        retry: int | None = None,
        comments: tuple[str, ...] = (),
        comment: str | None = None,
        incomplete: bool = False,
        raw: str | None = None,
    ) -> None:
        self.t, self.event, self._data, self.text, self.id = t, event, data, text, id
        self.retry, self.comments, self.comment = retry, comments, comment
        self.incomplete, self.raw = incomplete, raw
        # The encoding of `data` (bytes, or a view of the loaded file's bytes) and the `data`
        # it was made from; made again whenever `data` is another object.
        self._json: bytes | memoryview | None = None
        self._json_of: Any = None

    @property
    def data(self) -> Any:
        if type(self._data) is memoryview:  # JSON text from a sealed file: parsed on first use
            self._json = self._data
            self._data = self._json_of = _parse_sealed(self._json)
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _ITEM_FIELDS)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _ITEM_FIELDS)
        return f"StreamItem({shown})"

    @property
    def is_event(self) -> bool:
        """What a consumer sees as an event: it has a name, JSON data or text data."""
        return self.event is not None or self._data is not NO_DATA or self.text is not None

    @classmethod
    def from_block(cls, block: SSEBlock, t: float, newline: str | None) -> StreamItem:
        """The item for one parsed block, arrived at `t`; `raw` set only where needed."""
        item = cls(round(t, 6))
        if block.is_event:
            item.event = block.event
            if block.data is not None:
                parsed = parse_json(block.data)
                if parsed is NOT_JSON:
                    item.text = block.data
                else:
                    item.data = parsed
            item.id = block.id
            item.retry = block.retry
            item.comments = block.comments
        elif block.comments and block.complete:
            item.comment = "\n".join(block.comments)
        item.incomplete = not block.complete
        if item.wire(newline or "\r\n") != block.raw.encode("utf-8", "surrogateescape"):
            item.raw = block.raw
        return item

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> StreamItem:
        """An item from the form the file holds (unchecked: `Cassette.load` checks files)."""
        return cls(
            item.get("t", 0.0),
            item.get("event"),
            item.get("data", NO_DATA),
            item.get("text"),
            item.get("id"),
            item.get("retry"),
            tuple(item.get("comments", ())),
            item.get("comment"),
            bool(item.get("incomplete", False)),
            item.get("raw"),
        )

    def changed(self) -> None:
        """Forget the kept encoding of `data`, after it was changed in place."""
        if type(self._data) is not memoryview:
            self._json = None
            self._json_of = None

    def data_json(self) -> bytes:
        """`data` as the server's compact JSON, in bytes (made once, kept)."""
        return bytes(self._kept_json())

    def _kept_json(self) -> bytes | memoryview:
        if type(self._data) is memoryview:
            return self._data
        if self._json is None or self._json_of is not self._data:
            self._json = dumps_compact(self._data).encode("utf-8", "surrogateescape")
            self._json_of = self._data
        return self._json

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle without the kept encoding
        return {name: getattr(self, name) for name in _ITEM_FIELDS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        StreamItem.__init__(self, **state)

    def wire(self, newline: str = "\r\n") -> bytes:
        """The exact bytes of this item in the stream."""
        if self.raw is not None:
            return self.raw.encode("utf-8", "surrogateescape")
        if self.comment is not None:
            return encode_block(comments=self.comment.split("\n"), newline=newline).encode(
                "utf-8", "surrogateescape"
            )
        has_data = self._data is not NO_DATA
        if has_data and self.retry is None and not self.comments:  # the usual
            head = "data: " if self.event is None else f"event: {self.event}{newline}data: "
            tail = newline if self.id is None else f"{newline}id: {self.id}{newline}"
            return b"".join(
                (
                    head.encode("utf-8", "surrogateescape"),
                    self._kept_json(),
                    tail.encode("utf-8", "surrogateescape"),
                    newline.encode(),
                )
            )
        data = self.text
        if has_data:
            data = bytes(self._kept_json()).decode("utf-8", "surrogateescape")
        return encode_block(
            event=self.event,
            data=data,
            id=self.id,
            retry=self.retry,
            comments=self.comments,
            newline=newline,
        ).encode("utf-8", "surrogateescape")

    def to_dict(self) -> dict[str, Any]:
        """The item as the file holds it (only the fields it has; `data` last, so a reader
        finds the other fields before it)."""
        out = self._fields()
        if self._data is not NO_DATA:
            out["data"] = self.data
        return out

    def _fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t}
        if self.event is not None:
            out["event"] = self.event
        if self.text is not None:
            out["text"] = self.text
        if self.id is not None:
            out["id"] = self.id
        if self.retry is not None:
            out["retry"] = self.retry
        if self.comments:
            out["comments"] = list(self.comments)
        if self.comment is not None:
            out["comment"] = self.comment
        if self.incomplete:
            out["incomplete"] = True
        if self.raw is not None:
            out["raw"] = self.raw
        return out

    def to_json(self) -> str:
        """The item's line in the file (made afresh: `data` may have been changed in place;
        data never parsed is written as it was read)."""
        if type(self._data) is not memoryview:
            return dumps_compact(self.to_dict())
        head = dumps_compact(self._fields())
        return f'{head[:-1]},"data":{bytes(self._data).decode("utf-8")}}}'


_ITEM_FIELDS = (
    "t",
    "event",
    "data",
    "text",
    "id",
    "retry",
    "comments",
    "comment",
    "incomplete",
    "raw",
)


# -- streams -----------------------------------------------------------------------------------


_PLAIN = attrgetter("raw", "comment", "retry", "text")


def _wires(items: list[StreamItem], newline: str) -> Iterable[bytes]:
    """Each item's bytes."""
    parts = _usual_parts(items, newline)
    if parts is None:
        return map(StreamItem.wire, items, repeat(newline))
    return map(b"".join, parts)


def _usual_parts(items: list[StreamItem], newline: str) -> Iterator[tuple[Any, ...]] | None:
    """(head, data, tail) of each item, when all are usual events (a name, JSON data, maybe an
    id), put together with C loops, as a stream has thousands; else None (`wire` each)."""
    datas = list(map(attrgetter("_data"), items))
    if (
        set(map(_PLAIN, items)) != {(None, None, None, None)}
        or any(map(attrgetter("comments"), items))
        or any(map(is_, datas, repeat(NO_DATA)))
    ):
        return None
    events = list(map(attrgetter("event"), items))
    heads = {
        event: ("data: " if event is None else f"event: {event}{newline}data: ").encode(
            "utf-8", "surrogateescape"
        )
        for event in set(events)
    }
    end = (newline + newline).encode()
    tail = newline + "id: %s" + newline + newline
    tails = [
        end if sse_id is None else (tail % sse_id).encode("utf-8", "surrogateescape")
        for sse_id in map(attrgetter("id"), items)
    ]
    if set(map(type, datas)) != {memoryview}:  # parsed data: its kept (or new) encoding
        datas = list(map(StreamItem._kept_json, items))
    return zip(map(heads.__getitem__, events), datas, tails, strict=True)


class UnreadItems(Protocol):
    """A stream's items still in the file they were loaded from (lines.py): read on first use."""

    def read(self) -> list[StreamItem]: ...

    def blob(self, newline: str) -> bytes | None:
        """The stream's bytes made straight from the file, or None where only its items can."""


class RecordedStream:
    """An event stream as items (events, comments, leftovers) plus how the bytes were chunked.

    A stream loaded from a sealed file keeps its items unread until `items` is first used:
    replay needs only `blob()`, which is made from the file's lines without them."""

    def __init__(
        self,
        items: list[StreamItem] | UnreadItems | None = None,
        chunks: list[list[float]] | None = None,  # [t, byte_count]
        newline: str = "\r\n",
        cut_short: bool = False,
        dropped: str | None = None,  # the connection died here: the error the consumer got
    ) -> None:
        self._items: list[StreamItem] = items if isinstance(items, list) else []
        self._unread = None if items is None or isinstance(items, list) else items
        self.chunks = [] if chunks is None else chunks
        self.newline, self.cut_short, self.dropped = newline, cut_short, dropped
        self._wires: list[bytes] | None = None
        self._encoded: list[bytes] | None = None
        self._blob: bytes | None = None

    @property
    def items(self) -> list[StreamItem]:
        if self._unread is not None:
            self._items, self._unread = self._unread.read(), None
        return self._items

    @items.setter
    def items(self, items: list[StreamItem]) -> None:
        self._items, self._unread = items, None

    def _fields(self) -> tuple[Any, ...]:
        return (self.items, self.chunks, self.newline, self.cut_short, self.dropped)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        names = ("items", "chunks", "newline", "cut_short", "dropped")
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields(), strict=True))
        return f"RecordedStream({shown})"

    @classmethod
    def from_chunks(
        cls,
        chunks: Iterable[tuple[float, bytes]],
        *,
        cut_short: bool = False,
        dropped: str | None = None,
    ) -> RecordedStream:
        """Build from timed network chunks; each item gets the time its last byte arrived."""
        parser = SSEParser()
        items: list[StreamItem] = []
        sizes: list[list[float]] = []
        for t, chunk in chunks:
            sizes.append([round(t, 6), len(chunk)])
            items.extend(StreamItem.from_block(b, t, parser.newline) for b in parser.feed(chunk))
        last_t = sizes[-1][0] if sizes else 0.0
        ended = not (cut_short or dropped)  # then the SDK never dispatches an unterminated block
        items.extend(
            StreamItem.from_block(b, last_t, parser.newline) for b in parser.close(ended=ended)
        )
        return cls(items, sizes, parser.newline or "\r\n", cut_short or bool(dropped), dropped)

    @property
    def events(self) -> list[StreamItem]:
        """The items a consumer sees as events (comments and leftovers left out)."""
        return [item for item in self.items if item.is_event]

    def encode_items(self) -> list[bytes]:
        """The bytes of each item, in order (made on the first call and kept)."""
        if self._wires is None or len(self._wires) != len(self.items):
            self._wires = list(_wires(self.items, self.newline))
        return self._wires

    def blob(self) -> bytes:
        """Every byte of the stream, as sent (made on the first call and kept: edit items
        before replaying them)."""
        if self._blob is None and self._unread is not None:
            self._blob = self._unread.blob(self.newline)
        if self._blob is None:
            parts = _usual_parts(self.items, self.newline)
            wires = (
                chain.from_iterable(parts)
                if parts is not None
                else _wires(self.items, self.newline)
            )
            self._blob = b"".join(wires)
        return self._blob

    def cuts(self) -> tuple[list[int], list[float]]:
        """Where in `blob()` each recorded chunk ends, and when it arrived (one chunk per item
        if the items were edited since)."""
        sizes = list(map(itemgetter(1), self.chunks))
        if sum(sizes) == len(self.blob()):
            return list(accumulate(sizes)), list(map(float, map(itemgetter(0), self.chunks)))
        ends = accumulate(map(len, _wires(self.items, self.newline)))
        return list(ends), [float(item.t) for item in self.items]

    def encode(self) -> list[bytes]:
        """The bytes to send, split as recorded (or one chunk per item if the items were edited).

        Made on the first call and kept: edit items before replaying them."""
        if self._encoded is None:
            blob, ends = self.blob(), self.cuts()[0]
            self._encoded = [blob[a:b] for a, b in zip([0, *ends], ends, strict=False)]
        return self._encoded

    def timings(self) -> list[float]:
        """Arrival offset of each chunk `encode()` returns."""
        return self.cuts()[1]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"newline": self.newline}
        if self.cut_short:
            out["cut_short"] = True
        if self.dropped:
            out["dropped"] = self.dropped
        out["chunks"] = self.chunks
        out["items"] = [item.to_dict() for item in self.items]
        return out


# -- interactions ------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[list[str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    body: str | None = None  # non-JSON request bodies

    @property
    def label(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.query:
            out["query"] = self.query
        out["headers"] = self.headers
        if self.body is not None:
            out["body"] = self.body
        elif self.json is not None:
            out["json"] = self.json
        return out


@dataclass
class RecordedResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    body: str | None = None  # exact text when `json` would not re-encode to it, or not JSON
    stream: RecordedStream | None = None

    @classmethod
    def from_body(cls, status: int, headers: dict[str, str], content: bytes) -> RecordedResponse:
        text = content.decode("utf-8", "surrogateescape")
        parsed = parse_json(text) if text else NOT_JSON
        if parsed is NOT_JSON:
            return cls(status, headers, body=text)
        return cls(
            status, headers, json=parsed, body=None if dumps_compact(parsed) == text else text
        )

    def content(self) -> bytes:
        """The body bytes of a non-stream response."""
        if self.body is not None:
            return self.body.encode("utf-8", "surrogateescape")
        if self.json is None:
            return b""
        return dumps_compact(self.json).encode("utf-8", "surrogateescape")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "headers": self.headers}
        if self.stream is not None:
            out["stream"] = self.stream.to_dict()
        else:
            if self.json is not None:
                out["json"] = self.json
            if self.body is not None:
                out["body"] = self.body
        return out


@dataclass
class Interaction:
    request: RecordedRequest
    response: RecordedResponse

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request.to_dict(), "response": self.response.to_dict()}


# -- the file ----------------------------------------------------------------------------------


@dataclass
class Cassette:
    """A cassette file's content. `load` reads and checks a file; `save` writes one atomically.

    Saving writes what is here, nothing more: callers that mask fields or refuse secrets
    (lg_testkit.redaction) do so before they save.
    """

    interactions: list[Interaction] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # The thread protocol's commands and event log, one per thread (lg_testkit.threadlog);
    # in the file only when there are any.
    threads: list[ProtocolThread] = field(default_factory=list)
    # The rules digest the loaded file's seal says every stream passed (lg_testkit.cassette.seal):
    # replay does not validate them again under the same rules.
    valid_for: str | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read and check a cassette; any problem is a CassetteError naming file and place."""
        from lg_testkit.cassette.reader import load

        return load(path)

    @classmethod
    def from_dict(cls, document: Any, path: str | os.PathLike[str] | None = None) -> Cassette:
        """A cassette from its parsed JSON document, checked as `load` checks a file."""
        from lg_testkit.cassette.reader import from_document

        return from_document(document, path)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "meta": self.meta,
            "interactions": [interaction.to_dict() for interaction in self.interactions],
        }
        if self.threads:
            out["threads"] = [thread.to_dict() for thread in self.threads]
        return out

    def dumps(self) -> str:
        """The file's text."""
        from lg_testkit.cassette.writer import (
            assemble,
            interaction_text,
            plain,
            thread_text,
            valid_claim,
        )

        texts = [interaction_text(interaction) for interaction in self.interactions]
        threads = [thread_text(thread) for thread in self.threads]
        claim = valid_claim(self.interactions, self.threads)
        sealed = all(map(plain, self.interactions))
        return assemble(self.meta, texts, threads, claim, sealed=sealed)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically: a reader sees the old file or the new one, never half of one.

        A failed write raises CassetteWriteError naming the file, which is left as it was."""
        from lg_testkit.cassette.writer import write_atomically

        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError(
                "Cassette.save() needs a path: this cassette was never loaded or saved"
            )
        write_atomically(target, self.dumps())
        self.path = target
        return target
