"""Cassettes: recorded HTTP interactions with event-level SSE streams, as diffable JSON files.

A cassette holds interactions (vcrpy's word) in request order. A `text/event-stream` response is
stored as a list of stream items, one JSON line each:

    {"t": 0.051, "event": "values", "data": {...}}            an event (`id` when one was sent)
    {"t": 5.002, "comment": " heartbeat"}                      a comment-only block
    {"t": 0.051, "event": "x", "text": "not json"}             data that is not JSON
    {..., "raw": "event: values\\ndata: ...\\n\\n"}            exact text, only where the canonical
                                                               encoding differs from the bytes

`t` is seconds from the request being sent to the arrival of the item's last byte. `chunks` keeps
the network chunking as `[t, byte_count]` pairs, so replay can reproduce boundaries and timing.
The same rule holds for JSON bodies: `json` always, `body` only when re-encoding `json` would not
give the bytes the server sent. Hand edits: change the parsed form and delete `raw`/`body`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lg_testkit.errors import CassetteFormatError, CassetteNotFoundError, CassetteVersionError
from lg_testkit.redaction import Redaction
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
STALE_TEMP_SECONDS = 600.0  # a save's temp file older than this was left by a killed process
_FORMAT_NAME = "lg-testkit-cassette"
_MAX_OFFSET = 86_400.0  # seconds from request to an item's arrival
_VCRPY_HINT = (
    "; this looks like a vcrpy cassette: convert it with `lg-testkit import-vcrpy SRC DEST`"
)
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
    dropped: str | None = None  # the connection died here: the error the consumer got
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
        items: list[dict[str, Any]] = []
        sizes: list[list[float]] = []
        for t, chunk in chunks:
            sizes.append([round(t, 6), len(chunk)])
            items.extend(_item(block, t, parser.newline) for block in parser.feed(chunk))
        last_t = sizes[-1][0] if sizes else 0.0
        items.extend(_item(block, last_t, parser.newline) for block in parser.close())
        return cls(items, sizes, parser.newline or "\r\n", cut_short or bool(dropped), dropped)

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
        if self.dropped:
            out["dropped"] = self.dropped
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
    """A cassette file's content. `load` and `save` do the I/O; `save` is atomic."""

    interactions: list[Interaction] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # Masks fields and refuses secrets on `save` (lg_testkit.redaction); not part of the file.
    redaction: Redaction | None = field(default=None, repr=False, compare=False)

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
        except json.JSONDecodeError as exc:
            hint = _VCRPY_HINT if "interactions:" in text else ""
            raise CassetteFormatError(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
                f"expected an lg-testkit cassette{hint}"
            ) from None
        except (ValueError, RecursionError) as exc:  # e.g. a 5000-digit number, nesting too deep
            raise CassetteFormatError(f"{path}: cannot read cassette JSON: {exc}") from None
        return _Reader(path).cassette(document)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT_NAME,
            "version": FORMAT_VERSION,
            "meta": self.meta,
            "interactions": [interaction.to_dict() for interaction in self.interactions],
        }

    def dumps(self) -> str:
        return assemble(self.meta, [interaction_text(i) for i in self.interactions])

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError(
                "Cassette.save() needs a path: this cassette was never loaded or saved"
            )
        if self.redaction is not None:
            self.redaction.enforce(self, str(target))  # raises SecretLeakError before any write
        write_atomically(target, self.dumps())
        self.path = target
        return target


def write_atomically(target: Path, text: str) -> None:
    """Temp file, fsync, rename: a reader sees the old file or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
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
    _remove_stale_temp_files(target)


def _remove_stale_temp_files(target: Path) -> None:
    """Delete temp files left by saves killed before their rename (SIGKILL, power loss).

    Only old ones: a fresh temp file may belong to a save still running in another process.
    """
    now = time.time()
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if now - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                stale.unlink()


_MARKER = "\u0000lg-line\u0000"
_QUOTED_MARKER = re.escape(json.dumps(_MARKER)[1:-1])  # as written inside a JSON string
_MARKED = re.compile(f'"{_QUOTED_MARKER}(\\d+)"')


def _indented(value: Any, lines: list[str]) -> str:
    """`json.dumps(value, indent=2)` with each marker string replaced by its line."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _MARKED.sub(lambda m: lines[int(m[1])], text)


