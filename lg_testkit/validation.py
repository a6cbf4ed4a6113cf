"""Checking run streams against the event schemas and the stream rules LangGraph follows.

    validate_event("messages", data)             the event's data against its schema
    validate_stream(events, modes=["updates"])   every event, plus the rules of a whole stream
    check_interaction(interaction, source=...)   a recorded run-stream exchange (modes from request)
    passes(interaction_or_thread)                no finding at all: what a cassette's seal claims

Stream rules, as langgraph-api sends each endpoint (lg_testkit.protocol.stream_request reads
what a request asked for): a run stream (`POST .../runs/stream`, stateless `POST /runs/stream`)
starts with `metadata` (it carries the `run_id`); a join (`GET .../runs/{run_id}/stream`) need
not, and without `stream_mode` it carries the run's own modes; each event belongs to a requested
stream mode, or is `metadata`, `error` or `end`; subgraph events (`MODE|namespace`) only come with
`stream_subgraphs`; the `id`s of a resumable stream never go down; nothing follows `error`,
except on a thread stream (`GET /threads/{t}/stream`), where the next run's `metadata` may.
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
from typing import TYPE_CHECKING, Any, Literal

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError, best_match

from lg_testkit.cassette import NO_DATA, Cassette, Interaction, StreamItem

if TYPE_CHECKING:
    from lg_testkit.threadlog import ProtocolThread
from lg_testkit.errors import SchemaViolationError, SchemaWarning
from lg_testkit.protocol import EVENT_MODES, StreamRequest, base_event, stream_request
from lg_testkit.schemas import EVENT_SCHEMAS, load_schema, schema_documents

__all__ = [
    "Problem",
    "check_interaction",
    "enforce",
    "is_run_stream",
    "passes",
    "stream_settings",
    "validate_cassette",
    "validate_event",
    "validate_stream",
]

Severity = Literal["error", "warning"]
_ROOT = "$"
_MAX_SHOWN = 80  # characters of a value quoted in a message
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


class Validators:
    """A compiled validator per name: jsonschema-rs for yes/no, jsonschema to explain.

    `documents` are every schema by `$id` (for `$ref`s); `schemas` maps a name (an event name,
    a thread-protocol document) to its schema. Run streams and the thread protocol each have one.
    """

    def __init__(
        self, documents: dict[str, dict[str, Any]], schemas: dict[str, dict[str, Any]]
    ) -> None:
        self.schemas = schemas
        self.registry = referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(doc)) for uri, doc in documents.items()
        )
        self.fast: dict[str, Any] = {}
        try:
            import jsonschema_rs
        except ImportError:  # pragma: no cover - jsonschema-rs is a dependency
            return
        registry = jsonschema_rs.Registry(list(documents.items()))
        for name, schema in schemas.items():
            self.fast[name] = jsonschema_rs.validator_for(schema, registry=registry)

    def is_valid(self, name: str, instance: Any) -> bool:
        fast = self.fast.get(name)
        if fast is not None:
            return bool(fast.is_valid(instance))
        return bool(self.explainer(name).is_valid(instance))

    @cache  # noqa: B019 - one instance per schema set, for the life of the process
    def explainer(self, name: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.schemas[name], registry=self.registry)


@cache
def _validators() -> Validators:
    schemas = {event: load_schema(stem) for event, stem in EVENT_SCHEMAS.items()}
    return Validators(schema_documents(), schemas)


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
    one_run: bool = True,
) -> list[Problem]:
    """The problems of a stream's events, in order.

    `events` are cassette stream items (`StreamItem`s, or dicts in the file's form; comments
    and leftovers are skipped) or `(event, data[, id])` tuples such as langgraph_sdk's
    `StreamPart`. `modes` and
    `subgraphs` are what the request asked for; None means unknown and skips those checks.
    `from_start=False` for a stream joined part-way (no `metadata` expected first);
    `one_run=False` for a thread stream, where a new run's `metadata` may follow an `error`.
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
        next_run = not one_run and base == "metadata"
        if failed_at is not None and failed_at == index - 1 and not next_run:
            problems.append(Problem(*where, f"no event may follow `error` (event {failed_at})"))
        if index == 0 and from_start and base != "metadata":
            problems.append(
                Problem(*where, "expected `metadata` (with the run_id) as the first event")
            )
        mode = EVENT_MODES.get(base)
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
        if isinstance(event, dict):  # a stream item in the file's form
            event = StreamItem.from_dict(event)
        if isinstance(event, StreamItem):
            if not event.is_event:
                continue  # a comment or an incomplete trailing block
            has_data = event.data is not NO_DATA
            yield event.event or "message", event.data if has_data else None, event.id, has_data
        else:
            name, data, *rest = event
            yield name or "message", data, (rest[0] if rest else None), True


def _interrupt_values(base: str, data: Any) -> bool:
    """0.2.x servers send an interrupt as a `values` event whatever modes were requested."""
    return base == "values" and isinstance(data, dict) and set(data) == {"__interrupt__"}


# -- recorded interactions -------------------------------------------------------------------


def is_run_stream(interaction: Interaction) -> bool:
    """A stream of run events: a run stream, a join or a thread stream (see the module doc)."""
    return interaction.response.stream is not None and stream_settings(interaction) is not None


def stream_settings(interaction: Interaction) -> StreamRequest | None:
    """What the request asked of the stream (modes, subgraphs, from_start, one_run); None when
    it is not a request for run events. lg_testkit.protocol knows the endpoints."""
    request = interaction.request
    return stream_request(
        request.method, request.path, request.json, request.query, request.headers
    )


def check_interaction(
    interaction: Interaction, *, source: str, strict: bool = True
) -> list[Problem]:
    """The problems of one recorded exchange; nothing to check unless it streams run events."""
    asked = stream_settings(interaction)
    stream = interaction.response.stream
    if asked is None or stream is None:
        return []
    return validate_stream(
        stream.items,
        modes=asked.modes,
        subgraphs=asked.subgraphs,
        strict=strict,
        source=source,
        from_start=asked.from_start,
        one_run=asked.one_run,
    )


def validate_cassette(cassette: Cassette, *, strict: bool = True) -> list[Problem]:
    """The problems of every run stream in a cassette, sources `path#interaction-index`, and
    of every thread-protocol log, sources `path#thread THREAD-ID`."""
    from lg_testkit.thread_validation import check_thread

    name = str(cassette.path or "<cassette>")
    problems: list[Problem] = []
    for number, interaction in enumerate(cassette.interactions):
        problems.extend(check_interaction(interaction, source=f"{name}#{number}", strict=strict))
    for thread in cassette.threads:
        problems.extend(check_thread(thread, source=f"{name}#thread {thread.thread_id}"))
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


def passes(recorded: Interaction | ProtocolThread) -> bool:
    """Whether a recorded exchange (or thread-protocol log) has no finding at all, strict: what
    the writer asks before it seals a file as valid (lg_testkit.cassette.seal)."""
    from lg_testkit.threadlog import ProtocolThread

    try:
        if isinstance(recorded, ProtocolThread):
            from lg_testkit.thread_validation import check_thread

            return not check_thread(recorded, source="")
        return not check_interaction(recorded, source="", strict=True)
    except Exception:  # noqa: BLE001 - whatever fails to check is not sealed as valid
        return False
