"""Stream snapshots through syrupy: a run stream stored by meaning, readable and diffable.

    def test_weather(lg_snapshot):
        events = [part async for part in client.runs.stream(...)]
        assert events == lg_snapshot

The stored file (`__snapshots__/<module>/<test>.json`) is the stream after `normalize_events`:
ids and timestamps replaced by placeholders, token chunks folded into whole messages. So a
snapshot survives re-recording, token re-splitting and id churn, and fails only when what a
user would see changed. `pytest --snapshot-update` rewrites it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension

from lg_testkit.cassette import RecordedStream, StreamItem
from lg_testkit.normalize import normalize_events

__all__ = ["StreamSnapshotExtension", "as_events"]


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


class StreamSnapshotExtension(JSONSnapshotExtension):
    """syrupy extension storing normalised run streams as indented JSON."""

    def serialize(self, data: Any, **kwargs: Any) -> str:
        normalized = normalize_events(as_events(data))
        return json.dumps(normalized, indent=2, ensure_ascii=False) + "\n"
