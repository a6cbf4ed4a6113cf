"""Checking run streams against the event schemas and the stream rules LangGraph follows.

    validate_event("messages", data)             the event's data against its schema
    validate_stream(events, modes=["updates"])   every event, plus the rules of a whole stream
    check_interaction(interaction, source=...)   a recorded run-stream exchange (modes from request)

Stream rules: `metadata` comes first (it carries the `run_id`); each event belongs to a requested
stream mode, or is `metadata`, `error` or `end`; subgraph events (`MODE|namespace`) only come with
`stream_subgraphs`; the `id`s of a resumable stream never go down; nothing follows `error`.
An unknown event name is an error when strict and a warning when lenient.

Each finding is a `Problem`, printed as `source:event-index: event-name: json-path: message`, the
JSON path rooted at the event's data. The yes/no check uses jsonschema-rs when it is installed
(fast enough to run on every replay); the explanation of an invalid event always comes from
`jsonschema`, whose error detail is what a user reads.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError, best_match

from lg_testkit.cassette import Cassette, Interaction
from lg_testkit.errors import SchemaViolationError, SchemaWarning
from lg_testkit.schemas import (
    EVENT_SCHEMAS,
    MODE_OF_EVENT,
    base_event,
    load_schema,
    schema_documents,
)

__all__ = [
    "Problem",
    "check_interaction",
    "enforce",
    "is_run_stream",
    "stream_settings",
    "validate_cassette",
    "validate_event",
    "validate_stream",
]

Severity = Literal["error", "warning"]
_ROOT = "$"
_MAX_SHOWN = 80  # characters of a value quoted in a message
_RUN_STREAM = re.compile(r"^(/threads/[^/]+)?/runs(/[^/]+)?/stream$")
_NUMERIC_ID = re.compile(r"^\d+(?:-\d+)*$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a stream: where it is and what was expected."""

    source: str  # a file, `cassette.json#N` for interaction N, or any label
    index: int | None  # position among the stream's events (comments not counted)
    event: str  # the SSE event name, namespace included
    path: str  # JSON path in the event's data, `$` for the data itself or the stream
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        index = "-" if self.index is None else str(self.index)
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.source}:{index}: {self.event}: {self.path}: {prefix}{self.message}"


# -- one event -------------------------------------------------------------------------------


class _Validators:
    """A compiled validator per event name: jsonschema-rs for yes/no, jsonschema to explain."""

    def __init__(self) -> None:
        documents = schema_documents()
        self.registry = referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(doc)) for uri, doc in documents.items()
        )
        self.fast: dict[str, Any] = {}
        try:
            import jsonschema_rs
        except ImportError:  # pragma: no cover - jsonschema-rs is a dependency
            return
        registry = jsonschema_rs.Registry(list(documents.items()))
        for event, stem in EVENT_SCHEMAS.items():
            self.fast[event] = jsonschema_rs.validator_for(load_schema(stem), registry=registry)

    def is_valid(self, event: str, data: Any) -> bool:
        fast = self.fast.get(event)
        if fast is not None:
            return bool(fast.is_valid(data))
        return bool(self.explainer(event).is_valid(data))

    @cache  # noqa: B019 - one instance for the life of the process
    def explainer(self, event: str) -> jsonschema.Draft202012Validator:
        schema = load_schema(EVENT_SCHEMAS[event])
        return jsonschema.Draft202012Validator(schema, registry=self.registry)


@cache
def _validators() -> _Validators:
    return _Validators()


def validate_event(
    event: str,
    data: Any,
    *,
    strict: bool = True,
    source: str = "<event>",
    index: int | None = None,
) -> list[Problem]:
    """The problems of one event's data (an empty list when it is valid).

    `event` is the SSE event name, namespace included (`updates|sub:91be...`).
    """
    base, _ = base_event(event)
    if base not in EVENT_SCHEMAS:
        known = ", ".join(EVENT_SCHEMAS)
        return [
            Problem(
                source,
                index,
                event,
                _ROOT,
                f"unknown event name {base!r}; expected one of: {known}",
                "error" if strict else "warning",
            )
        ]
    validators = _validators()
    if validators.is_valid(base, data):
        return []
    errors = validators.explainer(base).iter_errors(data)
    return [
        Problem(source, index, event, leaf.json_path, _describe(leaf))
        for leaf in (best_match([error]) for error in errors)
    ]


