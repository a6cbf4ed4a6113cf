"""`threads_interrupt`: asks for approval with `interrupt()`, resumed by `input.respond`.

The first run stops in `ask` (root lifecycle `interrupted`, an `input.requested` event with the
interrupt id and payload); `thread.run.respond(...)` sends `input.respond` and a new run
finishes the graph with the answer stored.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from threads_common import TRANSFORMERS
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    question: str
    answer: Any


def ask(state: State) -> State:
    answer = interrupt({"question": state.get("question", "approve?")})
    get_stream_writer()({"answered": answer})
    return {"answer": answer}


def done(state: State) -> State:
    return {"question": f"{state.get('question', '')} -> {state.get('answer')}"}


graph = (
    StateGraph(State)
    .add_node("ask", ask)
    .add_node("done", done)
    .add_edge(START, "ask")
    .add_edge("ask", "done")
    .compile(transformers=TRANSFORMERS)
)
