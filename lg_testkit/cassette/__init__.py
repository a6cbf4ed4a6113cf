"""Cassettes: recorded HTTP interactions with event-level SSE streams, as diffable JSON files.

A cassette holds interactions (vcrpy's word) in request order. A `text/event-stream` response is
stored as a list of stream items (`StreamItem`), one JSON line each:

    {"t": 0.051, "event": "values", "data": {...}}            an event (`id` when one was sent)
    {"t": 5.002, "comment": " heartbeat"}                      a comment-only block
    {"t": 0.051, "event": "x", "text": "not json"}             data that is not JSON
    {..., "raw": "event: values\\ndata: ...\\n\\n"}            exact text, only where the canonical
                                                               encoding differs from the bytes

`t` is seconds from the request being sent to the arrival of the item's last byte. `chunks` keeps
the network chunking as `[t, byte_count]` pairs, so replay can reproduce boundaries and timing.
The same rule holds for JSON bodies: `json` always, `body` only when re-encoding `json` would not
give the bytes the server sent. Hand edits: change the parsed form and delete `raw`/`body`.

The package in three roles: `model` (the objects, and the codec between a stream item and its
exact bytes), `reader` (load and every format check, naming file and JSON path), `writer`
(the layout, atomic saves, and `CassetteWriter` for a file written again and again).
"""

# `lines` is imported up front, not on a first load deep in a test's stack, where CPython 3.11
# can fail to compile a module ("AST constructor recursion depth mismatch").
from lg_testkit.cassette import lines  # noqa: F401
from lg_testkit.cassette.model import (
    FORMAT_VERSION,
    MAX_DEPTH,
    NO_DATA,
    NOT_JSON,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    StreamItem,
    dumps_compact,
    encode_all,
    encode_json,
    parse_json,
)
from lg_testkit.cassette.reader import MAX_BYTES
from lg_testkit.cassette.writer import (
    STALE_TEMP_SECONDS,
    CassetteWriter,
    assemble,
    interaction_text,
    write_atomically,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_BYTES",
    "MAX_DEPTH",
    "NOT_JSON",
    "NO_DATA",
    "STALE_TEMP_SECONDS",
    "Cassette",
    "CassetteWriter",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "RecordedStream",
    "StreamItem",
    "assemble",
    "dumps_compact",
    "encode_all",
    "encode_json",
    "interaction_text",
    "parse_json",
    "write_atomically",
]