def interaction_text(interaction: Interaction) -> str:
    """One interaction exactly as it stands in the file, each stream item and the chunk list on
    a line of their own (which keeps diffs of re-recorded streams readable). Callers writing a
    growing cassette again and again (the proxy) may keep it: `assemble` only joins texts."""
    lines: list[str] = []

    def compact(value: Any) -> str:
        lines.append(dumps_compact(value))
        return f"{_MARKER}{len(lines) - 1}"

    shaped = interaction.to_dict()
    stream = shaped["response"].get("stream")
    if stream:  # a fresh dict from to_dict: its entries may be replaced
        stream["chunks"] = compact(stream["chunks"])
        stream["items"] = [compact(item) for item in stream["items"]]
    text = _indented(shaped, lines).replace("\n", "\n    ")  # it sits two levels deep
    return _utf8_safe(text)


def assemble(meta: dict[str, Any], interactions: list[str]) -> str:
    """The file's text: `json.dumps(document, indent=2)`, with the interactions' texts joined in."""
    head = _utf8_safe(
        json.dumps(
            {"format": _FORMAT_NAME, "version": FORMAT_VERSION, "meta": meta},
            indent=2,
            ensure_ascii=False,
        )
    )
    if not interactions:
        return head[:-2] + ',\n  "interactions": []\n}\n'
    return head[:-2] + ',\n  "interactions": [\n    ' + ",\n    ".join(interactions) + "\n  ]\n}\n"


