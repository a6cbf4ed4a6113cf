"""`threads_failing`: a node writes a custom event, then raises: the run ends `failed`."""

from __future__ import annotations

from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from threads_common import TRANSFORMERS
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    value: str


def prepare(state: State) -> State:
    return {"value": "prepared"}


def explode(state: State) -> State:
    get_stream_writer()({"about_to": "fail"})
    raise ValueError("boom")


graph = (
    StateGraph(State)
    .add_node("prepare", prepare)
    .add_node("explode", explode)
    .add_edge(START, "prepare")
    .add_edge("prepare", "explode")
    .compile(transformers=TRANSFORMERS)
)
