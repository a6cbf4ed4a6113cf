"""Stream snapshots through syrupy: a stream stored by meaning, readable and diffable.

    def test_weather(lg_snapshot):
        events = [part async for part in client.runs.stream(...)]
        assert events == lg_snapshot

The stored file (`__snapshots__/<module>/<test>.json`) is the stream after `normalize_events`:
ids and timestamps replaced by placeholders, token chunks folded into whole messages. So a
snapshot survives re-recording, token re-splitting and id churn, and fails only when what a
user would see changed. `pytest --snapshot-update` rewrites it.

The thread-centric protocol snapshots the same way: the events of `thread.events` (or any list
of event envelopes), a recorded `ProtocolThread`, or a cassette holding protocol threads, stored
after `normalize_thread_events` / `normalize_thread`: event_id, seq and timestamps left out, ids
replaced, each message's deltas folded into its text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension

from lg_testkit.cassette import Cassette, RecordedStream, StreamItem
from lg_testkit.normalize import (
    Normalizer,
    is_thread_event,
    normalize_events,
    normalize_thread,
    normalize_thread_events,
)
from lg_testkit.threadlog import ProtocolThread

__all__ = ["StreamSnapshotExtension", "as_events", "normalized"]


def as_events(stream: Any) -> list[StreamItem | dict[str, Any]]:
    """Events from SDK `StreamPart`s, `(event, data)` pairs, dicts or a RecordedStream."""
    if isinstance(stream, RecordedStream):
        return list(stream.events)
    events: list[StreamItem | dict[str, Any]] = []
    for part in stream if isinstance(stream, Iterable) else ():
        if isinstance(part, dict):
            events.append(part)
        elif isinstance(part, tuple) and len(part) >= 2:  # StreamPart is a NamedTuple too
            events.append({"event": part[0], "data": part[1]})
        else:
            raise TypeError(
                f"a stream snapshot takes StreamParts, (event, data) pairs or dicts, "
                f"found {type(part).__name__}"
            )
    return events


def normalized(data: Any) -> Any:
    """What a snapshot stores for `data`: a run stream, thread-protocol events, a protocol
    thread, or a cassette's protocol threads, by meaning."""
    if isinstance(data, ProtocolThread):
        return normalize_thread(data)
    if isinstance(data, Cassette) and data.threads:
        normalizer = Normalizer()  # one numbering: ids shared by threads keep one placeholder
        return [normalize_thread(thread, normalizer=normalizer) for thread in data.threads]
    if isinstance(data, list | tuple) and any(is_thread_event(part) for part in data):
        return normalize_thread_events(data)  # replies (no method) are left out
    return normalize_events(as_events(data))


class StreamSnapshotExtension(JSONSnapshotExtension):
    """syrupy extension storing normalised streams as indented JSON."""

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return json.dumps(normalized(data), indent=2, ensure_ascii=False) + "\n"
