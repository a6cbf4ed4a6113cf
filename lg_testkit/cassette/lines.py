"""Reading a cassette in the layout the writer makes, one stream item per line: the fast path.

The document without its item lines is parsed as a whole; the item lines in bulk, with C loops.
An item's data must then be exactly what orjson, and Python's json, write for it: so the line's
own text is the data's encoding replay sends (kept as a view of the file's bytes, never made
again), and a line holds no duplicate key, which orjson would silently collapse. Anything else
(another layout, an odd item, any error) makes `by_lines` return None, and reader.py reads the
whole document the general way, which also gives every error its message.

A sealed file (seal.py: lg-testkit wrote it, and it is unchanged since) needs none of those
checks: each line's fields before its data are parsed together, and the data is not parsed at
all; its text is what replay sends, and it is parsed the first time someone reads it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain, compress, repeat
from operator import add, and_, eq, ge, getitem, itemgetter, not_, sub
from pathlib import Path
from typing import Any, cast

import orjson

from lg_testkit.cassette.model import (
    MAX_OFFSET,
    NO_DATA,
    Cassette,
    StreamItem,
    UnreadItems,
    orjson_differs,
)
from lg_testkit.cassette.reader import (
    _SLICE,
    _USUAL,
    _USUAL_ID,
    _Exact,
    _gc_paused,
    _keys_in_text,
    _long_numbers,
    _parse,
    _Reader,
)
from lg_testkit.cassette.seal import plain_heads
from lg_testkit.errors import CassetteFormatError, CassetteVersionError
from lg_testkit.threadlog import ProtocolEvent, ProtocolThread

__all__ = ["by_lines"]

_HEAD_KEYS = frozenset({"t", "event", "id"})


def _plain_fields(
    fields: list[dict[str, Any]], *, escaped: bool
) -> tuple[list[Any], list[Any], list[Any]] | None:
    """(times, event names, ids) of item lines whose fields before the data are the usual ones
    (`t`, with `event` and `id` or not); None if any line has others. `escaped`: their JSON
    text has an escape somewhere. Raises _Unusual where one of those is not plainly valid."""
    if not (set(map(len, fields)) <= {1, 2, 3} and all(map(_HEAD_KEYS.issuperset, fields))):
        return None
    ts = list(map(dict.get, fields, repeat("t")))
    events = list(map(dict.get, fields, repeat("event")))
    ids = list(map(dict.get, fields, repeat("id")))
    if not plain_heads(ts, events, ids, escaped=escaped):
        raise _Unusual  # written by hand or by a program: the general reader says what
    return ts, events, ids


def _unparsed(fields: dict[str, Any], data: memoryview) -> StreamItem:
    item = StreamItem.from_dict(fields)
    item.data = data  # its JSON text, parsed when first read
    return item


class _Unusual(Exception):
    """Not the writer's layout, or not plainly valid: read the whole document instead."""


_ITEMS_OPEN = b'"items": [\n'
_EVENTS_OPEN = b'\n      "events": [\n'  # a thread's event log (writer.thread_text), one per line
_EVENTS_KEY = len(b"\n      ")  # from where _EVENTS_OPEN is found to where its key starts


