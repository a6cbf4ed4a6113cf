"""What a LangGraph API server is, as far as lg-testkit needs to know: its routes, which of them
stream and how, what it assumes for a field a request leaves out, its stream modes and their
event names. Matching, the replay engine, validation, `diff` and `show` read it from here;
nothing else spells out a route.

Routes (PROTOCOL.md in the shared notes has the observed wire format):

    POST /threads                                  create a thread
    POST /threads/{t}/runs/stream                  run on a thread, streamed      RUN_STREAM
    POST /runs/stream                              stateless run, streamed        RUN_STREAM
    GET  /threads/{t}/runs/{r}/stream              join a run's stream           JOIN
    GET  /threads/{t}/stream                       thread-level stream            THREAD_STREAM
    POST /threads/{t}/commands                     thread protocol: a command     COMMAND
    POST /threads/{t}/stream/events                thread protocol: subscription  SUBSCRIPTION
    anything else under /threads/{t}               the thread's other requests   THREAD
    anything else                                  shared: /info, /assistants/search, ...
"""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_STREAM_MODE",
    "EVENT_MODES",
    "STREAM_MODES",
    "SUBSCRIPTION_CHANNELS",
    "TERMINAL_EVENTS",
    "Route",
    "RouteKind",
    "StreamRequest",
    "base_event",
    "channel_of",
    "delivered",
    "matches_filter",
    "namespace_of",
    "query_defaults",
    "route",
    "server_defaults",
    "stream_request",
    "subscription_problem",
]


class RouteKind(enum.Enum):
    CREATE_THREAD = "create thread"
    RUN_STREAM = "run stream"
    JOIN = "join"
    THREAD_STREAM = "thread stream"
    COMMAND = "command"
    SUBSCRIPTION = "subscription"
    THREAD = "thread"
    SHARED = "shared"


@dataclass(frozen=True, slots=True)
class Route:
    """A request's place in the API: its kind, and the thread and run ids its path names."""

    kind: RouteKind
    thread_id: str | None = None
    run_id: str | None = None
    read: bool = False  # answers without changing anything: it may be asked again and again

    @property
    def streams(self) -> bool:
        """Answered with `text/event-stream`."""
        return self.kind in _STREAMING


_STREAMING = frozenset(
    {RouteKind.RUN_STREAM, RouteKind.JOIN, RouteKind.THREAD_STREAM, RouteKind.SUBSCRIPTION}
)
_THREAD = re.compile(r"/threads/([^/]+)(/.*)?")
_NOT_A_THREAD = frozenset({"search", "count", "prune"})  # /threads/search etc.
_JOIN = re.compile(r"/runs/([^/]+)/stream")
_RUN = re.compile(r"/runs/([^/]+)(?:/.*)?")
_READ_SUFFIXES = ("/history", "/search", "/count")


def route(method: str, path: str) -> Route:
    """Where `method path` goes on a LangGraph server."""
    read = method == "GET" or (method == "POST" and path.endswith(_READ_SUFFIXES))
    if path == "/threads" and method == "POST":
        return Route(RouteKind.CREATE_THREAD)
    if path == "/runs/stream" and method == "POST":
        return Route(RouteKind.RUN_STREAM)
    match = _THREAD.fullmatch(path)
    if match is None or match[1] in _NOT_A_THREAD:
        return Route(RouteKind.SHARED, read=read)
    thread_id, rest = match[1], match[2] or ""
    if method == "POST" and rest == "/runs/stream":
        return Route(RouteKind.RUN_STREAM, thread_id)
    if method == "POST" and rest == "/commands":
        return Route(RouteKind.COMMAND, thread_id)
    if method == "POST" and rest == "/stream/events":
        return Route(RouteKind.SUBSCRIPTION, thread_id, read=True)
    if method == "GET" and rest == "/stream":
        return Route(RouteKind.THREAD_STREAM, thread_id, read=True)
    if method == "GET" and (join := _JOIN.fullmatch(rest)):
        return Route(RouteKind.JOIN, thread_id, join[1], read=True)
    run = _RUN.fullmatch(rest)
    return Route(RouteKind.THREAD, thread_id, run[1] if run else None, read=read)


