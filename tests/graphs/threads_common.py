"""The stream transformers every `threads_*` graph compiles with.

On langgraph 1.2 a graph's thread-centric protocol stream (`POST /threads/{id}/stream/events`)
carries only the channels its compiled transformers produce; the built-in ones give values,
messages, lifecycle and subgraph lifecycle. `CustomTransformer`, `UpdatesTransformer` and
`ToolCallTransformer` add custom, updates and tools as they are.

Two channels need more on langgraph 1.2.24 with langgraph-api 0.16.7:
- `tasks`: the built-in lifecycle transformers fold task events into lifecycle and suppress them
  from the main log, so the stock `TasksTransformer` only fills its in-process projection.
  `WireTasksTransformer` forwards the root's task payloads as `tasks` events.
- `checkpoints`: the stock `CheckpointsTransformer` passes the `get_state()`-shaped payload
  (`{config, parent_config, values, metadata, next, tasks}`), which the server drops: it only
  forwards the protocol's `Checkpoint` (`{id, parent_id?, step, source}`).
  `WireCheckpointsTransformer` reshapes the root's checkpoints into that form.
"""

from __future__ import annotations

from typing import Any

from langgraph.prebuilt import ToolCallTransformer
from langgraph.stream import (
    CustomTransformer,
    ProtocolEvent,
    StreamChannel,
    StreamTransformer,
    UpdatesTransformer,
)


class WireTasksTransformer(StreamTransformer):
    """The root graph's task start/result payloads, as protocol `tasks` events."""

    _native = True
    required_stream_modes = ("tasks",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[dict[str, Any]] = StreamChannel("tasks")
        self._root = not scope

    def init(self) -> dict[str, Any]:
        return {"tasks": self._channel}

    def process(self, event: ProtocolEvent) -> bool:
        if self._root and event["method"] == "tasks" and not event["params"]["namespace"]:
            self._channel.push(event["params"]["data"])
        return True


class WireCheckpointsTransformer(StreamTransformer):
    """The root graph's checkpoints as the protocol's `{id, parent_id, step, source}`."""

    _native = True
    required_stream_modes = ("checkpoints",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[dict[str, Any]] = StreamChannel("checkpoints")
        self._root = not scope

    def init(self) -> dict[str, Any]:
        return {"checkpoints": self._channel}

    def process(self, event: ProtocolEvent) -> bool:
        params = event["params"]
        if not (self._root and event["method"] == "checkpoints" and not params["namespace"]):
            return True
        data = params["data"]
        checkpoint_id = _checkpoint_id(data.get("config"))
        if checkpoint_id is None:
            return True
        metadata = data.get("metadata") or {}
        envelope: dict[str, Any] = {
            "id": checkpoint_id,
            "step": metadata.get("step", 0),
            "source": metadata.get("source", "loop"),
        }
        parent_id = _checkpoint_id(data.get("parent_config"))
        if parent_id is not None:
            envelope["parent_id"] = parent_id
        self._channel.push(envelope)
        return True


def _checkpoint_id(config: Any) -> str | None:
    if not isinstance(config, dict):
        return None
    value = (config.get("configurable") or {}).get("checkpoint_id")
    return value if isinstance(value, str) else None


TRANSFORMERS = [
    CustomTransformer,
    UpdatesTransformer,
    ToolCallTransformer,
    WireCheckpointsTransformer,
    WireTasksTransformer,
]
