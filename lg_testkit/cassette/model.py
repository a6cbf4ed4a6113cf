"""The cassette's data model, and the stream item codec: an item <-> the exact SSE text it is.

Reading a file is reader.py's job and writing one writer.py's; `Cassette.load` and `Cassette.save`
call them. Nothing here knows about HTTP servers, redaction or files.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from lg_testkit.sse import SSEBlock, SSEParser, encode_block
from lg_testkit.threadlog import ProtocolThread

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "NOT_JSON",
    "NO_DATA",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "RecordedStream",
    "StreamItem",
    "dumps_compact",
    "encode_json",
    "parse_json",
]

FORMAT_VERSION = 1
FORMAT_NAME = "lg-testkit-cassette"
# No JSON value in a cassette (event data, a body, meta) nests deeper. LangGraph never sends
# anything close; it is the deepest orjson writes, and one level less than the schema validator
# (jsonschema-rs) accepts; Python's own json fails near 1000.
MAX_DEPTH = 254


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
# 0.00001 and 3.2e-6 where json writes 1e-05 and 3.2e-06. With digits mapped to `0`, those read
# `0.0000` and `e-0` before the end of a number. (Checked against millions of random floats.)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else b for b in range(256))


def orjson_differs(encoded: bytes) -> bool:
    """Whether orjson's encoding may differ from `dumps_compact`'s (a string that looks like a
    small float says yes too, which only costs the slower encoder)."""
    if b"0.0000" in encoded:
        return True
    if b"e-" not in encoded:
        return False
    zeroed = encoded.translate(_DIGITS_AS_ZERO)
    return b"e-0," in zeroed or b"e-0]" in zeroed or b"e-0}" in zeroed or zeroed.endswith(b"e-0")


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


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e400: orjson (the SDK's parser) refuses it
        raise ValueError(f"number out of range: {text}")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """The parsed JSON, or NOT_JSON. Refuses what a cassette may not hold and the SDK's orjson
    does not read: NaN, Infinity, numbers out of range, nesting deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError):
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


# -- stream items ------------------------------------------------------------------------------


@dataclass(slots=True)
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
    `changed()` before replaying the item (saving always writes `data` as it is).
    """

    t: float = 0.0
    event: str | None = None
    data: Any = NO_DATA
    text: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()
    comment: str | None = None
    incomplete: bool = False
    raw: str | None = None
    # The encoding of `data` (bytes, or a view of the loaded file's bytes) and the `data` it
    # was made from; made again whenever `data` is another object.
    _json: bytes | memoryview | None = field(default=None, init=False, repr=False, compare=False)
    _json_of: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_event(self) -> bool:
        """What a consumer sees as an event: it has a name, JSON data or text data."""
        return self.event is not None or self.data is not NO_DATA or self.text is not None

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
        self._json = None
        self._json_of = None

    def data_json(self) -> bytes:
        """`data` as the server's compact JSON, in bytes (made once, kept)."""
        return bytes(self._kept_json())

    def _kept_json(self) -> bytes | memoryview:
        if self._json is None or self._json_of is not self.data:
            self._json = dumps_compact(self.data).encode("utf-8", "surrogateescape")
            self._json_of = self.data
        return self._json

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle without the kept encoding
        return {name: getattr(self, name) for name in _ITEM_FIELDS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in _ITEM_FIELDS:
            object.__setattr__(self, name, state[name])
        self._json = self._json_of = None

    def wire(self, newline: str = "\r\n") -> bytes:
        """The exact bytes of this item in the stream."""
        if self.raw is not None:
            return self.raw.encode("utf-8", "surrogateescape")
        if self.comment is not None:
            return encode_block(comments=self.comment.split("\n"), newline=newline).encode(
                "utf-8", "surrogateescape"
            )
        if self.data is not NO_DATA and self.retry is None and not self.comments:  # the usual
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
        if self.data is not NO_DATA:
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
        """The item as the file holds it (only the fields it has)."""
        out: dict[str, Any] = {"t": self.t}
        if self.event is not None:
            out["event"] = self.event
        if self.text is not None:
            out["text"] = self.text
        if self.data is not NO_DATA:
            out["data"] = self.data
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
        """The item's line in the file (made afresh: `data` may have been changed in place)."""
        return dumps_compact(self.to_dict())


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


@dataclass
class RecordedStream:
    """An event stream as items (events, comments, leftovers) plus how the bytes were chunked."""

    items: list[StreamItem] = field(default_factory=list)
    chunks: list[list[float]] = field(default_factory=list)  # [t, byte_count]
    newline: str = "\r\n"
    cut_short: bool = False
    dropped: str | None = None  # the connection died here: the error the consumer got
    _wires: list[bytes] | None = field(default=None, repr=False, compare=False)
    _encoded: list[bytes] | None = field(default=None, repr=False, compare=False)

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
        items.extend(StreamItem.from_block(b, last_t, parser.newline) for b in parser.close())
        return cls(items, sizes, parser.newline or "\r\n", cut_short or bool(dropped), dropped)

    @property
    def events(self) -> list[StreamItem]:
        """The items a consumer sees as events (comments and leftovers left out)."""
        return [item for item in self.items if item.is_event]

    def encode_items(self) -> list[bytes]:
        """The bytes of each item, in order (made on the first call and kept)."""
        if self._wires is None or len(self._wires) != len(self.items):
            newline = self.newline
            self._wires = [item.wire(newline) for item in self.items]
        return self._wires

    def encode(self) -> list[bytes]:
        """The bytes to send, split as recorded (or one chunk per item if the items were edited).

        Made on the first call and kept: edit items before replaying them."""
        if self._encoded is None:
            wires = self._wires
            if wires is None or len(wires) != len(self.items):
                wires = [item.wire(self.newline) for item in self.items]  # not kept
            blob = b"".join(wires)
            sizes = [int(size) for _, size in self.chunks]
            if sum(sizes) == len(blob):
                offsets = [0]
                for size in sizes:
                    offsets.append(offsets[-1] + size)
                self._encoded = [blob[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]
            else:
                self._encoded = list(wires)
        return self._encoded

    def timings(self) -> list[float]:
        """Arrival offset of each chunk `encode()` returns."""
        encoded = self.encode()
        if len(encoded) == len(self.chunks):
            return [float(t) for t, _ in self.chunks]
        return [float(item.t) for item in self.items]

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
        return b"" if self.json is None else dumps_compact(self.json).encode()

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
        from lg_testkit.cassette.writer import assemble, interaction_text, thread_text

        texts = [interaction_text(interaction) for interaction in self.interactions]
        return assemble(self.meta, texts, [thread_text(thread) for thread in self.threads])

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
