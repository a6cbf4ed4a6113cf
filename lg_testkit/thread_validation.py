"""Checking the thread-centric protocol (`client.threads.stream()`) against its schemas and rules.

    validate_thread_event(envelope)          one event {type, event_id, seq, method, params}
    validate_command(request)                a command {id, method, params}
    validate_reply(reply, method="run.start")   a command's answer (success or error; with
                                             status=, also a route's own HTTP error)
    validate_stream_request(body)            the body of POST /threads/{id}/stream/events
    validate_subscription(events, request=...)  every event of one connection, plus its rules
    validate_connections({"sse#1": events, ...})  the same event alike on every connection
    validate_timeline(items)                 commands and events in the order a client saw them
    check_thread(thread, source=...)         a recorded thread's log, its commands and replies

Rules of one subscription (one SSE response, or one WebSocket subscription): `seq` rises; with
`since`, every seq is above it; every event matches the request's channels, namespaces and
depth; at the root namespace lifecycle goes running -> interrupted | completed | failed (then
running again for the next run), a subgraph namespace's starts with `started`; per namespace,
message-start ... message-finish bracket content-block-start / -delta / -finish, whose indexes
start once, in rising order, and are finished before the message is; tool-started precedes its
tool-finished / tool-error (a finished id may start again in a later run). Across connections
an `event_id` always names the same event (same seq, method and params). On a timeline, an
`input.respond` answers an interrupt_id announced by an earlier `input.requested`.

Each finding is a `lg_testkit.validation.Problem`, printed as
`source:index: what: json-path: message`, the JSON path rooted at the envelope (or command,
reply) itself. Schemas are checked as in `lg_testkit.validation`: jsonschema-rs says yes or no,
`jsonschema` explains a no.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import best_match

from lg_testkit.protocol import channel_of, matches_filter
from lg_testkit.schemas.threads import (
    DOCUMENT_SCHEMAS,
    METHOD_SCHEMAS,
    load_schema,
    schema_documents,
)
from lg_testkit.validation import Problem, Severity, Validators, _describe

if TYPE_CHECKING:
    from lg_testkit.threadlog import ProtocolThread

__all__ = [
    "channel_of",
    "check_thread",
    "matches_filter",
    "validate_command",
    "validate_connections",
    "validate_reply",
    "validate_stream_request",
    "validate_subscription",
    "validate_thread_event",
    "validate_timeline",
]

_ROOT = "$"
_ROOT_TERMINAL = frozenset({"interrupted", "completed", "failed"})
_SUBGRAPH_TERMINAL = frozenset({"completed", "failed", "interrupted"})
# What `result` holds in the success reply to each command (a key that must be there).
_RESULT_KEYS: dict[str, str] = {
    "run.start": "run_id",
    "subscription.subscribe": "subscription_id",
}


# -- schemas ---------------------------------------------------------------------------------


@cache
def _validators() -> Validators:
    schemas = {name: load_schema(stem) for name, stem in DOCUMENT_SCHEMAS.items()}
    return Validators(schema_documents(), schemas)


def _check(name: str, instance: Any, *, source: str, index: int | None, what: str) -> list[Problem]:
    validators = _validators()
    if validators.is_valid(name, instance):
        return []
    errors = validators.explainer(name).iter_errors(instance)
    problems = [
        Problem(source, index, what, leaf.json_path, _describe(leaf))
        for leaf in (best_match([error]) for error in errors)
    ]
    # An if/then dispatch can report the same leaf twice (once per branch that applies).
    return list(dict.fromkeys(problems))


def _label(envelope: Any) -> str:
    """`messages/content-block-delta`, `lifecycle/completed`, `values`: what a message names."""
    if not isinstance(envelope, Mapping):
        return "-"
    method = str(envelope.get("method", "-"))
    params = envelope.get("params")
    data = params.get("data") if isinstance(params, Mapping) else None
    if isinstance(data, Mapping) and isinstance(data.get("event"), str):
        return f"{method}/{data['event']}"
    return method


def validate_thread_event(
    envelope: Any, *, source: str = "<event>", index: int | None = None
) -> list[Problem]:
    """The problems of one event envelope (an empty list when it is valid)."""
    method = envelope.get("method") if isinstance(envelope, Mapping) else None
    if isinstance(method, str) and method not in METHOD_SCHEMAS:
        known = ", ".join(METHOD_SCHEMAS)
        return [
            Problem(
                source,
                index,
                method,
                "$.method",
                f"expected an event method ({known}), found {method!r}",
            )
        ]
    return _check("event", envelope, source=source, index=index, what=_label(envelope))


def validate_command(
    request: Any, *, source: str = "<command>", index: int | None = None
) -> list[Problem]:
    """The problems of one command request {id, method, params}."""
    what = str(request.get("method", "command")) if isinstance(request, Mapping) else "command"
    return _check("command", request, source=source, index=index, what=what)


def validate_reply(
    reply: Any,
    *,
    method: str | None = None,
    command_id: int | None = None,
    status: int | None = None,
    source: str = "<reply>",
    index: int | None = None,
) -> list[Problem]:
    """The problems of a command's reply; with `method` / `command_id`, also that it answers it.

    A success reply to run.start carries `result.run_id`, to subscription.subscribe
    `result.subscription_id` (input.respond answers `{}` on langgraph-api 0.16.7); the reply's
    `id` is the command's. With the HTTP `status`, a route's own error (>= 400 and no protocol
    `type`: langgraph-api's `{"detail": ...}`, checked against http-error.json; the JS server's
    text or zod objects, not checked) is told apart from a protocol reply.
    """
    what = f"reply to {method}" if method else "reply"
    if (
        status is not None
        and status >= 400
        and not (isinstance(reply, Mapping) and "type" in reply)
    ):
        if isinstance(reply, Mapping) and "detail" in reply:
            return _check("http-error", reply, source=source, index=index, what=what)
        return []
    problems = _check("reply", reply, source=source, index=index, what=what)
    if problems or not isinstance(reply, Mapping):
        return problems
    if command_id is not None and reply.get("id") != command_id:
        problems.append(
            Problem(
                source,
                index,
                what,
                "$.id",
                f"expected the command's id {command_id}, found {reply.get('id')!r}",
            )
        )
    key = _RESULT_KEYS.get(method or "")
    result = reply.get("result")
    if not (reply.get("type") == "success" and key and isinstance(result, Mapping)):
        return problems
    if not isinstance(result.get(key), str):
        problems.append(
            Problem(
                source,
                index,
                what,
                f"$.result.{key}",
                f"expected a string {key} in the result of {method}, "
                f"found {_short(result.get(key))}",
            )
        )
    return problems


def validate_stream_request(
    body: Any, *, source: str = "<stream request>", index: int | None = None
) -> list[Problem]:
    """The problems of a subscription request body {channels, namespaces?, depth?, since?}."""
    return _check("stream-request", body, source=source, index=index, what="stream/events")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# -- filters ---------------------------------------------------------------------------------


# -- one subscription ------------------------------------------------------------------------


@dataclass
class _Message:
    start_index: int
    started: list[int] = field(default_factory=list)
    finished: set[int] = field(default_factory=set)


@dataclass
class _Rules:
    """The state of one subscription's stream rules."""

    source: str
    from_start: bool
    problems: list[Problem] = field(default_factory=list)
    previous_seq: int | None = None
    previous_index: int | None = None
    previous_id: str | None = None
    root_phase: str | None = None  # None before any root lifecycle, else the last one
    subgraphs: dict[tuple[str, ...], str] = field(default_factory=dict)
    messages: dict[tuple[str, ...], _Message | None] = field(default_factory=dict)
    tools: dict[str, int] = field(default_factory=dict)  # open tool calls -> event index

    def add(self, index: int, what: str, path: str, message: str, warning: bool = False) -> None:
        severity: Severity = "warning" if warning else "error"
        self.problems.append(Problem(self.source, index, what, path, message, severity))


