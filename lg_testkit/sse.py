"""Server-Sent Events codec: bytes in any chunking -> blocks -> the same bytes again.

The parser follows the WHATWG event-stream rules (CR, LF or CRLF line ends, a leading BOM,
`:` comments, `event`/`data`/`id`/`retry` fields, multi-line `data`) and accepts chunk boundaries
anywhere, including inside a CRLF or a multi-byte UTF-8 character. Unlike a consumer-side
decoder it also keeps each block's exact text (`raw`), so a recording can be encoded back to
byte-identical output: `encode_block` writes the canonical LangGraph form and callers fall back to
`raw` only where that form differs from what the server sent.

What a block means follows langgraph_sdk, the client LangGraph code runs (tests/test_fuzz_sse.py
and tests/test_sdk_differential.py compare the two): the blocks it dispatches, an empty `event:`
meaning no name, an unterminated last block dispatched when the stream ends cleanly, and
`sdk_json`, the SDK's JSON decoding of event data (orjson).

The codec knows nothing about cassettes or HTTP.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["SSEBlock", "SSEParser", "encode_block", "parse", "sdk_json"]

_LINE_END = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SSEBlock:
    """One blank-line-terminated block of an event stream, with the exact text it came from.

    A block with `data` lines is an event; a block of only comments is a heartbeat or note.
    `complete` is False for trailing text the stream ended without terminating: its fields are
    read only when the server ended the stream cleanly (`SSEParser.close(ended=True)`), as the
    SDK's client then dispatches it; otherwise it is text only. `event` is never "": an empty
    `event:` line means the default name, as in the SDK.
    """

    raw: str
    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()
    complete: bool = True

    @property
    def is_event(self) -> bool:
        """True when langgraph_sdk would dispatch this block: a non-empty event name, a data
        line, an id line or a valid retry line in it (httpx-sse also dispatches blocks after
        any id was ever seen; see tests/test_fuzz_sse.py)."""
        return (
            self.event is not None
            or self.data is not None
            or self.id is not None
            or self.retry is not None
        )


@dataclass(slots=True)
class _Fields:
    event: str | None = None
    data: list[str] = field(default_factory=list)
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # exact text, line ends included

    def block(self, complete: bool = True) -> SSEBlock:
        return SSEBlock(
            raw="".join(self.lines),
            event=self.event,
            data="\n".join(self.data) if self.data else None,
            id=self.id,
            retry=self.retry,
            comments=tuple(self.comments),
            complete=complete,
        )


class SSEParser:
    """Incremental parser: `feed(bytes)` and `close()` return the blocks completed so far.

    Every byte fed ends up in exactly one block's `raw`, so `"".join(b.raw for b in blocks)`
    is the decoded input.
    """

    def __init__(self) -> None:
        # surrogateescape keeps invalid UTF-8 reproducible instead of replacing it.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self._buffer = ""
        self._fields = _Fields()
        self._at_start = True
        self.newline: str | None = None  # first line end seen, used to encode canonically

    def feed(self, chunk: bytes) -> list[SSEBlock]:
        self._buffer += self._decoder.decode(chunk)
        return self._drain(final=False)

    def close(self, *, ended: bool = False) -> list[SSEBlock]:
        """End of stream: flush what is left, including an unterminated last block.

        `ended=True`: the server ended the stream cleanly here, so the SDK's client reads the
        last line and dispatches the unterminated block; the default (the connection died, the
        reader stopped, or only the decoder is followed) keeps that block as text only."""
        self._buffer += self._decoder.decode(b"", final=True)
        blocks = self._drain(final=True)
        if self._buffer:
            self._fields.lines.append(self._buffer)
            if ended:
                self._field(self._buffer)
            self._buffer = ""
        if self._fields.lines:
            fields = self._fields if ended else _Fields(lines=self._fields.lines)
            blocks.append(fields.block(complete=False))
            self._fields = _Fields()
        return blocks

    def _drain(self, final: bool) -> list[SSEBlock]:
        buffer = self._buffer
        if self._at_start and buffer:
            self._at_start = False
            if buffer.startswith(_BOM):  # the BOM belongs to the first block's raw text only
                self._fields.lines.append(_BOM)
                buffer = buffer[1:]
        blocks: list[SSEBlock] = []
        position = 0
        for match in _LINE_END.finditer(buffer):
            # A CR at the very end may be the first half of a CRLF split across chunks.
            if not final and match.group() == "\r" and match.end() == len(buffer):
                break
            line = buffer[position : match.start()]
            self._fields.lines.append(buffer[position : match.end()])
            if self.newline is None:
                self.newline = match.group()
            position = match.end()
            if line:
                self._field(line)
            else:
                blocks.append(self._fields.block())
                self._fields = _Fields()
        self._buffer = buffer[position:]
        return blocks

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if not colon:
            value = ""
        elif value.startswith(" "):
            value = value[1:]
        fields = self._fields
        if name == "":
            fields.comments.append(line[1:])
        elif name == "data":
            fields.data.append(value)
        elif name == "event":
            fields.event = value or None  # the SDK's default name is "" too
        elif name == "id":
            if "\0" not in value:
                fields.id = value
        elif name == "retry":
            # langgraph_sdk's rule, int() of the bytes (" 5", "-1", "1_0" count; the spec only
            # allows digits), so a block is dispatched exactly when the SDK dispatches it.
            with contextlib.suppress(ValueError):
                fields.retry = int(value.encode("utf-8", "surrogateescape"))


def parse(chunks: Iterable[bytes], *, ended: bool = False) -> Iterator[SSEBlock]:
    """Parse a whole stream given as chunks of bytes (`ended`: see `SSEParser.close`)."""
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close(ended=ended)


def sdk_json(data: str | bytes) -> Any:
    """An event's data decoded as langgraph_sdk decodes it: orjson over the bytes, then, where
    that fails, over the text with bytes that are not UTF-8 replaced by U+FFFD. So NaN,
    Infinity, 1e400 and lone surrogates are refused and integers beyond 64 bits become floats.
    Raises ValueError (orjson.JSONDecodeError, or UnicodeEncodeError for a str holding
    surrogates other than undecodable bytes) where the SDK raises."""
    body = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return orjson.loads(body.decode("utf-8", "replace"))


def encode_block(
    *,
    event: str | None = None,
    data: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comments: Iterable[str] = (),
    newline: str = "\r\n",
) -> str:
    """The canonical text of a block, in the order LangGraph servers write fields."""
    parts = [f":{comment}{newline}" for comment in comments]
    if event is not None:
        parts.append(f"event: {event}{newline}")
    if data is not None:
        parts.extend(f"data: {line}{newline}" for line in data.split("\n"))
    if id is not None:
        parts.append(f"id: {id}{newline}")
    if retry is not None:
        parts.append(f"retry: {retry}{newline}")
    parts.append(newline)
    return "".join(parts)
