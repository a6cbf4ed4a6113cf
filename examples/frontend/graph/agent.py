"""The example page's agent: looks an order up with a tool, asks for approval, then answers.

    human: "Please refund order A-1042."
    agent: "Let me look up order A-1042." + tool call look_up_order(order_id="A-1042")
    tools: the order
    refund: interrupt({"question": "Refund $42.00 ...?"})   <- the page shows Approve / Reject
            resumed with {"approved": true}: the answer, streamed token by token

A fake chat model (no keys, no network) streams every word and space as its own token, a short
pause apart, so a recording keeps a token cadence a browser test can watch arrive.

Compiled with `ToolCallTransformer` (langgraph 1.2): the thread-centric protocol that
`useStream` from `@langchain/react` reads carries only the channels a graph's transformers
produce; the built-in ones give values, messages, lifecycle and input (interrupts), and this
one adds `tools`. `runs.stream` is not affected.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolCallTransformer, ToolNode
from langgraph.types import interrupt

from lg_testkit.demo.fake_model import FakeChatModel

ORDER = "A-1042"
PREAMBLE = f"Let me look up order {ORDER}."
QUESTION = f"Refund $42.00 for order {ORDER} to the card ending 4242?"
APPROVED = (
    f"Done: $42.00 is refunded for order {ORDER}. "
    "It will be back on the card ending 4242 within five business days."
)
REJECTED = f"All right: nothing was refunded, and order {ORDER} stays as it is."
TOKEN_PAUSE = 0.05  # seconds between two streamed tokens


class PacedChatModel(FakeChatModel):
    """`FakeChatModel` (tokens and tool-call chunks) with a pause between two chunks."""

    pause: float = TOKEN_PAUSE

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for i, chunk in enumerate(super()._stream(messages, stop, run_manager, **kwargs)):
            if i:
                time.sleep(self.pause)
            yield chunk


def reply(message: AIMessage, history: list[BaseMessage]) -> AIMessage:
    answer = PacedChatModel(messages=iter([message])).invoke(history)
    assert isinstance(answer, AIMessage)
    return answer


@tool
def look_up_order(order_id: str) -> str:
    """Look an order up by its id."""
    return f"Order {order_id}: wireless headphones, $42.00, delivered 3 days ago; refundable."


def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
    call = {"name": "look_up_order", "args": {"order_id": ORDER}, "id": "call_order_1"}
    return {"messages": [reply(AIMessage(PREAMBLE, tool_calls=[call]), state["messages"])]}


def refund(state: MessagesState) -> dict[str, list[BaseMessage]]:
    decision = interrupt({"question": QUESTION, "action": "refund", "order_id": ORDER})
    approved = isinstance(decision, dict) and decision.get("approved") is True
    return {"messages": [reply(AIMessage(APPROVED if approved else REJECTED), state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node("tools", ToolNode([look_up_order]))
builder.add_node("refund", refund)
builder.add_edge(START, "agent")
builder.add_edge("agent", "tools")
builder.add_edge("tools", "refund")
builder.add_edge("refund", END)
graph = builder.compile(transformers=[ToolCallTransformer])