def validate_subscription(
    events: Iterable[Any],
    *,
    request: Mapping[str, Any] | None = None,
    source: str = "<subscription>",
    schemas: bool = True,
) -> list[Problem]:
    """The problems of one subscription's events, in the order they arrived.

    `events` are envelopes, or `(sse_event, sse_id, envelope)` tuples (an SSE block's `event:`
    and `id:` lines with its parsed data), which are also checked against the envelope: `event:`
    is the method and `id:` the seq. `request` is the subscription's filter (the stream/events
    body or the subscribe command's params); None skips the filter and `since` checks.
    `schemas=False` checks only the stream rules, for envelopes already known to be valid.
    """
    since = request.get("since") if request is not None else None
    rules = _Rules(source, from_start=since is None)
    for index, item in enumerate(events):
        envelope, sse_event, sse_id = _unpack(item)
        what = _label(envelope)
        if sse_event is not None or sse_id is not None:
            _check_sse_lines(rules, index, what, envelope, sse_event, sse_id)
        if schemas:
            found = validate_thread_event(envelope, source=source, index=index)
            rules.problems.extend(found)
            if found:
                continue
        if not isinstance(envelope, Mapping):
            continue
        if _check_seq(rules, index, what, envelope, since):
            continue  # the same event again: clients drop it, so do the rules
        if request is not None and not matches_filter(envelope, request):
            rules.add(
                index,
                what,
                "$",
                f"an event on channel {channel_of(envelope)!r} at namespace "
                f"{envelope['params'].get('namespace')} that the request does not ask for "
                f"(channels {request.get('channels')}, namespaces {request.get('namespaces')}, "
                f"depth {request.get('depth')})",
            )
        method = envelope.get("method")
        if method == "lifecycle":
            _check_lifecycle(rules, index, what, envelope)
        elif method == "messages":
            _check_message(rules, index, what, envelope)
        elif method == "tools":
            _check_tool(rules, index, what, envelope)
    return rules.problems