def by_lines(path: Path, content: bytes, sealed: bool = False) -> Cassette | None:
    """The cassette in `content`, if it has the writer's layout and reads plainly; else None.
    `sealed`: the content's seal verified (seal.py)."""
    nonce = secrets.token_hex(8)
    pieces: list[bytes] = []
    blocks: dict[str, tuple[int, int, int]] = {}
    position = 0

    def cut(start: int, key: bytes) -> bool:
        """Stand a placeholder in for the list whose `key` starts at `start`."""
        nonlocal position
        if start < position:
            return False  # one inside another: not the writer's layout
        line_start = content.rfind(b"\n", 0, start) + 1
        indent = start - line_start
        if content.count(b" ", line_start, start) != indent:
            return False  # "items": [ inside a line: not a stream's item list
        first = start + len(key) + 6  # past `"key": [\n`
        end = content.find(b"\n" + content[line_start:start] + b"]", first)
        if end == -1:
            return False
        placeholder = f"\0lg-items-{nonce}-{len(blocks)}"
        blocks[placeholder] = (first, end, indent + 2)
        stand_in = b'"%s": "\\u0000%s"' % (key, placeholder[1:].encode())
        pieces.extend((content[position:start], stand_in))
        position = end + indent + 2
        return True

    if not all(cut(at, b"items") for at in _found(content, _ITEMS_OPEN, 0)):
        return None
    # the threads' event logs, which the writer puts after every interaction
    if sealed and not all(
        cut(at + _EVENTS_KEY, b"events") for at in _found(content, _EVENTS_OPEN, position)
    ):
        return None
    if not blocks and not sealed:
        return None  # nothing to read by lines (a sealed file is still read without checks)
    pieces.append(content[position:])
    skeleton = b"".join(pieces)
    if _long_numbers(skeleton):
        return None  # maybe an integer beyond 64 bits: Python's json reads it exactly
    try:
        document = orjson.loads(skeleton)
        reader = _LineReader(path, content, blocks, sealed)
        cassette = reader.cassette(document)
    except (orjson.JSONDecodeError, CassetteFormatError, CassetteVersionError, _Unusual):
        return None
    if reader.blocks:
        return None  # an item list that was not a stream's
    if not sealed and (reader.keys is None or reader.keys != _keys_in_text(skeleton)):
        return None  # maybe a duplicate key
    return cassette


def _found(content: bytes, text: bytes, start: int) -> Iterator[int]:
    at = content.find(text, start)
    while at != -1:
        yield at
        at = content.find(text, at + 1)


