"""`interrupt`: one node that asks "approve?" and stores the answer it is resumed with."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    answer: Any


def ask(state: State) -> State:
    return {"answer": interrupt("approve?")}


graph = StateGraph(State).add_node("ask", ask).add_edge(START, "ask").compile()