def _unpack(item: Any) -> tuple[Any, str | None, str | None]:
    if isinstance(item, tuple):
        sse_event, sse_id, envelope = item
        return envelope, sse_event, sse_id
    return item, None, None


def _check_sse_lines(
    rules: _Rules, index: int, what: str, envelope: Any, sse_event: str | None, sse_id: str | None
) -> None:
    if not isinstance(envelope, Mapping):
        return
    if sse_event != envelope.get("method"):
        rules.add(
            index,
            what,
            "$.method",
            f"expected the SSE `event:` line to be the method {envelope.get('method')!r}, "
            f"found {sse_event!r}",
        )
    seq = envelope.get("seq")
    if sse_id != (str(seq) if isinstance(seq, int) else None):
        rules.add(
            index,
            what,
            "$.seq",
            f"expected the SSE `id:` line to be the seq {seq!r}, found {sse_id!r}",
        )


def _check_seq(
    rules: _Rules, index: int, what: str, envelope: Mapping[str, Any], since: Any
) -> bool:
    """Check seq against `since` and the previous event; True for an immediate repeat."""
    seq, event_id = envelope.get("seq"), envelope.get("event_id")
    if not isinstance(seq, int):
        return False  # the schema says what is wrong with it
    if isinstance(since, int) and seq <= since:
        rules.add(
            index,
            what,
            "$.seq",
            f"expected a seq above since={since} (since is exclusive), found {seq}",
        )
    previous = rules.previous_seq
    if previous is not None and seq <= previous:
        if seq == previous and event_id == rules.previous_id:
            rules.add(
                index,
                what,
                "$.seq",
                f"event {event_id!r} (seq {seq}) delivered again right after itself "
                f"(event {rules.previous_index}); clients drop it by event_id",
                warning=True,
            )
            return True
        rules.add(
            index,
            what,
            "$.seq",
            f"expected a seq above {previous} (event {rules.previous_index}), found {seq}: "
            "seq rises on every connection",
        )
    rules.previous_seq, rules.previous_index, rules.previous_id = seq, index, event_id
    return False


