"""Cassettes: recorded HTTP interactions with event-level SSE streams, as diffable JSON files.

A cassette holds interactions (vcrpy's word) in request order. A `text/event-stream` response is
stored as a list of stream items, one JSON line each:

    {"t": 0.051, "event": "values", "data": {...}}            an event (`id` when the server sent one)
    {"t": 5.002, "comment": " heartbeat"}                      a comment-only block
    {"t": 0.051, "event": "x", "text": "not json"}             data that is not JSON
    {..., "raw": "event: values\\ndata: ...\\n\\n"}            exact text, only where the canonical
                                                               encoding would differ from the bytes sent

`t` is seconds from the request being sent to the arrival of the item's last byte. `chunks` keeps
the network chunking as `[t, byte_count]` pairs, so replay can reproduce boundaries and timing.
The same rule holds for JSON bodies: `json` always, `body` only when re-encoding `json` would not
give the bytes the server sent. Hand edits: change the parsed form and delete `raw`/`body`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lg_testkit.errors import CassetteFormatError, CassetteNotFoundError, CassetteVersionError
from lg_testkit.sse import SSEBlock, SSEParser, encode_block

__all__ = [
    "FORMAT_VERSION",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "RecordedStream",
    "dumps_compact",
]

FORMAT_VERSION = 1
_FORMAT_NAME = "lg-testkit-cassette"
_VCRPY_HINT = "; this looks like a vcrpy cassette: convert it with `lg-testkit import-vcrpy SRC DEST`"
NOT_JSON = object()


def dumps_compact(value: Any) -> str:
    """JSON the way LangGraph servers write it: compact, UTF-8 kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_json(text: str) -> Any:
    """The parsed JSON, or NOT_JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return NOT_JSON


# -- streams ----------------------------------------------------------------------------------


@dataclass
class RecordedStream:
    """An event stream as items (events, comments, leftovers) plus how the bytes were chunked."""

    items: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[list[float]] = field(default_factory=list)  # [t, byte_count]
    newline: str = "\r\n"
    cut_short: bool = False
    _encoded: list[bytes] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_chunks(
        cls, chunks: Iterable[tuple[float, bytes]], *, cut_short: bool = False
    ) -> RecordedStream:
        """Build from timed network chunks; each item gets the time its last byte arrived."""
        parser = SSEParser()
        items: list[dict[str, Any]] = []
        sizes: list[list[float]] = []
        for t, chunk in chunks:
            sizes.append([round(t, 6), len(chunk)])
            items.extend(_item(block, t, parser.newline) for block in parser.feed(chunk))
        last_t = sizes[-1][0] if sizes else 0.0
        items.extend(_item(block, last_t, parser.newline) for block in parser.close())
        return cls(items, sizes, parser.newline or "\r\n", cut_short)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The items a consumer sees as events (comments and leftovers left out)."""
        return [item for item in self.items if "event" in item or "data" in item or "text" in item]

    def encode(self) -> list[bytes]:
        """The bytes to send, split as recorded (or one chunk per item if the items were edited)."""
        if self._encoded is None:
            texts = [_item_text(item, self.newline) for item in self.items]
            blob = "".join(texts).encode("utf-8", "surrogateescape")
            sizes = [int(size) for _, size in self.chunks]
            if sum(sizes) == len(blob):
                offsets = [0]
                for size in sizes:
                    offsets.append(offsets[-1] + size)
                self._encoded = [blob[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]
            else:
                self._encoded = [text.encode("utf-8", "surrogateescape") for text in texts]
        return self._encoded

    def timings(self) -> list[float]:
        """Arrival offset of each chunk `encode()` returns."""
        encoded = self.encode()
        if len(encoded) == len(self.chunks):
            return [float(t) for t, _ in self.chunks]
        return [float(item.get("t", 0.0)) for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"newline": self.newline}
        if self.cut_short:
            out["cut_short"] = True
        out["chunks"] = self.chunks
        out["items"] = self.items
        return out


def _item(block: SSEBlock, t: float, newline: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"t": round(t, 6)}
    if block.is_event:
        if block.event is not None:
            item["event"] = block.event
        if block.data is not None:
            parsed = parse_json(block.data)
            if parsed is NOT_JSON:
                item["text"] = block.data
            else:
                item["data"] = parsed
        if block.id is not None:
            item["id"] = block.id
        if block.retry is not None:
            item["retry"] = block.retry
        if block.comments:
            item["comments"] = list(block.comments)
    elif block.comments and block.complete:
        item["comment"] = "\n".join(block.comments)
    if not block.complete:
        item["incomplete"] = True
    if _item_text(item, newline or "\r\n") != block.raw:
        item["raw"] = block.raw
    return item


def _item_text(item: dict[str, Any], newline: str) -> str:
    """The exact text of one stream item."""
    raw = item.get("raw")
    if raw is not None:
        return str(raw)
    if "comment" in item:
        return encode_block(comments=str(item["comment"]).split("\n"), newline=newline)
    data = item.get("text")
    if "data" in item:
        data = dumps_compact(item["data"])
    return encode_block(
        event=item.get("event"),
        data=data,
        id=item.get("id"),
        retry=item.get("retry"),
        comments=item.get("comments", ()),
        newline=newline,
    )


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
        return cls(status, headers, json=parsed, body=None if dumps_compact(parsed) == text else text)

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
    """A cassette file's content. `load` and `save` do the I/O; `save` is atomic."""

    interactions: list[Interaction] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CassetteNotFoundError(f"{path}: no such cassette") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteFormatError(f"{path}: cannot read cassette: {exc}") from None
        try:
            document = json.loads(text)
        except ValueError as exc:
            hint = _VCRPY_HINT if "interactions:" in text else ""
            raise CassetteFormatError(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "  # type: ignore[attr-defined]
                f"expected an lg-testkit cassette{hint}"
            ) from None
        return _Reader(path).cassette(document)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT_NAME,
            "version": FORMAT_VERSION,
            "meta": self.meta,
            "interactions": [interaction.to_dict() for interaction in self.interactions],
        }

    def dumps(self) -> str:
        return _layout(self.to_dict())

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("Cassette.save() needs a path: this cassette was never loaded or saved")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = self.dumps()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.path = target
        return target


