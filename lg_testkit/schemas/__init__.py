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

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from lg_testkit.protocol import EVENT_MODES, STREAM_MODES, base_event

__all__ = [
    "EVENT_SCHEMAS",
    "MODE_OF_EVENT",
    "SCHEMA_DIR",
    "STREAM_MODES",
    "base_event",
    "load_schema",
    "rules_digest",
    "schema_documents",
]

# One copy of the schema files, the repository's top-level `schemas/` (what the docs point at);
# the wheel carries them beside this module (pyproject: force-include), a checkout reads them
# where they are.
_HERE = Path(__file__).parent
SCHEMA_DIR = _HERE if (_HERE / "values.json").is_file() else _HERE.parents[1] / "schemas"
SHARED = "definitions"

# SSE event name (without namespace) -> its schema file's stem. The event names and the stream
# mode each belongs to are LangGraph's (lg_testkit.protocol.EVENT_MODES); this maps them to files.
_SCHEMA_FILES: dict[str, str] = {
    "metadata": "metadata",
    "values": "values",
    "updates": "updates",
    "messages/metadata": "messages-metadata",
    "messages/partial": "messages-partial",
    "messages/complete": "messages-complete",
    "messages": "messages-tuple",
    "custom": "custom",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "debug": "debug",
    "events": "events",
    "error": "error",
    "end": "end",
}
EVENT_SCHEMAS: dict[str, str] = {name: _SCHEMA_FILES[name] for name in EVENT_MODES}
MODE_OF_EVENT = EVENT_MODES  # kept for importers: the protocol's table


@cache
def load_schema(stem: str) -> dict[str, Any]:
    """The parsed schema file `<stem>.json` shipped with the package."""
    document: dict[str, Any] = json.loads((SCHEMA_DIR / f"{stem}.json").read_text("utf-8"))
    return document


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema file, the shared definitions included, keyed by its `$id`."""
    stems = [SHARED, *dict.fromkeys(EVENT_SCHEMAS.values())]
    return {load_schema(stem)["$id"]: load_schema(stem) for stem in stems}


# What "valid" means in this lg-testkit: the schema files and the code of the stream rules.
_RULES_CODE = ("protocol.py", "validation.py", "thread_validation.py")


@cache
def rules_digest() -> str:
    """A digest of every schema file and of the modules that hold the stream rules. A cassette's
    seal names the digest its streams passed; with any other, replay validates them again."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for path in [*sorted(SCHEMA_DIR.rglob("*.json")), *(package / n for n in _RULES_CODE)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