def _check_lifecycle(rules: _Rules, index: int, what: str, envelope: Mapping[str, Any]) -> None:
    params = envelope["params"]
    namespace = tuple(params["namespace"])
    phase = params["data"]["event"]
    path = "$.params.data.event"
    if not namespace:
        expected = {"running"} if rules.root_phase in (None, *_ROOT_TERMINAL) else _ROOT_TERMINAL
        if rules.root_phase is None and not rules.from_start:
            expected = {"running", *_ROOT_TERMINAL}  # joined part-way (since)
        if phase not in expected:
            after = f"after {rules.root_phase!r}" if rules.root_phase else "as the first"
            rules.add(
                index,
                what,
                path,
                f"expected root lifecycle {' or '.join(sorted(expected))} {after}, "
                f"found {phase!r} (a run goes running -> interrupted | completed | failed)",
            )
        rules.root_phase = phase
        return
    previous = rules.subgraphs.get(namespace)
    if phase == "started":
        if previous == "started":
            rules.add(
                index,
                what,
                path,
                f"subgraph {list(namespace)} started twice without finishing",
            )
        rules.subgraphs[namespace] = phase
    elif phase in _SUBGRAPH_TERMINAL:
        if previous != "started" and rules.from_start:
            rules.add(
                index,
                what,
                path,
                f"expected subgraph {list(namespace)} to be `started` before {phase!r}, "
                f"found {'no lifecycle' if previous is None else repr(previous)} before it",
            )
        rules.subgraphs[namespace] = phase
    else:
        rules.add(
            index,
            what,
            path,
            f"expected started, completed, failed or interrupted at a subgraph namespace, "
            f"found {phase!r}",
        )


def _check_message(rules: _Rules, index: int, what: str, envelope: Mapping[str, Any]) -> None:
    params = envelope["params"]
    namespace = tuple(params["namespace"])
    data = params["data"]
    kind = data["event"]
    where = f"at namespace {list(namespace)}"
    if namespace not in rules.messages and not rules.from_start:
        rules.messages[namespace] = None  # joined part-way: whatever is open is unknown
        if kind != "message-start":
            return
    current = rules.messages.get(namespace)
    if kind == "message-start":
        if current is not None:
            rules.add(
                index,
                what,
                "$.params.data.event",
                f"expected message-finish of the message started at event "
                f"{current.start_index} {where} before a new message-start",
            )
        rules.messages[namespace] = _Message(start_index=index)
        return
    if current is None:
        if namespace in rules.messages and not rules.from_start:
            return  # inside a message that began before this subscription's `since`
        rules.add(
            index,
            what,
            "$.params.data.event",
            f"expected message-start before {kind} {where}, found no open message",
        )
        return
    if kind in ("message-finish", "error"):
        unfinished = [i for i in current.started if i not in current.finished]
        if kind == "message-finish" and unfinished:
            rules.add(
                index,
                what,
                "$.params.data",
                f"expected content-block-finish for block(s) {unfinished} {where} "
                f"before message-finish",
            )
        rules.messages[namespace] = None
        return
    block = data["index"]
    path = "$.params.data.index"
    if kind == "content-block-start":
        if block in current.started:
            rules.add(index, what, path, f"content block {block} {where} started twice")
        elif current.started and block < max(current.started):
            rules.add(
                index,
                what,
                path,
                f"expected a block index above {max(current.started)} {where}, found {block}",
            )
        current.started.append(block)
        return
    if block not in current.started:
        rules.add(
            index,
            what,
            path,
            f"expected content-block-start for index {block} {where} before {kind}; "
            f"started: {current.started}",
        )
    elif block in current.finished:
        rules.add(index, what, path, f"{kind} for block {block} {where} after its finish")
    if kind == "content-block-finish":
        current.finished.add(block)


def _check_tool(rules: _Rules, index: int, what: str, envelope: Mapping[str, Any]) -> None:
    data = envelope["params"]["data"]
    call = data["tool_call_id"]
    kind = data["event"]
    if kind == "tool-started":
        if call in rules.tools:
            rules.add(
                index,
                what,
                "$.params.data.tool_call_id",
                f"tool call {call!r} started again before it finished "
                f"(started at event {rules.tools[call]})",
            )
        rules.tools[call] = index
        return
    if call not in rules.tools:
        if rules.from_start:
            rules.add(
                index,
                what,
                "$.params.data.tool_call_id",
                f"expected tool-started for {call!r} before {kind}",
            )
    elif kind in ("tool-finished", "tool-error"):
        del rules.tools[call]  # a later run may use the same tool_call_id again


