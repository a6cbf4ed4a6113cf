"""Where a streamed message's text lies across events, so a value split between them is found.

A chat model's answer streams as token events of a few characters each: `messages`
(messages-tuple) chunks of one message id, `events`-mode `on_chat_model_stream` records of one
model run, and `messages/partial` events, each holding the whole text so far. A secret split
across them is in no single event. `series` lists, for every streamed message, the strings whose
concatenation is its text (its content, and each tool call's `args`); `split_secret_edits` masks
a value found in the joined text piece by piece: the piece where it starts gets `<redacted>`,
the following pieces lose their part of it, so the message folds to the text the masked whole
would have (lg_testkit.normalize folds token events the same way for diffs and snapshots).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lg_testkit.cassette import NO_DATA, StreamItem
from lg_testkit.credentials import REDACTED

__all__ = ["Series", "folded_texts", "series", "split_secret_edits"]

Piece = tuple[int, Any, Any]  # item index, the dict holding the string, its key
Edit = tuple[Any, Any, Any]  # container, key, new string


@dataclass
class Series:
    """The pieces of one message's text, in stream order. `cumulative`: each piece is the
    whole text so far (`messages/partial`), not the next few characters."""

    pieces: list[Piece] = field(default_factory=list)
    cumulative: bool = False

    def texts(self) -> list[str]:
        return [parent[key] for _, parent, key in self.pieces]


def series(items: Iterable[StreamItem]) -> list[Series]:
    """Every streamed message's text pieces that span more than one event."""
    found: dict[tuple[Any, ...], Series] = {}
    for index, item in enumerate(items):
        if item.event is None or item.data is NO_DATA:
            continue
        for key, message, cumulative in _messages(item.event, item.data):
            for part, parent, name in _strings(message, cumulative):
                group = found.setdefault((*key, *part), Series(cumulative=cumulative))
                group.pieces.append((index, parent, name))
    return [group for group in found.values() if len({p[0] for p in group.pieces}) > 1]


def _messages(name: str, data: Any) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], bool]]:
    mode = name.split("|", 1)[0]
    if mode == "messages" and isinstance(data, list) and data and isinstance(data[0], dict):
        message = data[0]
        if str(message.get("type", "")).endswith("Chunk") and message.get("id"):
            yield ("chunk", name, str(message["id"])), message, False
    elif mode == "messages/partial" and isinstance(data, list):
        for message in data:
            if isinstance(message, dict) and message.get("id"):
                yield ("partial", name, str(message["id"])), message, True
    elif (
        mode == "events"
        and isinstance(data, dict)
        and data.get("event") == "on_chat_model_stream"
        and isinstance(data.get("data"), dict)
        and isinstance(data["data"].get("chunk"), dict)
    ):
        yield ("model", name, str(data.get("run_id"))), data["data"]["chunk"], False


def _strings(
    message: dict[str, Any], cumulative: bool
) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """(which text, holder, key) of every string piece of one message's text."""
    content = message.get("content")
    if isinstance(content, str):
        yield ("content",), message, "content"
    elif isinstance(content, list) and not cumulative:
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                yield ("content",), block, "text"
    if cumulative:
        return
    for chunk in message.get("tool_call_chunks") or ():
        if isinstance(chunk, dict) and isinstance(chunk.get("args"), str):
            yield ("args", chunk.get("index")), chunk, "args"


def folded_texts(items: Iterable[StreamItem]) -> list[tuple[tuple[int, int], str]]:
    """((first item index, last item index), joined text) of every message split into pieces."""
    out = []
    for group in series(items):
        if not group.cumulative:
            indexes = [index for index, _, _ in group.pieces]
            out.append(((indexes[0], indexes[-1]), "".join(group.texts())))
    return out


def split_secret_edits(items: Iterable[StreamItem], secrets: list[str]) -> dict[int, list[Edit]]:
    """Edits, by item index, masking every secret found in a message's joined text."""
    edits: dict[int, list[Edit]] = {}
    for group in series(items):
        texts = group.texts()
        whole = texts[-1] if group.cumulative else "".join(texts)
        ranges = _ranges(whole, secrets)
        if not ranges:
            continue
        start = 0
        for (index, parent, key), text in zip(group.pieces, texts, strict=True):
            if group.cumulative and not whole.startswith(text):
                continue  # not a prefix of the final text: its own scan masks what it holds
            new = _cut(text, 0 if group.cumulative else start, ranges)
            if not group.cumulative:
                start += len(text)
            if new != text:
                edits.setdefault(index, []).append((parent, key, new))
    return edits


def _ranges(text: str, secrets: list[str]) -> list[tuple[int, int]]:
    """Where the secrets are in `text`, overlapping finds merged, in order."""
    found = []
    for secret in secrets:
        at = text.find(secret)
        while at >= 0:
            found.append((at, at + len(secret)))
            at = text.find(secret, at + 1)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _cut(text: str, start: int, ranges: list[tuple[int, int]]) -> str:
    """A piece at offset `start` of the whole text, with its parts of the ranges masked: the
    marker where a range starts, nothing where a range started in an earlier piece."""
    out, position, end = [], start, start + len(text)
    for a, b in ranges:
        low, high = max(a, start), min(b, end)
        if low >= high:
            continue
        out.append(text[position - start : low - start])
        out.append(REDACTED if a >= start else "")
        position = high
    out.append(text[position - start :])
    return "".join(out)