def _describe(error: ValidationError) -> str:
    """jsonschema's message, reworded where it would quote a whole (possibly huge) value."""
    found = _json_type(error.instance)
    validator, expected = error.validator, error.validator_value
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"expected {' or '.join(kinds)}, found {found} {_short(error.instance)}"
    if validator in ("minItems", "maxItems"):
        word = "at least" if validator == "minItems" else "at most"
        return f"expected {word} {expected} items, found {len(error.instance)}"
    if validator == "minProperties":
        return f"expected at least {expected} key(s), found {_short(error.instance)}"
    if validator in ("enum", "const"):
        allowed = expected if validator == "enum" else [expected]
        return f"expected one of {_short(allowed)}, found {_short(error.instance)}"
    if validator == "pattern":
        return f"expected a string matching {expected!r}, found {_short(error.instance)}"
    if validator in ("anyOf", "oneOf"):
        shapes = [_shape_name(option) for option in expected]
        return f"expected {' or '.join(shapes)}, found {found} {_short(error.instance)}"
    return _short(error.message, 300)


def _shape_name(schema: Any) -> str:
    """`string`, `array`, `message`...: a short name for one alternative of an anyOf."""
    if not isinstance(schema, dict):
        return "any value"
    kind = schema.get("type")
    if kind is not None:
        return " or ".join(kind) if isinstance(kind, list) else str(kind)
    return str(schema.get("$ref", "a value of another shape")).rsplit("/", 1)[-1]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _short(value: Any, limit: int = _MAX_SHOWN) -> str:
    text = value if isinstance(value, str) and limit > _MAX_SHOWN else repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# -- a whole stream --------------------------------------------------------------------------


def validate_stream(
    events: Iterable[Any],
    *,
    modes: Sequence[str] | str | None = None,
    subgraphs: bool | None = None,
    strict: bool = True,
    source: str = "<stream>",
    from_start: bool = True,
) -> list[Problem]:
    """The problems of a stream's events, in order.

    `events` are cassette stream items (`{"event", "data", "id"}`; comments and leftovers are
    skipped) or `(event, data[, id])` tuples such as langgraph_sdk's `StreamPart`. `modes` and
    `subgraphs` are what the request asked for; None means unknown and skips those checks.
    `from_start=False` for a stream joined part-way (no `metadata` expected first).
    """
    wanted = [modes] if isinstance(modes, str) else None if modes is None else list(modes)
    problems: list[Problem] = []
    previous_id: tuple[int, ...] | None = None
    previous_raw = ""
    failed_at: int | None = None
    index = -1
    for index, (name, data, event_id, has_data) in enumerate(_normalised(events)):
        base, namespace = base_event(name)
        where = (source, index, name, _ROOT)
        if failed_at is not None and failed_at == index - 1:
            problems.append(Problem(*where, f"no event may follow `error` (event {failed_at})"))
        if index == 0 and from_start and base != "metadata":
            problems.append(
                Problem(*where, "expected `metadata` (with the run_id) as the first event")
            )
        mode = MODE_OF_EVENT.get(base)
        unrequested = mode is not None and wanted is not None and mode not in wanted
        if unrequested and not _interrupt_values(base, data):
            problems.append(
                Problem(
                    *where,
                    f"an event of stream mode {mode!r}, which was not requested "
                    f"(stream_mode: {wanted})",
                )
            )
        if namespace is not None and subgraphs is False:
            problems.append(
                Problem(*where, "a subgraph event, but stream_subgraphs was not requested")
            )
        if event_id is not None and _NUMERIC_ID.match(event_id):
            key = tuple(int(part) for part in event_id.split("-"))
            if previous_id is not None and key < previous_id:
                problems.append(
                    Problem(
                        *where,
                        f"id {event_id!r} is lower than the previous id {previous_raw!r}; "
                        "ids of a resumable stream never go down",
                    )
                )
            previous_id, previous_raw = key, event_id
        if base == "error":
            failed_at = index
        if not has_data:
            if base in EVENT_SCHEMAS:
                problems.append(
                    Problem(*where, "expected JSON data, found none or text that is not JSON")
                )
            else:
                problems.extend(
                    validate_event(name, None, strict=strict, source=source, index=index)
                )
            continue
        problems.extend(validate_event(name, data, strict=strict, source=source, index=index))
    if index == -1 and from_start:
        problems.append(
            Problem(source, None, "-", _ROOT, "expected `metadata` first, found no events")
        )
    return problems