# -- what the server assumes for what a request leaves out -------------------------------------

DEFAULT_STREAM_MODE = "values"

# langgraph-api's run and thread models; `null` counts as left out.
_RUN_DEFAULTS: dict[str, Any] = {
    "stream_mode": [DEFAULT_STREAM_MODE],
    "stream_subgraphs": False,
    "stream_resumable": False,
    "metadata": {},
    "config": {},
    "context": {},
    "multitask_strategy": "enqueue",
    "if_not_exists": "reject",
    "checkpoint_during": True,
}
_BODY_DEFAULTS: list[tuple[str, re.Pattern[str], dict[str, Any]]] = [
    ("POST", re.compile(r"/threads/[^/]+/runs(/stream|/wait)?"), _RUN_DEFAULTS),
    ("POST", re.compile(r"/runs(/stream|/wait)?"), {**_RUN_DEFAULTS, "on_completion": "delete"}),
    ("POST", re.compile(r"/threads"), {"metadata": {}, "if_exists": "raise"}),
    ("POST", re.compile(r"/threads/[^/]+/history"), {"limit": 10}),
    ("POST", re.compile(r"/(assistants|threads)/search"), {"limit": 10, "offset": 0}),
]
_QUERY_DEFAULTS: list[tuple[str, re.Pattern[str], dict[str, str]]] = [
    ("GET", re.compile(r"/threads/[^/]+/state(/[^/]+)?"), {"subgraphs": "false"}),
]


def server_defaults(method: str, path: str) -> dict[str, Any]:
    """The body fields the server fills in for this endpoint when a request leaves them out."""
    for verb, pattern, defaults in _BODY_DEFAULTS:
        if verb == method and pattern.fullmatch(path):
            # a copy the caller may change: the values are flat ({}, [..], scalars)
            return {key: copy.copy(value) for key, value in defaults.items()}
    return {}


def query_defaults(method: str, path: str) -> dict[str, str]:
    """The query parameters the server assumes when a request leaves them out."""
    for verb, pattern, defaults in _QUERY_DEFAULTS:
        if verb == method and pattern.fullmatch(path):
            return defaults
    return {}


# -- run streams: modes and event names --------------------------------------------------------

STREAM_MODES = (
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "tasks",
    "checkpoints",
    "debug",
    "events",
)

# SSE event name (namespace left out) -> the stream mode that produces it; None: any stream.
EVENT_MODES: dict[str, str | None] = {
    "metadata": None,
    "values": "values",
    "updates": "updates",
    "messages/metadata": "messages",
    "messages/partial": "messages",
    "messages/complete": "messages",
    "messages": "messages-tuple",
    "custom": "custom",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "debug": "debug",
    "events": "events",
    "error": None,
    "end": None,
}
TERMINAL_EVENTS = frozenset({"error", "end"})  # nothing follows them in a run stream


def base_event(name: str) -> tuple[str, str | None]:
    """`("updates", "sub:91be...")` for `updates|sub:91be...`; the namespace is None at the root."""
    base, bar, namespace = name.partition("|")
    return base, (namespace if bar else None)


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """What a request asked of a run stream, as far as the request says.

    `modes`/`subgraphs` are None where the server decides (a join without `stream_mode` gets
    the modes the run was started with). `from_start` is False where the server starts
    part-way: a join sends no `metadata` first, and after `Last-Event-ID` only later events.
    `one_run` is False for a thread stream, which carries run after run: each begins with
    `metadata` (`run_id`, `attempt`) and ends with `metadata` (`status: run_done`), an `error`
    ends only its run, and the stream stays open.
    """

    modes: Sequence[str] | None
    subgraphs: bool | None
    from_start: bool
    one_run: bool = True