# -- several connections, and commands -------------------------------------------------------


def validate_connections(streams: Mapping[str, Iterable[Any]]) -> list[Problem]:
    """Across connections (label -> its events), an event_id names one event everywhere.

    The copies of an event (same `event_id`) must be equal: same seq, method and params (the
    timestamp aside: server-made events are stamped per connection). And a seq names one event:
    two event_ids with the same seq are reported too.
    """
    problems: list[Problem] = []
    first: dict[str, tuple[str, int, Mapping[str, Any]]] = {}
    by_seq: dict[int, tuple[str, int, str]] = {}
    for label, events in streams.items():
        for index, item in enumerate(events):
            envelope, _, _ = _unpack(item)
            if not isinstance(envelope, Mapping):
                continue
            event_id, seq = envelope.get("event_id"), envelope.get("seq")
            if not isinstance(event_id, str):
                continue
            what = _label(envelope)
            seen = first.get(event_id)
            if seen is None:
                first[event_id] = (label, index, envelope)
            elif seen[0] != label:
                for key in ("seq", "method", "params"):
                    if _comparable(envelope, key) != _comparable(seen[2], key):
                        problems.append(
                            Problem(
                                label,
                                index,
                                what,
                                f"$.{key}",
                                f"event_id {event_id!r} has {key} {_short(envelope.get(key))} "
                                f"here but {_short(seen[2].get(key))} on {seen[0]} "
                                f"(event {seen[1]}): an event_id names one event",
                            )
                        )
            if isinstance(seq, int):
                other = by_seq.setdefault(seq, (label, index, event_id))
                if other[2] != event_id:
                    problems.append(
                        Problem(
                            label,
                            index,
                            what,
                            "$.seq",
                            f"seq {seq} is event {event_id!r} here but {other[2]!r} on "
                            f"{other[0]} (event {other[1]}): a seq names one event of the thread",
                        )
                    )
    return problems


def _comparable(envelope: Mapping[str, Any], key: str) -> Any:
    """An envelope's field as compared across connections: a server-made (`synth:`) event is
    stamped by each connection's session, so its params.timestamp may differ by milliseconds."""
    value = envelope.get(key)
    if key == "params" and isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k != "timestamp"}
    return value


def validate_timeline(
    items: Iterable[Mapping[str, Any]], *, source: str = "<timeline>"
) -> list[Problem]:
    """Commands and events in the order a client sent / saw them: each `input.respond`
    answers an interrupt announced earlier by an `input.requested` event."""
    problems: list[Problem] = []
    requested: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.get("type") == "event":
            if item.get("method") == "input.requested":
                data = (item.get("params") or {}).get("data") or {}
                interrupt_id = data.get("interrupt_id")
                if isinstance(interrupt_id, str):
                    requested.setdefault(interrupt_id, index)
            continue
        if item.get("method") != "input.respond":
            continue
        params = item.get("params") or {}
        answers = params.get("responses") or [params]
        for n, answer in enumerate(answers):
            interrupt_id = answer.get("interrupt_id") if isinstance(answer, Mapping) else None
            if interrupt_id not in requested:
                path = (
                    "$.params.interrupt_id"
                    if "responses" not in params
                    else (f"$.params.responses[{n}].interrupt_id")
                )
                known = sorted(requested) or "none yet"
                problems.append(
                    Problem(
                        source,
                        index,
                        "input.respond",
                        path,
                        f"expected the interrupt_id of an earlier input.requested event "
                        f"(known: {known}), found {interrupt_id!r}",
                    )
                )
    return problems


def check_thread(thread: ProtocolThread, *, source: str) -> list[Problem]:
    """The problems of a recorded thread (lg_testkit.threadlog): its event log as one
    subscription, each command and each reply."""
    found = validate_subscription([event.event for event in thread.events], source=source)
    for index, command in enumerate(thread.commands):
        found += validate_command(command.command, source=source, index=index)
        method = command.command.get("method") if isinstance(command.command, dict) else None
        found += validate_reply(command.reply, method=method, source=source, index=index)
    return found
