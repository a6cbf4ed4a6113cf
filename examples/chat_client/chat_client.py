"""A small terminal chat client on langgraph_sdk: the kind of code lg-testkit exists to test.

It streams a run and prints the answer token by token as it arrives, shows the progress a
subgraph reports (custom events), notices when the graph stops to ask a question (an
interrupt) and resumes it, keeps a conversation going on one thread, asks for a whole answer
at once (`runs.wait`), starts a run in the background and follows it later (`runs.create` +
`runs.join_stream`), reads a thread back (`threads.get_state`), rides out a dropped connection
(the SDK reconnects with `Last-Event-ID`) and reports a failed run or a lost one instead of
crashing.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import NotFoundError

STREAM_MODES = ["messages-tuple", "updates", "custom"]
# How every turn is streamed: tokens, node updates (interrupts) and custom events, subgraphs
# included, with event ids so that a dropped stream resumes where it was (`Last-Event-ID`).
STREAM: dict[str, Any] = {
    "stream_mode": STREAM_MODES,
    "stream_subgraphs": True,
    "stream_resumable": True,
}


@dataclass
class Reply:
    """What one turn produced."""

    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)  # custom events, "<graph>: <step> <detail>"
    question: Any = None  # set when the graph interrupted to ask something
    error: str | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)  # everything the stream sent


class ChatClient:
    def __init__(self, url: str, *, out: TextIO = sys.stdout) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=300))
        self.client = LangGraphClient(self.http)
        self.out = out

    async def new_thread(self) -> str:
        thread = await self.client.threads.create()
        return str(thread["thread_id"])

    async def send(self, thread_id: str, assistant: str, text: str) -> Reply:
        """One turn: the user's message, the answer streamed as it is written."""
        return await self._turn(thread_id, assistant, input=_message(text))

    async def resume(self, thread_id: str, assistant: str, answer: Any) -> Reply:
        """Answer the question the graph stopped at (`Command(resume=answer)`)."""
        return await self._turn(thread_id, assistant, command={"resume": answer})

    async def ask(self, thread_id: str, assistant: str, text: str) -> str:
        """One turn, the whole answer at once (`runs.wait`): for callers that cannot stream."""
        state = await self.client.runs.wait(thread_id, assistant, input=_message(text))
        assert isinstance(state, dict)
        return str(state["messages"][-1]["content"])

    async def start(self, thread_id: str, assistant: str, text: str) -> str:
        """Start a turn in the background (`runs.create`); returns the run id to follow."""
        run = await self.client.runs.create(thread_id, assistant, input=_message(text), **STREAM)
        return str(run["run_id"])

    async def follow(self, thread_id: str, run_id: str) -> Reply:
        """Attach to a run started earlier (a page reload, another process): every event from
        its first (`Last-Event-ID: -1`), even when the run got ahead or has finished."""
        stream = self.client.runs.join_stream(thread_id, run_id, last_event_id="-1")
        return await self._read(stream)

    async def history(self, thread_id: str) -> list[tuple[str, str]]:
        """The conversation so far, as (speaker, text), read back from the thread's state."""
        state = await self.client.threads.get_state(thread_id)
        return _transcript(state)

    async def pending_question(self, thread_id: str) -> Any:
        """The question the thread is waiting on, if it is paused at an interrupt."""
        state = await self.client.threads.get_state(thread_id)
        waiting = [i["value"] for i in state.get("interrupts") or []]
        return waiting[0] if waiting else None

    async def _turn(self, thread_id: str, assistant: str, **run: Any) -> Reply:
        return await self._read(self.client.runs.stream(thread_id, assistant, **STREAM, **run))

    async def _read(self, stream: AsyncIterator[Any]) -> Reply:
        reply = Reply()
        try:
            async for part in stream:
                self._on(reply, part.event, part.data)
        except (NotFoundError, httpx.TransportError) as lost:
            # The connection dropped and the SDK could not pick the run up again.
            reply.error = f"connection lost: {type(lost).__name__}"
            self.out.write(f"[{reply.error}; the answer may be incomplete]")
        self.out.write("\n")
        return reply

    def _on(self, reply: Reply, event: str, data: Any) -> None:
        reply.events.append((event, data))
        kind, _, namespace = event.partition("|")
        graph = namespace.split(":")[0] if namespace else "main"
        if kind == "messages" and not namespace:
            chunk, _metadata = data
            if chunk.get("type") != "AIMessageChunk":
                return
            reply.tool_calls += [
                c["name"] for c in chunk.get("tool_call_chunks") or [] if c.get("name")
            ]
            if isinstance(chunk.get("content"), str) and chunk["content"]:
                reply.text += chunk["content"]
                self.out.write(chunk["content"])
                self.out.flush()
        elif kind == "custom":
            reply.progress.append(f"{graph}: {data['step']} {data['detail']}")
        elif kind == "updates" and "__interrupt__" in data:
            reply.question = data["__interrupt__"][0]["value"]
            self.out.write(f"[the assistant asks: {reply.question}]")
        elif kind == "error":
            reply.error = f"{data['error']}: {data['message']}"
            self.out.write(f"[run failed: {reply.error}]")

    async def aclose(self) -> None:
        await self.http.aclose()


def export_transcript(url: str, thread_id: str) -> str:
    """The thread as plain text, from a script or a sync web handler (the sync SDK client)."""
    with httpx.Client(base_url=url) as http:
        state = SyncLangGraphClient(http).threads.get_state(thread_id)
    return "\n".join(f"{who}: {text}" for who, text in _transcript(state))


def _message(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}]}


def _transcript(state: Any) -> list[tuple[str, str]]:
    speakers = {"human": "you", "ai": "assistant"}
    return [
        (speakers[m["type"]], str(m["content"]))
        for m in (state["values"] or {}).get("messages", [])
        if m["type"] in speakers
    ]