def stream_request(
    method: str, path: str, body: Any, query: Sequence[Sequence[str]], headers: dict[str, str]
) -> StreamRequest | None:
    """What a request for run events asked for (a run stream, a join, a thread stream); None
    for requests that stream no run events."""
    kind = route(method, path).kind
    if kind is RouteKind.RUN_STREAM:
        body = body if isinstance(body, dict) else {}
        modes = body.get("stream_mode") or DEFAULT_STREAM_MODE
        return StreamRequest(
            [modes] if isinstance(modes, str) else list(modes),
            bool(body.get("stream_subgraphs") or False),
            True,
        )
    if kind is RouteKind.JOIN:
        # The SDK sends `stream_mode=` (empty) when none is given: the run's own modes apply.
        modes = [value for key, value in query if key == "stream_mode" and value]
        return StreamRequest(modes or None, None, False)
    if kind is RouteKind.THREAD_STREAM:
        # `stream_mode` here is the thread's (run_modes, lifecycle, state_update); langgraph-api
        # 0.16.7 sends each run's own events whichever is asked.
        return StreamRequest(None, None, False, one_run=False)
    return None


# -- the thread protocol: which subscription gets which event ----------------------------------


def channel_of(envelope: Mapping[str, Any]) -> str | None:
    """The channel an event is delivered on: its method, `input` for input.requested, and
    `custom:<name>` for a custom event whose data has a string `name`."""
    method = envelope.get("method")
    if method == "input.requested":
        return "input"
    if method == "custom":
        params = envelope.get("params")
        data = params.get("data") if isinstance(params, Mapping) else None
        name = data.get("name") if isinstance(data, Mapping) else None
        return f"custom:{name}" if isinstance(name, str) and name else "custom"
    return method if isinstance(method, str) else None


def _prefix_match(namespace: Sequence[str], prefix: Sequence[str]) -> bool:
    """`prefix` starts `namespace`; a prefix segment without `:` also matches `segment:<id>`."""
    if len(prefix) > len(namespace):
        return False
    for want, have in zip(prefix, namespace, strict=False):
        if want == have:
            continue
        if type(want) is not str or type(have) is not str:  # not a name: only itself matches
            return False
        if ":" in want or have.split(":", 1)[0] != want:
            return False
    return True


# What langgraph-api accepts as a subscription's channels (0.16.7 answers anything else with 400;
# `checkpoints` too, which the JS server streams), besides any `custom:<name>`.
SUBSCRIPTION_CHANNELS = (
    "values",
    "updates",
    "messages",
    "tools",
    "custom",
    "lifecycle",
    "input",
    "tasks",
    "checkpoints",
)


def subscription_problem(request: Any) -> str | None:
    """Why langgraph-api refuses a subscription's body with HTTP 400 (in its words), or None."""
    channels = request.get("channels") if isinstance(request, Mapping) else None
    if not isinstance(channels, list) or not channels:
        return "channels is required and must be a non-empty array"
    unknown = [
        channel
        for channel in channels
        if not isinstance(channel, str)
        or (channel not in SUBSCRIPTION_CHANNELS and not channel.startswith("custom:"))
    ]
    if unknown:
        allowed = ", ".join(SUBSCRIPTION_CHANNELS)
        shown = ", ".join(map(str, unknown))
        return (
            f"channels contains unsupported entries: {shown}. "
            f"Allowed: {allowed}, or any `custom:<name>`."
        )
    return None


def matches_filter(envelope: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether a subscription with this filter receives this event (as langgraph-api decides)."""
    return delivered(channel_of(envelope), namespace_of(envelope), request)


def namespace_of(envelope: Mapping[str, Any]) -> tuple[str, ...]:
    params = envelope.get("params")
    namespace = params.get("namespace", []) if isinstance(params, Mapping) else []
    return tuple(namespace) if isinstance(namespace, list) else ()


def delivered(channel: str | None, namespace: Sequence[str], request: Mapping[str, Any]) -> bool:
    """Whether a subscription with this filter receives an event on this channel from this
    namespace (all that `matches_filter` looks at)."""
    channels = request.get("channels") or []
    if channel is None:
        return False
    if channel not in channels and not (channel.startswith("custom:") and "custom" in channels):
        return False
    prefixes = request.get("namespaces")
    if not prefixes or not isinstance(prefixes, list):
        return True
    depth = request.get("depth")
    if type(depth) is not int:
        depth = None
    return any(
        isinstance(prefix, list)
        and _prefix_match(namespace, prefix)
        and (depth is None or len(namespace) - len(prefix) <= depth)
        for prefix in prefixes
    )
