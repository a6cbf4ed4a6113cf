"""`threads_subgraph`: a parent whose node `research` is a compiled subgraph.

The subgraph's node writes custom events (`{"step": i, "of": 2}`, `{"found": 3}`) and streams
a model reply; events from inside it carry the namespace `["research:<task id>"]`. The parent
then writes one custom event of its own. `ProgressTransformer`, a user-defined transformer with
a named channel, turns each `step` event into a root-level `custom` event named `progress`
(`{"name": "progress", "payload": ...}`), which is what `thread.extensions["progress"]` reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph, add_messages
from langgraph.stream import ProtocolEvent, StreamChannel, StreamTransformer
from threads_common import TRANSFORMERS
from typing_extensions import TypedDict

from lg_testkit.demo.fake_model import reply_once

NOTES = "Found three sources."


class State(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    steps: list[str]


def search(state: State) -> State:
    write = get_stream_writer()
    for i in range(2):
        write({"step": i, "of": 2})
    write({"found": 3})
    reply = reply_once(AIMessage(content=NOTES)).invoke(state.get("messages", []))
    return {"messages": [reply], "steps": [*state.get("steps", []), "search"]}


def summarise(state: State) -> State:
    get_stream_writer()({"summarised": True})
    return {"steps": [*state.get("steps", []), "summarise"]}


class ProgressTransformer(StreamTransformer):
    """An extension: every custom `{"step": ...}` event again, on the named channel `progress`."""

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[dict[str, Any]] = StreamChannel("progress")
        self._root = not scope

    def init(self) -> dict[str, Any]:
        return {"progress": self._channel}

    def process(self, event: ProtocolEvent) -> bool:
        data = event["params"]["data"]
        if self._root and event["method"] == "custom" and isinstance(data, dict) and "step" in data:
            self._channel.push(data)
        return True


research = (
    StateGraph(State)
    .add_node("search", search)
    .add_edge(START, "search")
    .compile(transformers=TRANSFORMERS)
)

graph = (
    StateGraph(State)
    .add_node("research", research)
    .add_node("summarise", summarise)
    .add_edge(START, "research")
    .add_edge("research", "summarise")
    .compile(transformers=[*TRANSFORMERS, ProgressTransformer])
)