class _LineReader(_Reader):
    """The general reader, but a stream's items come from their lines in the file: the item
    lists were cut out of the document and stand there as placeholders."""

    def __init__(
        self, path: Path, content: bytes, blocks: dict[str, tuple[int, int, int]], sealed: bool
    ):
        super().__init__(path)
        self.content = content
        self.blocks = blocks  # placeholder -> (start, end, indent) of the item lines
        self.sealed = sealed

    def rest(self, mapping: dict[str, Any], read_apart: tuple[str, ...], where: str) -> None:
        if not self.sealed:  # a sealed file's values were checked when it was written
            super().rest(mapping, read_apart, where)

    def thread(self, raw: Any, where: str) -> ProtocolThread:
        """A sealed file's thread log: its few commands read as usual, its thousands of events
        built in bulk with the checks a timed replay needs (times in range: none waits for
        ever) made with C loops; anything else is for the general reader to say."""
        if not self.sealed or not isinstance(raw, dict):
            return super().thread(raw, where)
        listed = raw.get("events", [])
        thread = super().thread({**raw, "events": []}, where)
        if type(listed) is str and listed in self.blocks:
            events, envelopes, texts = self.event_lines(*self.blocks.pop(listed))
            thread.loaded_texts = (envelopes, texts)
        elif type(listed) is list and set(map(type, listed)) <= {dict}:
            events, envelopes = listed, list(map(dict.get, listed, repeat("event")))
        else:
            raise _Unusual
        ts: list[Any] = list(map(dict.get, events, repeat("t")))
        afters: list[Any] = list(map(dict.get, events, repeat("after")))
        opened: list[Any] = list(map(dict.get, events, repeat("opened"), repeat(0)))
        if not (
            set(map(type, ts)) <= {float, int}
            and min(ts, default=0) >= 0
            and max(ts, default=0) <= MAX_OFFSET
            and set(map(type, afters)) | set(map(type, opened)) <= {int}
            and min(afters, default=0) >= -1
            and set(map(type, envelopes)) <= {dict}
        ):
            raise _Unusual
        thread.events = list(map(ProtocolEvent, ts, afters, envelopes, opened))
        return thread

    def event_lines(self, start: int, end: int, indent: int) -> tuple[list[Any], ...]:
        """A sealed thread's event lines: ({"t", "after", "opened"} of each, its envelope,
        the envelope's text). The writer puts `event` last on its line, so what stands before
        `,"event":` is the line's other fields (parsed for all lines at once) and the rest up
        to the line's closing brace is the envelope's text: what replay sends, as it stands.
        Refused (for the general reader to say why) unless each line is one, with no other
        fields, and each text is one JSON object with no line break (it goes on an SSE `data:`
        line) and no surrogate escape (not every one can be sent)."""
        content = self.content
        block = content[start + indent : end]
        if (
            not content.startswith(b" " * indent, start)
            or not block.endswith(b"}")
            or b"\r" in block
            or b"\\ud" in block
            or b"\\uD" in block
        ):
            raise _Unusual
        lines = block[:-1].split(b"}" + b",\n" + b" " * indent)
        if block.count(b"\n") != len(lines) - 1:
            raise _Unusual  # a line break in a line: not the writer's layout
        parts = list(map(bytes.partition, lines, repeat(b',"event":')))
        texts = list(map(itemgetter(2), parts))
        try:
            heads = orjson.loads(b"[" + b"},".join(map(itemgetter(0), parts)) + b"}]")
            envelopes = list(map(orjson.loads, texts))
        except orjson.JSONDecodeError:  # a line without `,"event":` among them
            raise _Unusual from None
        if not all(map(isinstance, heads, repeat(dict))) or not set().union(*heads) <= {
            "t",
            "after",
            "opened",
        }:
            raise _Unusual
        return heads, envelopes, texts

    def listed(self, raw: Any, where: str) -> Any:
        items = raw.get("items") if isinstance(raw, dict) else None
        if type(items) is str and items in self.blocks:
            return self.blocks.pop(items)
        return super().listed(raw, where)

    def items(self, raw: Any, where: str) -> list[StreamItem] | UnreadItems:
        if isinstance(raw, tuple):
            start, end, indent = raw
            if not self.content.startswith(b" " * indent, start):
                raise _Unusual
            if self.sealed:
                return _SealedLines(self, start, end, indent, where)
            return self.lines(start, end, indent, where)
        return super().items(raw, where)

    def lines(self, start: int, end: int, indent: int, where: str) -> list[StreamItem]:
        """The items of a stream from their lines in the file (see `by_lines`), a few MB of
        lines at a time (so the copies made on the way stay small)."""
        content = self.content
        separator = b",\n" + b" " * indent
        items: list[StreamItem] = []
        position = start + indent
        while position <= end:
            cut = content.find(separator, position + _SLICE, end) if position + _SLICE < end else -1
            stop = end if cut == -1 else cut
            texts = content[position:stop].split(separator)
            if not self.sealed and content.count(b"\n", position, stop) != len(texts) - 1:
                raise _Unusual  # an item over several lines: not the writer's layout
            steps = map(add, map(len, texts), repeat(len(separator)))
            offsets = list(accumulate(steps, initial=position))  # where each line starts
            items += self.chunk(texts, offsets, len(items), where)
            position = stop + len(separator)
        return items

    def chunk(
        self, texts: list[bytes], offsets: list[int], first: int, where: str
    ) -> list[StreamItem]:
        """The items of some lines. The usual ones ({"t", "event", "data"}, or with "id" too)
        are read in bulk, with C loops (`map`) rather than a Python loop per item; any other
        item line on its own."""
        if self.sealed:
            return self.unparsed(texts, offsets, first, where)
        try:
            objs = list(map(orjson.loads, texts))
        except orjson.JSONDecodeError:
            raise _Unusual from None
        if not all(map(isinstance, objs, repeat(dict))):
            raise _Unusual
        count = len(objs)
        items: list[StreamItem | None] = [None] * count
        rest = [True] * count
        for shape, has_id in ((_USUAL, False), (_USUAL_ID, True)):
            flags = list(map(eq, map(dict.keys, objs), repeat(shape)))
            if not any(flags):
                continue
            rest = list(map(and_, rest, map(not_, flags)))
            read = self.usual(
                list(compress(texts, flags)),
                list(compress(offsets, flags)),
                list(compress(objs, flags)),
                has_id,
            )
            if len(read) == count:
                return read
            for index, item in zip(compress(range(count), flags), read, strict=True):
                items[index] = item
        for index in compress(range(count), rest):
            items[index] = self.line(texts[index], f"{where}[{first + index}]")
        return cast(list[StreamItem], items)

    def unparsed(
        self, texts: list[bytes], offsets: list[int], first: int, where: str
    ) -> list[StreamItem]:
        """The items of some lines of a sealed file: the writer puts `data` last on its line,
        so what stands before `,"data":` (which no JSON string holds: its quotes are escaped)
        is the item's other fields, parsed for all lines at once, and the rest up to the
        line's closing brace is the data's text, kept unparsed."""
        cuts = list(map(bytes.find, texts, repeat(b',"data":')))
        has_data = list(map(ge, cuts, repeat(0)))
        texts_with, offsets_with = list(compress(texts, has_data)), compress(offsets, has_data)
        cuts_with = list(compress(cuts, has_data))
        heads = cast(Iterator[bytes], map(getitem, texts_with, map(slice, repeat(None), cuts_with)))
        joined = b"[" + b"},".join(heads) + b"}]" if texts_with else b"[]"
        try:
            fields = orjson.loads(joined)
        except orjson.JSONDecodeError:
            raise _Unusual from None
        if not all(map(isinstance, fields, repeat(dict))):
            raise _Unusual
        starts = list(map(add, offsets_with, cuts_with))  # where each `,"data":` is in the file
        begins = map(add, starts, repeat(8))
        ends = map(add, starts, map(sub, map(len, texts_with), map(add, cuts_with, repeat(1))))
        view = memoryview(self.content)
        datas = cast(Iterator[memoryview], map(getitem, repeat(view), map(slice, begins, ends)))
        plain = _plain_fields(fields, escaped=b"\\" in joined)
        if plain is not None:
            ts, events, ids = plain
            made = map(StreamItem, ts, events, datas, repeat(None), ids)  # the usual: in bulk
        else:
            made = map(_unparsed, fields, datas)
        if len(texts_with) == len(texts):
            return list(made)
        return [
            next(made) if cut >= 0 else self.line(text, f"{where}[{first + index}]")
            for index, (text, cut) in enumerate(zip(texts, cuts, strict=True))
        ]

    def usual(
        self, texts: list[bytes], offsets: list[int], objs: list[dict[str, Any]], has_id: bool
    ) -> list[StreamItem]:
        """Items of the usual shape, checked together. Each keeps the text of its data in the
        line (a view of the file's bytes) as the data's encoding, once all of them are shown to
        be what orjson writes for the parsed data, and what Python's json writes: then each is
        canonical, and holds no duplicate key (the parsed data would be written shorter).
        Around the data the quotes are counted: `{"t":..,"event":"..","data":` has 8 (12 with
        `"id":".."` before the data, where the writer puts it; 0.2 wrote `,"id":".."}` after it,
        with 4), so no key is there twice (whitespace cannot hide a quote)."""
        ts = list(map(itemgetter("t"), objs))
        events = list(map(itemgetter("event"), objs))
        datas = list(map(itemgetter("data"), objs))
        ids = list(map(itemgetter("id"), objs)) if has_id else None
        if not (
            set(map(type, ts)) <= {float, int}
            and min(ts) >= 0
            and max(ts) <= MAX_OFFSET
            and set(map(type, events)) == {str}
            and all(map(str.isprintable, set(events)))
            and (ids is None or set(map(type, ids)) == {str} and all(map(str.isprintable, ids)))
        ):
            raise _Unusual  # let the general reader say what is wrong
        starts = list(map(add, map(bytes.find, texts, repeat(b',"data":')), repeat(8)))
        quotes = set(map(bytes.count, texts, repeat(b'"'), repeat(0), starts))
        if has_id and quotes == {8}:  # written before 0.3: `"id"` after the data
            ends = list(map(bytes.rfind, texts, repeat(b',"id":')))
            if set(map(bytes.count, texts, repeat(b'"'), ends)) != {4}:
                raise _Unusual
        elif quotes == {12 if has_id else 8}:  # the data last on its line
            ends = list(map(sub, map(len, texts), repeat(1)))
        else:
            raise _Unusual
        if min(starts) < 16:
            raise _Unusual
        starts = list(map(add, starts, offsets))
        ends = list(map(add, ends, offsets))
        view = memoryview(self.content)
        regions = cast(list[memoryview], list(map(getitem, repeat(view), map(slice, starts, ends))))
        try:
            every = orjson.dumps(datas)
        except TypeError:  # deeper than orjson writes
            raise _Unusual from None
        joined = b",".join(regions)
        if len(every) != len(joined) + 2 or not every.startswith(joined, 1):
            raise _Unusual  # not the canonical text of the data, or a duplicate key in it
        if orjson_differs(every):
            raise _Unusual  # a small float, which json writes differently from orjson
        items = list(map(StreamItem, ts, events, datas, repeat(None), ids or repeat(None)))
        for item, data, region in zip(items, datas, regions, strict=True):
            item._json = region  # the data's encoding, checked and kept for replay
            item._json_of = data
        return items

    def line(self, text: bytes, where: str) -> StreamItem:
        """An item line of another shape: read exactly, refused if it has a duplicate key."""
        hooks = _Exact()
        try:
            obj = json.loads(
                text.decode("utf-8"),
                object_pairs_hook=hooks.pairs,
                parse_constant=hooks.constant,
                parse_float=hooks.number,
            )
        except (ValueError, RecursionError):
            raise _Unusual from None
        if hooks.flagged:
            raise _Unusual
        item = self.item(obj, where)
        if item.data is not NO_DATA:
            item._json = self.encode(item.data, f"{where}.data")
            item._json_of = item.data
        return item


