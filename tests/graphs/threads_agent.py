"""`threads_agent`: a tool-calling agent for the thread-centric protocol.

The fake model streams its first answer as a tool call, the tool runs, then the model streams
the final answer token by token; a custom event (`{"progress": ...}`) precedes it. Compiled
with every transformer, so the protocol stream carries custom, updates, tools, checkpoints and
tasks besides values, messages and lifecycle.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from threads_common import TRANSFORMERS

from lg_testkit.demo.fake_model import reply_once

FINAL_ANSWER = "It is sunny and 72 degrees in Los Angeles today."
TOOL_CALL = {
    "name": "get_weather",
    "args": {"query": "weather in los angeles"},
    "id": "call_weather_1",
    "type": "tool_call",
}


@tool
def get_weather(query: str) -> str:
    """Look up the current weather for a place."""
    return "Los Angeles: 72 degrees Fahrenheit, sunny."


def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
    if isinstance(state["messages"][-1], ToolMessage):
        get_stream_writer()({"progress": "answering"})
        reply = AIMessage(content=FINAL_ANSWER)
    else:
        reply = AIMessage(content="", tool_calls=[TOOL_CALL])
    return {"messages": [reply_once(reply).invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node("tools", ToolNode([get_weather]))
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition, ["tools", END])
builder.add_edge("tools", "agent")
graph = builder.compile(transformers=TRANSFORMERS)
