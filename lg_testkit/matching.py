"""Which recorded interaction answers a request, and why none does.

A request matches by method, path, query and body, compared by meaning rather than bytes:
JSON by value (key order is irrelevant), and a field the client left out counts as the value
the server would have used (`normalize`: `stream_mode: "values"` is `["values"]`, an absent
`stream_subgraphs` is false, an absent `metadata` is `{}`, ...). That is what lets a cassette
recorded with the Python SDK answer the JS SDK or curl. Scheme, host and port are ignored
because test servers move between ports; `ignore` names further body paths to leave out.

Each recorded answer plays once, in recorded order, so a repeated request (polling, a second
turn) walks through its answers instead of repeating the first.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from lg_testkit.cassette import Interaction, RecordedRequest
from lg_testkit.errors import UnmatchedRequestError

__all__ = ["MATCH_ON", "Playlist", "differences", "normalize", "server_defaults"]

_MAX_LISTED = 5
MATCH_ON = ("method", "path", "query", "body")  # what a request is matched on, by default all

# What a LangGraph server assumes for a field the request leaves out (langgraph-api's run
# and thread models; `null` counts as left out). Keyed by the endpoint's path pattern.
_RUN_DEFAULTS: dict[str, Any] = {
    "stream_mode": ["values"],
    "stream_subgraphs": False,
    "stream_resumable": False,
    "metadata": {},
    "config": {},
    "context": {},
    "multitask_strategy": "enqueue",
    "if_not_exists": "reject",
    "checkpoint_during": True,
}
_DEFAULTS: list[tuple[str, re.Pattern[str], dict[str, Any]]] = [
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
    """The body fields a LangGraph server fills in for this endpoint when they are left out."""
    for verb, pattern, defaults in _DEFAULTS:
        if verb == method and pattern.fullmatch(path):
            return defaults
    return {}


def normalize(request: RecordedRequest, ignore: Iterable[str] = ()) -> RecordedRequest:
    """The request as the server understands it: left-out fields set to their defaults.

    `stream_mode` given as one string becomes a one-item list. `ignore` lists body paths
    (`config.configurable.user_id`, `*` for any key) removed before comparing.
    """
    request = _with_query_defaults(request)
    body = request.json
    if not isinstance(body, dict):
        return request
    defaults = server_defaults(request.method, request.path)
    ignore = list(ignore)
    if not defaults and not ignore and all(value is not None for value in body.values()):
        return request
    body = {key: value for key, value in body.items() if value is not None}
    if ignore:
        body = copy.deepcopy(body)
    for key, value in defaults.items():
        if key not in body:
            body[key] = copy.deepcopy(value)
    if isinstance(body.get("stream_mode"), str):
        body["stream_mode"] = [body["stream_mode"]]
    for path in ignore:
        _drop(body, path.removeprefix("json.").split("."))
    return replace(request, json=body)


def _with_query_defaults(request: RecordedRequest) -> RecordedRequest:
    for verb, pattern, defaults in _QUERY_DEFAULTS:
        if verb == request.method and pattern.fullmatch(request.path):
            given = {key for key, _ in request.query}
            missing = [[key, value] for key, value in defaults.items() if key not in given]
            if missing:
                return replace(request, query=[*request.query, *missing])
    return request


def _drop(value: Any, keys: list[str]) -> None:
    if not keys or not isinstance(value, dict):
        return
    head, rest = keys[0], keys[1:]
    for key in list(value) if head == "*" else [head]:
        if key in value:
            if rest:
                _drop(value[key], rest)
            else:
                del value[key]


def differences(
    recorded: RecordedRequest,
    request: RecordedRequest,
    ignore: Iterable[str] = (),
    match_on: Iterable[str] = MATCH_ON,
) -> list[str]:
    """Human-readable differences, empty when the request matches the recording.

    Both sides are compared as `normalize` leaves them, so server defaults and `ignore`d
    paths never count as differences.
    """
    ignore = tuple(ignore)
    recorded, request = normalize(recorded, ignore), normalize(request, ignore)
    parts = set(match_on)
    if unknown := parts - set(MATCH_ON):
        raise ValueError(f"match_on takes parts of {MATCH_ON}, not {sorted(unknown)}")
    found: list[str] = []
    for name in ("method", "path"):
        mine, theirs = getattr(recorded, name), getattr(request, name)
        if name in parts and mine != theirs:
            found.append(f"{name}: recorded {mine}, got {theirs}")
    query_differs = sorted(map(tuple, recorded.query)) != sorted(map(tuple, request.query))
    if "query" in parts and query_differs:
        found.append(f"query: recorded {recorded.query}, got {request.query}")
    if "body" in parts:
        if recorded.body != request.body:
            found.append(f"body: recorded {recorded.body!r}, got {request.body!r}")
        found.extend(_json_differences(recorded.json, request.json, "json"))
    return found


def _json_differences(recorded: Any, got: Any, path: str) -> Iterator[str]:
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key in sorted(recorded.keys() | got.keys()):
            if key not in got:
                yield f"{path}.{key}: recorded {_short(recorded[key])}, missing from the request"
            elif key not in recorded:
                yield f"{path}.{key}: not recorded, got {_short(got[key])}"
            else:
                yield from _json_differences(recorded[key], got[key], f"{path}.{key}")
    elif isinstance(recorded, list) and isinstance(got, list) and len(recorded) == len(got):
        for index, (mine, theirs) in enumerate(zip(recorded, got, strict=True)):
            yield from _json_differences(mine, theirs, f"{path}[{index}]")
    elif recorded != got or type(recorded) is not type(got):
        yield f"{path}: recorded {_short(recorded)}, got {_short(got)}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Playlist:
    """The interactions of one cassette, each played at most once, in recorded order."""

    def __init__(
        self,
        interactions: list[Interaction],
        source: str = "the cassette",
        *,
        ignore: Iterable[str] = (),
        match_on: Iterable[str] = MATCH_ON,
    ) -> None:
        self.interactions = interactions
        self.source = source
        self.ignore = tuple(ignore)
        self.match_on = tuple(match_on)
        self.played = [False] * len(interactions)

    def add(self, interaction: Interaction) -> None:
        """A newly recorded interaction; it has been answered live, so it counts as played."""
        self.interactions.append(interaction)
        self.played.append(True)

    def take(self, request: RecordedRequest) -> Interaction | None:
        """The first unplayed interaction matching `request`, now marked played."""
        for index, interaction in enumerate(self.interactions):
            if self.played[index]:
                continue
            if not differences(interaction.request, request, self.ignore, self.match_on):
                self.played[index] = True
                return interaction
        return None

    def unmatched(self, request: RecordedRequest, hint: str = "") -> UnmatchedRequestError:
        """The error for a request `take` found no answer for, naming the closest recording."""
        lines = [f"No recorded interaction in {self.source} matches {request.label}."]
        if not self.interactions:
            lines.append("The cassette has no interactions.")
        else:
            scored = sorted(
                (
                    len(differences(i.request, request, self.ignore, self.match_on)),
                    self.played[n],
                    n,
                )
                for n, i in enumerate(self.interactions)
            )
            count, played, index = scored[0]
            closest = self.interactions[index]
            if count == 0:
                lines.append(
                    f"Interaction #{index} ({closest.request.label}) matches but was already "
                    "played; each recorded answer plays once, in order."
                )
            else:
                lines.append(f"Closest recorded: #{index} {closest.request.label}")
                listed = differences(closest.request, request, self.ignore, self.match_on)
                lines.extend(f"  {line}" for line in listed[:_MAX_LISTED])
                if len(listed) > _MAX_LISTED:
                    lines.append(f"  ... and {len(listed) - _MAX_LISTED} more differences")
        if hint:
            lines.append(hint)
        return UnmatchedRequestError("\n".join(lines))
