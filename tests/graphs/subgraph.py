"""`subgraph`: a parent whose node `sub` is a compiled graph (namespaced events with subgraphs)."""

from __future__ import annotations

from typing import TypedDict

from langgraph.graph import START, StateGraph


class State(TypedDict, total=False):
    steps: list[str]


def inner(state: State) -> State:
    return {"steps": [*state.get("steps", []), "inner"]}


def outer(state: State) -> State:
    return {"steps": [*state.get("steps", []), "outer"]}


sub = StateGraph(State).add_node("inner", inner).add_edge(START, "inner").compile()

graph = (
    StateGraph(State)
    .add_node("sub", sub)
    .add_node("outer", outer)
    .add_edge(START, "sub")
    .add_edge("sub", "outer")
    .compile()
)