class _SealedLines:
    """A stream's item lines in a sealed file, read when first needed (`UnreadItems`). Replay
    needs only the bytes they stand for, and `blob` makes those straight from the lines: each
    line's fields before its data are parsed for all lines at once, and its data's text, which
    is what replay sends, is copied into the stream's bytes between the SSE fields."""

    def __init__(self, reader: _LineReader, start: int, end: int, indent: int, where: str):
        self.reader, self.start, self.end, self.indent = reader, start, end, indent
        self.where = where

    def read(self) -> list[StreamItem]:
        reader = self.reader
        try:
            return reader.lines(self.start, self.end, self.indent, self.where)
        except _Unusual:  # not as the writer wrote it: the general reader says what is wrong
            block = b"[" + reader.content[self.start : self.end] + b"]"
            items = _Reader(reader.path).items(_parse(reader.path, block)[0], self.where)
            assert isinstance(items, list)  # the general reader reads them all at once
            return items

    def blob(self, newline: str) -> bytes | None:
        """The stream's bytes if every line is a plain event (a name or none, an id or none,
        JSON data), which is how a run stream is recorded; else None (`read` says)."""
        content = self.reader.content
        separator = b",\n" + b" " * self.indent
        parts: list[bytes] = []
        position, end = self.start + self.indent, self.end
        with _gc_paused():  # thousands of short-lived objects, no garbage cycle among them
            while position <= end:  # a few MB of lines at a time, as `_LineReader.lines`
                far = position + _SLICE
                cut = content.find(separator, far, end) if far < end else -1
                stop = end if cut == -1 else cut
                if content[stop - 1] != 0x7D:  # "}": every item line is an object
                    return None
                # Each line without its closing brace, split at its data (no JSON string holds
                # a line break, nor an unescaped quote, so neither split is ever in a value).
                texts = content[position : stop - 1].split(b"}" + separator)
                part = _plain_blob(list(map(bytes.partition, texts, repeat(_DATA))), newline)
                if part is None:
                    return None
                parts.append(part)
                position = stop + len(separator)
        return b"".join(parts)