def _layout(document: dict[str, Any]) -> str:
    """Indented JSON with each stream item and the chunk list on a line of their own.

    One line per event keeps diffs of re-recorded streams readable and the files compact.
    """
    marker = "\u0000lg-line\u0000"
    lines: list[str] = []

    def compact(value: Any) -> str:
        lines.append(dumps_compact(value))
        return f"{marker}{len(lines) - 1}"

    shaped = json.loads(json.dumps(document))  # a deep copy we may rewrite
    for interaction in shaped["interactions"]:
        stream = interaction["response"].get("stream")
        if stream:
            stream["chunks"] = compact(stream["chunks"])
            stream["items"] = [compact(item) for item in stream["items"]]
    text = json.dumps(shaped, indent=2, ensure_ascii=False)
    quoted = re.escape(json.dumps(marker)[1:-1])  # the marker as written inside a JSON string
    return re.sub(f'"{quoted}(\\d+)"', lambda m: lines[int(m[1])], text) + "\n"


class _Reader:
    """Turns a parsed cassette document into objects, naming the place of anything malformed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CassetteFormatError:
        return CassetteFormatError(f"{self.path}: {where}: {message}")

    def need(self, mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(mapping, dict):
            raise self.fail(where, f"expected an object, found {type(mapping).__name__}")
        if key not in mapping:
            raise self.fail(where, f"missing required field {key!r}")
        value = mapping[key]
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}", f"expected {names}, found {type(value).__name__}")
        return value

    def cassette(self, document: Any) -> Cassette:
        if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
            found = document.get("format") if isinstance(document, dict) else type(document).__name__
            hint = _VCRPY_HINT if isinstance(document, dict) and "interactions" in document else ""
            raise self.fail("$", f"expected format {_FORMAT_NAME!r}, found {found!r}{hint}")
        version = document.get("version")
        if version != FORMAT_VERSION:
            if isinstance(version, int) and version > FORMAT_VERSION:
                raise CassetteVersionError(
                    f"{self.path}: cassette format version {version} is newer than this lg-testkit "
                    f"reads (up to {FORMAT_VERSION}); upgrade lg-testkit or re-record the cassette"
                )
            raise CassetteVersionError(
                f"{self.path}: unsupported cassette format version {version!r}; "
                f"this lg-testkit reads version {FORMAT_VERSION}; re-record the cassette"
            )
        meta = document.get("meta", {})
        raw = self.need(document, "interactions", list, "$")
        interactions = [self.interaction(item, f"interactions[{i}]") for i, item in enumerate(raw)]
        return Cassette(interactions, meta if isinstance(meta, dict) else {}, self.path)

    def interaction(self, raw: Any, where: str) -> Interaction:
        req = self.need(raw, "request", dict, where)
        res = self.need(raw, "response", dict, where)
        request = RecordedRequest(
            method=self.need(req, "method", str, f"{where}.request"),
            path=self.need(req, "path", str, f"{where}.request"),
            query=req.get("query", []),
            headers=req.get("headers", {}),
            json=req.get("json"),
            body=req.get("body"),
        )
        response = RecordedResponse(
            status=self.need(res, "status", int, f"{where}.response"),
            headers=res.get("headers", {}),
            json=res.get("json"),
            body=res.get("body"),
        )
        if "stream" in res:
            response.stream = self.stream(res["stream"], f"{where}.response.stream")
        return Interaction(request, response)

    def stream(self, raw: Any, where: str) -> RecordedStream:
        items = self.need(raw, "items", list, where)
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{where}.items[{index}]", "expected an object")
        chunks = raw.get("chunks", [])
        if not isinstance(chunks, list) or not all(
            isinstance(c, list) and len(c) == 2 for c in chunks
        ):
            raise self.fail(f"{where}.chunks", "expected a list of [t, byte_count] pairs")
        newline = raw.get("newline", "\r\n")
        return RecordedStream(items, chunks, newline, bool(raw.get("cut_short", False)))
