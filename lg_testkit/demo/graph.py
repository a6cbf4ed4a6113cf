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

import json
import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

FORECAST = "Los Angeles: 72 degrees Fahrenheit, sunny, light breeze from the west."
FINAL_ANSWER = "It is sunny and 72 degrees in Los Angeles today."


class FakeChatModel(GenericFakeChatModel):
    """`GenericFakeChatModel` that also streams tool calls.

    The stock `_stream` splits `content` on whitespace but drops `tool_calls`, so a graph
    streamed in `messages` mode (which makes `invoke` stream) would lose its tool call.
    Here content streams token by token as before, then each tool call follows as one
    `tool_call_chunks` chunk, the way real providers stream them.
    """

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop=stop, **kwargs).generations[0].message
        assert isinstance(message, AIMessage) and isinstance(message.content, str)
        # Words and the whitespace between them, as separate tokens (like the stock model).
        chunks = [
            AIMessageChunk(content=token, id=message.id)
            for token in re.split(r"(\s)", message.content)
            if token
        ]
        chunks += [
            AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=[
                    tool_call_chunk(
                        name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
                    )
                ],
            )
            for i, call in enumerate(message.tool_calls)
        ]
        if chunks and "chunk_position" in AIMessageChunk.model_fields:  # langchain-core >= 1.0
            chunks[-1].chunk_position = "last"
        for message_chunk in chunks:
            chunk = ChatGenerationChunk(message=message_chunk)
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


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
    # A fresh model per call, fed exactly one reply: no iterator state shared between runs.
    model = FakeChatModel(messages=iter([_reply(state)]))
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node("tools", ToolNode([get_weather]))
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition, ["tools", END])
builder.add_edge("tools", "agent")
graph = builder.compile()
