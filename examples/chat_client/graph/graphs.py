"""The example's LangGraph app: what `langgraph dev` serves when the cassettes are recorded.

    chat      a multi-turn assistant that remembers what the user said earlier in the thread
    research  a parent graph whose `search` node is a subgraph reporting progress as custom
              events; then the answer, streamed token by token
    email     drafts an email, asks before sending it (`interrupt`), resumed with
              `Command(resume="yes" | "no")`
    broken    a node that raises, so the run ends with an `error` event

Every answer comes from langchain-core's `GenericFakeChatModel` (no keys, no network), which
streams its text word by word when the run streams `messages`.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt


def say(text: str, history: list[BaseMessage]) -> BaseMessage:
    """The model's answer: `text`, streamed word by word (a fresh model per call)."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=text)])).invoke(history)


def _human_texts(messages: list[BaseMessage]) -> list[str]:
    return [str(m.content) for m in messages if isinstance(m, HumanMessage)]


# -- chat ------------------------------------------------------------------------------------------


def answer(state: MessagesState) -> dict[str, Any]:
    said = _human_texts(state["messages"])
    names = [m[1] for text in said if (m := re.search(r"my name is (\w+)", text, re.I))]
    latest = said[-1] if said else ""
    if re.search(r"my name is", latest, re.I):
        text = f"Nice to meet you, {names[-1]}! What can I do for you?"
    elif re.search(r"what is my name", latest, re.I):
        text = f"Your name is {names[-1]}." if names else "You have not told me your name yet."
    else:
        text = f"You said: {latest}. That is message {len(said)} of this conversation."
    return {"messages": [say(text, state["messages"])]}


chat = StateGraph(MessagesState).add_node(answer).add_edge(START, "answer").compile()


# -- research: a subgraph that reports progress --------------------------------------------------

SOURCES = ["the field guide", "the weather archive"]


class ResearchState(MessagesState, total=False):
    notes: list[str]


def plan(state: ResearchState) -> dict[str, Any]:
    get_stream_writer()({"step": "planning", "detail": f"{len(SOURCES)} sources to read"})
    return {"notes": []}


def gather(state: ResearchState) -> dict[str, Any]:
    write = get_stream_writer()
    notes = []
    for source in SOURCES:
        write({"step": "reading", "detail": source})
        notes.append(f"{source} agrees")
    return {"notes": notes}


search = (
    StateGraph(ResearchState)
    .add_node(plan)
    .add_node(gather)
    .add_edge(START, "plan")
    .add_edge("plan", "gather")
    .compile()
)


def write_up(state: ResearchState) -> dict[str, Any]:
    get_stream_writer()({"step": "writing", "detail": f"{len(state['notes'])} notes"})
    question = _human_texts(state["messages"])[-1]
    text = f"About {question!r}: {' and '.join(SOURCES)} agree, so the answer is yes."
    return {"messages": [say(text, state["messages"])]}


research = (
    StateGraph(ResearchState)
    .add_node("search", search)
    .add_node(write_up)
    .add_edge(START, "search")
    .add_edge("search", "write_up")
    .compile()
)


# -- email: asks before acting -------------------------------------------------------------------

RECIPIENT = "ada@example.com"


class EmailState(MessagesState, total=False):
    sent: bool


def draft(state: EmailState) -> dict[str, Any]:
    request = _human_texts(state["messages"])[-1]
    return {"messages": [say(f"Draft to {RECIPIENT}: {request}", state["messages"])]}


def confirm(state: EmailState) -> dict[str, Any]:
    decision = interrupt({"question": f"Send this email to {RECIPIENT}?", "to": RECIPIENT})
    sent = str(decision).strip().lower() in ("yes", "y")
    text = f"Sent to {RECIPIENT}." if sent else "Not sent. The draft is kept."
    return {"sent": sent, "messages": [say(text, state["messages"])]}


email = (
    StateGraph(EmailState)
    .add_node(draft)
    .add_node(confirm)
    .add_edge(START, "draft")
    .add_edge("draft", "confirm")
    .add_edge("confirm", END)
    .compile()
)


# -- broken ----------------------------------------------------------------------------------------


def explode(state: MessagesState) -> dict[str, Any]:
    raise ValueError("boom")


broken = StateGraph(MessagesState).add_node(explode).add_edge(START, "explode").compile()