_DATA = b',"data":'


def _plain_blob(lines: list[tuple[bytes, bytes, bytes]], newline: str) -> bytes | None:
    """The SSE bytes of some item lines, each split (head, `,"data":`, data text), if each is
    a plain event; else None. Only names and ids are looked at: a line's time is not sent."""
    if not all(map(itemgetter(1), lines)):
        return None  # a line without data: a heartbeat, or an event with text
    joined = b"[" + b"},".join(map(itemgetter(0), lines)) + b"}]"
    try:
        fields = orjson.loads(joined)
    except orjson.JSONDecodeError:
        return None
    keys = set().union(*fields) if all(map(isinstance, fields, repeat(dict))) else {None}
    if not keys <= _HEAD_KEYS:
        return None
    events = list(map(dict.get, fields, repeat("event")))
    ids = list(map(dict.get, fields, repeat("id"))) if "id" in keys else None
    names = (set(events) | set(ids or ())) - {None}
    if not all(type(name) is str and name.isprintable() for name in names):
        return None  # `read` refuses it, naming the place
    heads = {
        event: ("data: " if event is None else f"event: {event}{newline}data: ").encode()
        for event in set(events)
    }
    end = (newline + newline).encode()
    if ids is None:
        tails: Iterable[bytes] = repeat(end)
    else:
        tail = newline + "id: %s" + newline + newline
        tails = [end if sse_id is None else (tail % sse_id).encode() for sse_id in ids]
    datas = map(itemgetter(2), lines)
    parts = zip(map(heads.__getitem__, events), datas, tails, strict=False)  # tails may repeat
    return b"".join(chain.from_iterable(parts))
