"""Run streams by meaning: volatile ids and times replaced, token chunks folded into messages.

Two recordings of the same scenario differ in run, thread, message and checkpoint ids, in
timestamps, in the server's port and in how the model's text was split into tokens. After

    normalize_events(events)    # stream items, or dicts with "event", "data" (and "id", ...)

they differ only where the behaviour differs, so they can be compared (`lg-testkit diff`) or
snapshotted. What changes:

- Each UUID (or 32-digit hex id, as interrupts have), with a `run-`/`run--`/`lc_run--` prefix
  or a `-N` suffix, becomes `<id:N>`, N
  counted in order of first appearance, so one id keeps one placeholder across the events
  (`lc_run--X` and `lc_run--X-0` name the same message and get the same N). Ids inside longer
  strings (`agent:<id:3>`, paths, event names `updates|sub:<id:2>`) are replaced in place.
- ISO-8601 timestamps in strings, and numbers under time keys (`created_at`, `timestamp`, ...),
  become `<time>`; loopback URLs lose their port (`http://127.0.0.1:<port>`).
- SSE ids (`1795494211452-0`, `7`) become `<sse-id>`; `t`, `raw` and comment blocks go.
- Token chunks are folded: the `messages` (messages-tuple) chunks of one message become one event
  at the place of its first chunk, with the text, tool-call chunks and usage of all of them;
  only the last `messages/partial` of a message is kept; `events`-mode `on_chat_model_stream`
  records of one model run fold the same way.

`Normalizer` keeps the id numbering across calls, for several streams of one cassette.

The thread-centric protocol's events (`thread.events`, a cassette's `threads`) normalise with
`normalize_thread_events` and `normalize_thread`: event_id, seq and timestamps left out, the
client-minted thread id and every other id replaced, each message's parts (message-start,
content-block-start / -delta / -finish, message-finish) folded into one event holding its text.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lg_testkit.cassette import NO_DATA, StreamItem

__all__ = [
    "Normalizer",
    "fold_thread_events",
    "fold_tokens",
    "is_thread_event",
    "is_token_chunk",
    "normalize_command",
    "normalize_events",
    "normalize_thread",
    "normalize_thread_events",
    "normalize_value",
]

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_HEX32 = r"(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])"  # interrupt ids, dashless UUIDs
_ID = re.compile(rf"(?:lc_run--|run--|run-)?({_UUID}|{_HEX32})(?:-\d+(?![\w-]))?")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_LOOPBACK = re.compile(r"(://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])):\d+")
_TIME_KEYS = frozenset(
    {
        "created_at",
        "updated_at",
        "timestamp",
        "ts",
        "start_time",
        "end_time",
        "time",
        "__request_start_time_ms__",  # in run configs: when the server got the request
    }
)
SSE_ID = "<sse-id>"
TIME = "<time>"
_PLACEHOLDER = re.compile(r"<id:\d+>")


class Normalizer:
    """Replaces volatile values by placeholders, numbering ids consistently across calls."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def text(self, text: str) -> str:
        if len(text) >= 19:  # the shortest timestamp; ids are longer
            text = _ID.sub(self._id, text)
            text = _TIME.sub(TIME, text)
        if "://" in text:
            text = _LOOPBACK.sub(r"\1:<port>", text)
        return text

    def _id(self, match: re.Match[str]) -> str:
        core = match.group(1).lower()
        if core not in self.ids:
            self.ids[core] = f"<id:{len(self.ids) + 1}>"
        return self.ids[core]

    def value(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if key in _TIME_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            return TIME
        return value

    def event(self, item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.text(str(item.get("event", "message")))}
        if "data" in item:
            out["data"] = self.value(item["data"])
        elif "text" in item:
            out["text"] = self.text(str(item["text"]))
        if "id" in item:
            out["id"] = SSE_ID
        return out

    def events(
        self, events: Iterable[StreamItem | Mapping[str, Any]], *, fold: bool = True
    ) -> list[dict[str, Any]]:
        """Events only (comments and leftovers the SDK does not yield dropped), folded, then
        normalised."""
        items = (e if isinstance(e, StreamItem) else StreamItem.from_dict(e) for e in events)
        kept = [_fields(item) for item in items if item.is_event]
        return [self.event(e) for e in (fold_tokens(kept) if fold else kept)]


def _fields(item: StreamItem) -> dict[str, Any]:
    """An event's meaning as a dict: the fields it has of event, data or text, and id."""
    out: dict[str, Any] = {}
    if item.event is not None:
        out["event"] = item.event
    if item.data is not NO_DATA:
        out["data"] = item.data
    elif item.text is not None:
        out["text"] = item.text
    if item.id is not None:
        out["id"] = item.id
    return out


def normalize_events(
    events: Iterable[StreamItem | Mapping[str, Any]],
    *,
    fold: bool = True,
    normalizer: Normalizer | None = None,
) -> list[dict[str, Any]]:
    """The events of a stream by meaning (see the module doc); the input is left unchanged."""
    return (normalizer or Normalizer()).events(events, fold=fold)


def normalize_value(value: Any, normalizer: Normalizer | None = None) -> Any:
    """Any JSON value with ids, times and loopback ports replaced by placeholders."""
    return (normalizer or Normalizer()).value(value)


def anonymous(value: Any) -> Any:
    """A normalised value with every `<id:N>` turned into `<id>`: compares ids by role only."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub("<id>", value)
    if isinstance(value, dict):
        return {anonymous(k): anonymous(v) for k, v in value.items()}
    if isinstance(value, list):
        return [anonymous(v) for v in value]
    return value


# -- folding token chunks ----------------------------------------------------------------------


def fold_tokens(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One event per streamed message instead of one per token (see the module doc)."""
    out: list[dict[str, Any]] = []
    open_chunks: dict[tuple[str, str], dict[str, Any]] = {}
    last_partial: dict[tuple[str, str], int] = {}
    for event in events:
        name = str(event.get("event", ""))
        mode = name.split("|", 1)[0]
        data = event.get("data")
        key = _chunk_key(mode, name, data)
        if key is not None and key in open_chunks:
            _merge_into(open_chunks[key], mode, data)
            continue
        if key is not None:
            event = copy.deepcopy(event)
            open_chunks[key] = event
        if mode == "messages/partial" and isinstance(data, list):
            partial_key = (name, ",".join(str(m.get("id")) for m in data if isinstance(m, dict)))
            if partial_key in last_partial:
                out[last_partial[partial_key]] = {}  # superseded by this one
            last_partial[partial_key] = len(out)
        out.append(event)
    return [event for event in out if event]


def is_token_chunk(name: str, data: Any) -> bool:
    """A streamed piece of a message (`messages` chunk, `events` on_chat_model_stream), which
    `fold_tokens` folds with the other pieces of the same message."""
    return _chunk_key(name.split("|", 1)[0], name, data) is not None


def _chunk_key(mode: str, name: str, data: Any) -> tuple[str, str] | None:
    if mode == "messages" and isinstance(data, list) and data and isinstance(data[0], dict):
        message = data[0]
        if str(message.get("type", "")).endswith("Chunk") and message.get("id"):
            return name, str(message["id"])
    if mode == "events" and isinstance(data, dict) and data.get("event") == "on_chat_model_stream":
        return name, str(data.get("run_id"))
    return None


def _merge_into(folded: dict[str, Any], mode: str, data: Any) -> None:
    if mode == "messages":
        _merge_chunk(folded["data"][0], data[0])
    else:
        target = folded["data"].setdefault("data", {})
        chunk = (data.get("data") or {}).get("chunk")
        if isinstance(target.get("chunk"), dict) and isinstance(chunk, dict):
            _merge_chunk(target["chunk"], chunk)


def _merge_chunk(folded: dict[str, Any], chunk: dict[str, Any]) -> None:
    """Add one token chunk to the message folded so far (LangChain's chunk addition, roughly)."""
    for field, value in chunk.items():
        current = folded.get(field)
        if field == "content":
            folded[field] = _add_content(current, value)
        elif field == "tool_call_chunks" and isinstance(value, list):
            folded[field] = _add_tool_call_chunks(current or [], value)
        elif field in ("tool_calls", "invalid_tool_calls") and isinstance(value, list):
            folded[field] = value or current
        elif value not in (None, "", [], {}) or field not in folded:
            folded[field] = value


def _add_content(current: Any, value: Any) -> Any:
    if isinstance(current, str) and isinstance(value, str):
        return current + value
    if isinstance(current, list) and isinstance(value, list):
        return current + value
    return value if current in (None, "", []) else current


def _add_tool_call_chunks(current: list[Any], chunks: list[Any]) -> list[Any]:
    merged = [dict(c) for c in current]
    for chunk in chunks:
        same = next((c for c in merged if c.get("index") == chunk.get("index")), None)
        if same is None:
            merged.append(dict(chunk))
            continue
        for field, value in chunk.items():
            if field == "args" and isinstance(value, str):
                same["args"] = (same.get("args") or "") + value
            elif value is not None and not same.get(field):
                same[field] = value
    return merged


# -- the thread protocol -----------------------------------------------------------------------
#
# A thread-protocol event (lg_testkit.threadlog) is an envelope {type, event_id, seq, method,
# params: {namespace, timestamp, data}}. By meaning it is {method, namespace, data}: event_id,
# seq and the timestamp number the log and say when, not what. A message arrives as
# message-start, content-block-start / -delta / -finish per block, message-finish; folded, it is
# one `messages` event with `"event": "message"`, at the place of its message-start, holding the
# start's and the finish's fields and each block as finished (or as its deltas built it, when
# it never finished). Where the deltas do not add up to the finished block, the block keeps
# what they streamed under `streamed`, so folding hides only how the text was split.

_DELTA_FIELDS = {
    "text-delta": "text",
    "reasoning-delta": "reasoning",
    "data-delta": "data",
    "tool-call-delta": "args",
}
_BLOCK_PARTS = ("content-block-start", "content-block-delta", "content-block-finish")
SEQ = "<seq>"


def is_thread_event(value: Any) -> bool:
    """A thread-protocol event envelope (not a command reply or a subscription's answer)."""
    return (
        isinstance(value, Mapping)
        and value.get("type") == "event"
        and isinstance(value.get("method"), str)
    )


class _Message:
    """A message being folded: its event, and per block index what start, deltas and finish
    said."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.blocks: dict[Any, dict[str, Any]] = {}
        self.finished = False

    def part(self, data: Mapping[str, Any]) -> None:
        kind = data.get("event")
        if kind in _BLOCK_PARTS:
            block = self.blocks.setdefault(
                data.get("index"), {"built": {}, "finish": None, "deltas": 0}
            )
            if kind == "content-block-start" and isinstance(data.get("content"), Mapping):
                block["built"] = copy.deepcopy(dict(data["content"]))
            elif kind == "content-block-finish":
                block["finish"] = copy.deepcopy(data.get("content"))
            else:
                block["deltas"] += 1
                _apply_delta(block["built"], data)
            return
        self.finished = True
        fields = {k: copy.deepcopy(v) for k, v in data.items() if k != "event"}
        if kind == "error":  # the message failed
            self.event["data"]["error"] = fields
        else:
            for key, value in fields.items():
                self.event["data"].setdefault(key, value)

    def close(self) -> None:
        content = []
        for index in sorted(self.blocks, key=lambda i: (not isinstance(i, int), str(i))):
            block = self.blocks[index]
            built, finish = block["built"], block["finish"]
            if not isinstance(finish, Mapping):
                content.append(built)
                continue
            finish = dict(finish)
            streamed = {
                key: value
                for key, value in built.items()
                if block["deltas"] and not _same(value, finish.get(key))
            }
            if streamed:
                finish["streamed"] = streamed
            content.append(finish)
        self.event["data"]["content"] = content
        if not self.finished:
            self.event["data"]["unfinished"] = True


def _same(built: Any, finished: Any) -> bool:
    """A streamed field and its finished value: tool-call arguments stream as JSON text."""
    if isinstance(built, str) and not isinstance(finished, str) and finished is not None:
        try:
            return bool(json.loads(built) == finished)
        except ValueError:
            return False
    return bool(built == finished)


def _apply_delta(built: dict[str, Any], data: Mapping[str, Any]) -> None:
    delta = data.get("delta")
    if isinstance(delta, Mapping):
        kind = delta.get("type")
        field = _DELTA_FIELDS.get(str(kind))
        if field is not None:
            built[field] = str(built.get(field) or "") + str(delta.get(field) or "")
        elif kind == "block-delta" and isinstance(delta.get("fields"), Mapping):
            built.update(copy.deepcopy(dict(delta["fields"])))
    elif isinstance(data.get("content"), Mapping):  # langgraph-api 0.16 sends a tool's whole
        built.clear()  # output as the content of one delta
        built.update(copy.deepcopy(dict(data["content"])))


def fold_thread_events(envelopes: Iterable[Any], *, fold: bool = True) -> list[dict[str, Any]]:
    """Thread-protocol events as `{method, namespace, data}`, in the order given, each
    message's parts folded into one event (see above); anything not an event is left out."""
    out: list[dict[str, Any]] = []
    open_messages: dict[str, _Message] = {}
    folded: list[_Message] = []
    for envelope in envelopes:
        if not is_thread_event(envelope):
            continue
        params = envelope.get("params")
        params = params if isinstance(params, Mapping) else {}
        namespace = params.get("namespace")
        data = params.get("data")
        event: dict[str, Any] = {
            "method": envelope["method"],
            "namespace": list(namespace) if isinstance(namespace, list) else namespace,
            "data": copy.deepcopy(data),
        }
        for key, value in params.items():  # fields a server may add beside these
            if key not in ("namespace", "timestamp", "data"):
                event[key] = copy.deepcopy(value)
        if fold and envelope["method"] == "messages" and isinstance(data, Mapping):
            where = repr(namespace)
            kind = data.get("event")
            if kind == "message-start":
                start = {k: copy.deepcopy(v) for k, v in data.items() if k != "event"}
                event["data"] = {"event": "message", **start}
                message = open_messages[where] = _Message(event)
                folded.append(message)
                out.append(event)
                continue
            current = open_messages.get(where)
            if current is not None and kind in (*_BLOCK_PARTS, "message-finish", "error"):
                current.part(data)
                if kind in ("message-finish", "error"):
                    del open_messages[where]
                continue
        out.append(event)
    for message in folded:
        message.close()
    return out


def normalize_thread_events(
    envelopes: Iterable[Any], *, fold: bool = True, normalizer: Normalizer | None = None
) -> list[dict[str, Any]]:
    """Thread-protocol events by meaning: folded (`fold_thread_events`), then ids, times and
    ports replaced (event_id, seq and timestamps are left out by folding)."""
    normalizer = normalizer or Normalizer()
    return [normalizer.value(event) for event in fold_thread_events(envelopes, fold=fold)]


def normalize_command(command: Any, normalizer: Normalizer | None = None) -> Any:
    """A command or its reply by meaning: without the client's counter `id`, with the seq a
    reply was applied through as `<seq>`, ids and times replaced."""
    normalizer = normalizer or Normalizer()
    if not isinstance(command, Mapping):
        return normalizer.value(command)
    out = {key: value for key, value in command.items() if key != "id"}
    meta = out.get("meta")
    if isinstance(meta, Mapping) and "applied_through_seq" in meta:
        out["meta"] = {**meta, "applied_through_seq": SEQ}
    return normalizer.value(out)


def normalize_thread(
    thread: Any, *, fold: bool = True, normalizer: Normalizer | None = None
) -> dict[str, Any]:
    """A recorded protocol thread (`ProtocolThread` or its dict) by meaning: its id (the client
    minted it) as `<id:1>`, and per command its request, status, reply and the events that
    followed it, folded and normalised; events from before any command come first, under a
    command of None."""
    from lg_testkit.threadlog import ProtocolThread

    if isinstance(thread, ProtocolThread):
        thread = thread.to_dict()
    normalizer = normalizer or Normalizer()
    out: dict[str, Any] = {"thread_id": normalizer.text(str(thread.get("thread_id", "")))}
    commands = list(thread.get("commands") or [])
    events: dict[int, list[Any]] = {}
    for event in thread.get("events") or []:
        after = event.get("after", -1)
        after = after if isinstance(after, int) and -1 <= after < len(commands) else -1
        events.setdefault(after, []).append(event.get("event"))
    runs: list[dict[str, Any]] = []
    if events.get(-1):
        runs.append(
            {
                "command": None,
                "events": normalize_thread_events(events[-1], fold=fold, normalizer=normalizer),
            }
        )
    for index, command in enumerate(commands):
        runs.append(
            {
                "command": normalize_command(command.get("command"), normalizer),
                "status": command.get("status"),
                "reply": normalize_command(command.get("reply"), normalizer),
                "events": normalize_thread_events(
                    events.get(index, []), fold=fold, normalizer=normalizer
                ),
            }
        )
    out["runs"] = runs
    return out
