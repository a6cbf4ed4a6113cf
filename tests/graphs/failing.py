"""`failing`: one node that raises, so the run stream ends with an `error` event."""

from __future__ import annotations

from typing import TypedDict

from langgraph.graph import START, StateGraph


class State(TypedDict, total=False):
    value: str


def explode(state: State) -> State:
    raise ValueError("boom")


graph = StateGraph(State).add_node("explode", explode).add_edge(START, "explode").compile()
