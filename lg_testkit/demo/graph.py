"""The demo weather agent, graph id `agent`: `langgraph dev` runs it with no keys, no network.

It is the agent of LangGraph's "stream values" notebook, with a fake chat model:

    human: "whats the weather in la"
    agent: AIMessage calling `get_weather(query="weather in los angeles")`
    tools: ToolMessage with a canned forecast
    agent: "It is sunny in Los Angeles, ..." (several words, so `messages` mode streams tokens)

Every run is identical apart from ids and timestamps: the reply is chosen from the state
(has the tool answered yet?), never from a model's position in a shared iterator.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from lg_testkit.demo.fake_model import reply_once

FORECAST = "Los Angeles: 72 degrees Fahrenheit, sunny, light breeze from the west."
FINAL_ANSWER = "It is sunny and 72 degrees in Los Angeles today."


@tool
def get_weather(query: str) -> str:
    """Look up the current weather for a place."""
    return FORECAST


def _reply(state: MessagesState) -> AIMessage:
    """The model's next message, decided by the conversation so far."""
    if isinstance(state["messages"][-1], ToolMessage):
        return AIMessage(content=FINAL_ANSWER)
    return AIMessage(
        content="",
        tool_calls=[
            {
                "name": "get_weather",
                "args": {"query": "weather in los angeles"},
                "id": "call_weather_1",
                "type": "tool_call",
            }
        ],
    )


def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
    return {"messages": [reply_once(_reply(state)).invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node("tools", ToolNode([get_weather]))
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition, ["tools", END])
builder.add_edge("tools", "agent")
graph = builder.compile()