def _normalised(events: Iterable[Any]) -> Iterable[tuple[str, Any, str | None, bool]]:
    """(name, data, id, has JSON data) for each event; SSE's default name is `message`."""
    for event in events:
        if isinstance(event, dict):
            if not ("event" in event or "data" in event or "text" in event):
                continue  # a comment or an incomplete trailing block
            yield (
                event.get("event") or "message",
                event.get("data"),
                event.get("id"),
                "data" in event,
            )
        else:
            name, data, *rest = event
            yield name or "message", data, (rest[0] if rest else None), True


def _interrupt_values(base: str, data: Any) -> bool:
    """0.2.x servers send an interrupt as a `values` event whatever modes were requested."""
    return base == "values" and isinstance(data, dict) and set(data) == {"__interrupt__"}


# -- recorded interactions -------------------------------------------------------------------


def is_run_stream(interaction: Interaction) -> bool:
    """A run's event stream: POST .../runs/stream or a join (GET .../runs/{run_id}/stream)."""
    return interaction.response.stream is not None and bool(
        _RUN_STREAM.match(interaction.request.path)
    )


def stream_settings(interaction: Interaction) -> tuple[list[str] | None, bool | None, bool]:
    """(modes, subgraphs, from_start) as the request asked; None where the request does not say."""
    request = interaction.request
    if request.method == "POST":
        body = request.json if isinstance(request.json, dict) else {}
        modes = body.get("stream_mode") or "values"
        return (
            ([modes] if isinstance(modes, str) else list(modes)),
            bool(body.get("stream_subgraphs", False)),
            True,
        )
    query_modes = [value for key, value in request.query if key == "stream_mode"]
    headers = {key.lower(): value for key, value in request.headers.items()}
    last_id = headers.get("last-event-id")
    return query_modes or None, None, last_id in (None, "-1")


def check_interaction(
    interaction: Interaction, *, source: str, strict: bool = True
) -> list[Problem]:
    """The problems of one recorded exchange; nothing to check unless it is a run stream."""
    if not is_run_stream(interaction):
        return []
    assert interaction.response.stream is not None
    modes, subgraphs, from_start = stream_settings(interaction)
    return validate_stream(
        interaction.response.stream.items,
        modes=modes,
        subgraphs=subgraphs,
        strict=strict,
        source=source,
        from_start=from_start,
    )


def validate_cassette(cassette: Cassette, *, strict: bool = True) -> list[Problem]:
    """The problems of every run stream in a cassette; sources read `path#interaction-index`."""
    name = str(cassette.path or "<cassette>")
    problems: list[Problem] = []
    for number, interaction in enumerate(cassette.interactions):
        problems.extend(check_interaction(interaction, source=f"{name}#{number}", strict=strict))
    return problems


def enforce(interaction: Interaction, *, source: str, strict: bool = True) -> None:
    """Raise SchemaViolationError for an invalid run stream; warn about lenient findings."""
    problems = check_interaction(interaction, source=source, strict=strict)
    for problem in problems:
        if problem.severity == "warning":
            warnings.warn(str(problem), SchemaWarning, stacklevel=3)
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors:
        raise SchemaViolationError(errors, f"{source} ({interaction.request.label})")