def _utf8_safe(text: str) -> str:
    """Bytes that were not UTF-8 are kept as lone surrogates (surrogateescape); UTF-8 cannot
    hold those, so they are written as JSON escapes, which load back to the same characters."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Reader:
    """Turns a parsed cassette document into objects, naming the place of anything malformed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CassetteFormatError:
        return CassetteFormatError(f"{self.path}: {where}: {message}")

    def need(self, mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(mapping, dict):
            raise self.fail(where, f"expected an object, found {_kind(type(mapping))}")
        if key not in mapping:
            raise self.fail(where, f"missing required field {key!r}")
        value = mapping[key]
        if not isinstance(value, kind):
            raise self.fail(f"{where}.{key}", f"expected {_kind(kind)}, found {_kind(type(value))}")
        return value

    def cassette(self, document: Any) -> Cassette:
        if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
            found = (
                document.get("format") if isinstance(document, dict) else type(document).__name__
            )
            hint = _VCRPY_HINT if isinstance(document, dict) and "interactions" in document else ""
            raise self.fail("$", f"expected format {_FORMAT_NAME!r}, found {found!r}{hint}")
        version = document.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
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

    def optional(
        self, mapping: dict[str, Any], key: str, kind: Any, default: Any, where: str
    ) -> Any:
        if key not in mapping:
            return default
        return self.need(mapping, key, kind, where)

    def headers(self, mapping: dict[str, Any], where: str) -> dict[str, str]:
        headers: dict[str, str] = self.optional(mapping, "headers", dict, {}, where)
        for name, value in headers.items():
            if not isinstance(value, str):
                found = _kind(type(value))
                raise self.fail(f"{where}.headers.{name}", f"expected a string, found {found}")
            self.encodable(value, f"{where}.headers.{name}")
        return headers

    def encodable(self, text: str, where: str) -> None:
        """Replay turns strings back into bytes: a lone surrogate escape other than one for a
        byte that was not UTF-8 (U+DC80-U+DCFF) cannot be sent."""
        try:
            text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            reason = f"cannot be encoded as bytes ({exc.reason} at {exc.start})"
            raise self.fail(where, reason) from None

    def interaction(self, raw: Any, where: str) -> Interaction:
        req = self.need(raw, "request", dict, where)
        res = self.need(raw, "response", dict, where)
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
        request = RecordedRequest(
            method=self.need(req, "method", str, at_req),
            path=self.need(req, "path", str, at_req),
            query=query,
            headers=self.headers(req, at_req),
            json=req.get("json"),
            body=self.optional(req, "body", (str, type(None)), None, at_req),
        )
        status = self.need(res, "status", int, at_res)
        if isinstance(status, bool) or not 100 <= status <= 999:
            raise self.fail(f"{at_res}.status", f"expected an HTTP status code, found {status!r}")
        response = RecordedResponse(
            status=status,
            headers=self.headers(res, at_res),
            json=res.get("json"),
            body=self.optional(res, "body", (str, type(None)), None, at_res),
        )
        if response.body is not None:
            self.encodable(response.body, f"{at_res}.body")
        if "stream" in res:
            response.stream = self.stream(res["stream"], f"{at_res}.stream")
        return Interaction(request, response)

    def seconds(self, value: Any, where: str) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        # A day bounds any real run; a larger offset would make timed replay wait for ever.
        if not number or not 0 <= value <= _MAX_OFFSET:
            raise self.fail(
                where, f"expected seconds between 0 and {_MAX_OFFSET:.0f}, found {value!r}"
            )

    def stream(self, raw: Any, where: str) -> RecordedStream:
        items = self.need(raw, "items", list, where)
        newline = self.optional(raw, "newline", str, "\r\n", where)
        if newline not in ("\r\n", "\n", "\r"):
            expected = 'expected "\\r\\n", "\\n" or "\\r"'
            raise self.fail(f"{where}.newline", f"{expected}, found {newline!r}")
        for index, item in enumerate(items):
            self.item(item, newline, f"{where}.items[{index}]")
        chunks = self.optional(raw, "chunks", list, [], where)
        for index, chunk in enumerate(chunks):
            at = f"{where}.chunks[{index}]"
            if not isinstance(chunk, list) or len(chunk) != 2:
                raise self.fail(at, f"expected a [t, byte_count] pair, found {chunk!r}")
            self.seconds(chunk[0], at)
            if isinstance(chunk[1], bool) or not isinstance(chunk[1], int) or chunk[1] < 0:
                raise self.fail(at, f"expected a byte count (an integer >= 0), found {chunk[1]!r}")
        cut_short = self.optional(raw, "cut_short", bool, False, where)
        dropped = self.optional(raw, "dropped", str, None, where)
        return RecordedStream(items, chunks, newline, cut_short, dropped)

    def item(self, item: Any, newline: str, where: str) -> None:
        """Check what replay will read from one stream item, so replay cannot fail later."""
        if not isinstance(item, dict):
            raise self.fail(where, f"expected an object, found {_kind(type(item))}")
        for key, kind in _ITEM_FIELDS.items():
            if key in item and (
                isinstance(item[key], bool) and kind is not bool or not isinstance(item[key], kind)
            ):
                found = _kind(type(item[key]))
                raise self.fail(f"{where}.{key}", f"expected {_kind(kind)}, found {found}")
        if "data" in item and "text" in item:
            message = "has both 'data' (JSON) and 'text' (data that is not JSON); keep one"
            raise self.fail(where, message)
        if "t" in item:
            self.seconds(item["t"], f"{where}.t")
        if not all(isinstance(comment, str) for comment in item.get("comments", [])):
            raise self.fail(f"{where}.comments", "expected a list of strings")
        self.encodable(_item_text(item, newline), where)


_JSON_NAMES = {
    "str": "a string",
    "NoneType": "null",
    "dict": "an object",
    "list": "a list",
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
}


def _kind(kind: type | tuple[type, ...]) -> str:
    """JSON's names for Python types, as a cassette's author knows them."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_JSON_NAMES.get(k.__name__, k.__name__) for k in kinds)


_ITEM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "t": (int, float),
    "event": str,
    "text": str,
    "id": str,
    "retry": int,
    "comment": str,
    "comments": list,
    "raw": str,
    "incomplete": bool,
}
