"""JSON Schemas (draft 2020-12) of the thread-centric streaming protocol (the SDKs' "v3").

The protocol behind `client.threads.stream()` (Python `langgraph_sdk` 0.4, JS `ThreadStream`,
`useStream` from `@langchain/react`): commands to `POST /threads/{thread_id}/commands`, events
from `POST /threads/{thread_id}/stream/events` (SSE) or a WebSocket on the same path. Derived
from `langchain-protocol` (the protocol's CDDL compiled to Python types), then loosened where
real servers send something else: each schema lists those places under `x-lg-wire-differences`
and names its source type under `x-lg-protocol-type`.

    event.json            an event envelope {type, event_id, seq, method, params}; its
                          params.data is checked by the schema of its method:
    lifecycle.json, values.json, updates.json, messages.json, tools.json, custom.json,
    input-requested.json, checkpoints.json, tasks.json
    command.json          a command request {id, method, params}, params by method
    reply.json            a command reply: success {id, result, meta} or error {id, error, message}
    stream-request.json   the body of POST .../stream/events {channels, namespaces, depth, since}
    http-error.json       a route's own 400: {"detail": ...}
    definitions.json      shared pieces (namespace, channel, content blocks, deltas, ...)
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DOCUMENT_SCHEMAS",
    "METHOD_SCHEMAS",
    "SCHEMA_DIR",
    "load_schema",
    "schema_documents",
]

# The files live in the repository's `schemas/threads/` (see lg_testkit/schemas/__init__.py).
_HERE = Path(__file__).parent
SCHEMA_DIR = _HERE if (_HERE / "event.json").is_file() else _HERE.parents[2] / "schemas" / "threads"
SHARED = "definitions"

# Event method -> the schema file (stem) of its params.data.
METHOD_SCHEMAS: dict[str, str] = {
    "lifecycle": "lifecycle",
    "values": "values",
    "updates": "updates",
    "messages": "messages",
    "tools": "tools",
    "custom": "custom",
    "input.requested": "input-requested",
    "checkpoints": "checkpoints",
    "tasks": "tasks",
}
# What a whole message is checked against.
DOCUMENT_SCHEMAS: dict[str, str] = {
    "event": "event",
    "command": "command",
    "reply": "reply",
    "stream-request": "stream-request",
    "http-error": "http-error",
}


@cache
def load_schema(stem: str) -> dict[str, Any]:
    """The parsed schema file `<stem>.json` of this folder."""
    document: dict[str, Any] = json.loads((SCHEMA_DIR / f"{stem}.json").read_text("utf-8"))
    return document


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema file of the protocol, keyed by its `$id`."""
    stems = [SHARED, *METHOD_SCHEMAS.values(), *DOCUMENT_SCHEMAS.values()]
    return {load_schema(stem)["$id"]: load_schema(stem) for stem in dict.fromkeys(stems)}
