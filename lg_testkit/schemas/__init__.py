"""The JSON Schemas (draft 2020-12) of run-stream events, and which SSE event name uses which.

One file per event type lives beside this module (`values.json`, `messages-tuple.json`, ...),
with the shared definitions (messages, interrupts, checkpoint configs) in `definitions.json`.
They describe the `data` of each event: what LangGraph always sends is required, and they stay
open wherever LangGraph is (graph state, custom payloads, `additional_kwargs`, fields added by
newer servers).

Event names map to schemas like this; a subgraph's events carry their namespace after a `|`
(`updates|sub:91be...`) and use the schema of the part before it:

    metadata, error, end                             any stream
    values, updates, custom, tasks, checkpoints,     the stream mode of the same name
    debug, events
    messages/metadata, messages/partial,             stream mode `messages`
    messages/complete
    messages                                         stream mode `messages-tuple`
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "EVENT_SCHEMAS",
    "MODE_OF_EVENT",
    "SCHEMA_DIR",
    "STREAM_MODES",
    "base_event",
    "load_schema",
    "schema_documents",
]

SCHEMA_DIR = Path(__file__).parent
SHARED = "definitions"

# SSE event name (without namespace) -> (schema file stem, the stream mode that produces it;
# None for the events of every stream).
_EVENTS: dict[str, tuple[str, str | None]] = {
    "metadata": ("metadata", None),
    "values": ("values", "values"),
    "updates": ("updates", "updates"),
    "messages/metadata": ("messages-metadata", "messages"),
    "messages/partial": ("messages-partial", "messages"),
    "messages/complete": ("messages-complete", "messages"),
    "messages": ("messages-tuple", "messages-tuple"),
    "custom": ("custom", "custom"),
    "tasks": ("tasks", "tasks"),
    "checkpoints": ("checkpoints", "checkpoints"),
    "debug": ("debug", "debug"),
    "events": ("events", "events"),
    "error": ("error", None),
    "end": ("end", None),
}
EVENT_SCHEMAS: dict[str, str] = {name: stem for name, (stem, _) in _EVENTS.items()}
MODE_OF_EVENT: dict[str, str | None] = {name: mode for name, (_, mode) in _EVENTS.items()}

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


def base_event(name: str) -> tuple[str, str | None]:
    """`("updates", "sub:91be...")` for `updates|sub:91be...`; the namespace is None at the root."""
    base, bar, namespace = name.partition("|")
    return base, (namespace if bar else None)


@cache
def load_schema(stem: str) -> dict[str, Any]:
    """The parsed schema file `<stem>.json` shipped with the package."""
    document: dict[str, Any] = json.loads((SCHEMA_DIR / f"{stem}.json").read_text("utf-8"))
    return document


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema file, the shared definitions included, keyed by its `$id`."""
    stems = [SHARED, *dict.fromkeys(EVENT_SCHEMAS.values())]
    return {load_schema(stem)["$id"]: load_schema(stem) for stem in stems}
