"""`ticker`: one node that writes six custom events `{"tick": i}`, 0.2 s apart."""

from __future__ import annotations

import asyncio
from typing import TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph

TICKS = 6


class State(TypedDict, total=False):
    ticks: int


async def tick(state: State) -> State:
    write = get_stream_writer()
    for i in range(TICKS):
        if i:
            await asyncio.sleep(0.2)
        write({"tick": i})
    return {"ticks": TICKS}


graph = StateGraph(State).add_node("tick", tick).add_edge(START, "tick").compile()
