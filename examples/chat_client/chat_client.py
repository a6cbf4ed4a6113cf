"""A small terminal chat client on langgraph_sdk: the kind of code lg-testkit exists to test.

It streams a run, prints the answer token by token as it arrives, notices when the graph stops
to ask a question (an interrupt) and resumes it, and reports a failed run instead of crashing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from langgraph_sdk import get_client

STREAM_MODES = ["messages-tuple", "updates"]


@dataclass
class Reply:
    """What one turn produced."""

    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    question: Any = None  # set when the graph interrupted to ask something
    error: str | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)  # everything the stream sent


class ChatClient:
    def __init__(self, url: str, *, out: TextIO = sys.stdout) -> None:
        self.client = get_client(url=url, api_key=None)
        self.out = out

    async def new_thread(self) -> str:
        thread = await self.client.threads.create()
        return str(thread["thread_id"])

    async def send(self, thread_id: str, assistant: str, text: str) -> Reply:
        message = {"messages": [{"role": "human", "content": text}]}
        return await self._turn(thread_id, assistant, input=message)

    async def resume(self, thread_id: str, assistant: str, answer: Any) -> Reply:
        return await self._turn(thread_id, assistant, command={"resume": answer})

    async def _turn(self, thread_id: str, assistant: str, **run: Any) -> Reply:
        reply = Reply()
        async for part in self.client.runs.stream(
            thread_id, assistant, stream_mode=STREAM_MODES, **run
        ):
            reply.events.append((part.event, part.data))
            if part.event == "messages":
                chunk, _metadata = part.data
                if chunk.get("type") != "AIMessageChunk":
                    continue
                reply.tool_calls += [
                    c["name"] for c in chunk.get("tool_call_chunks") or [] if c.get("name")
                ]
                if isinstance(chunk.get("content"), str) and chunk["content"]:
                    reply.text += chunk["content"]
                    self.out.write(chunk["content"])
                    self.out.flush()
            elif part.event == "updates" and "__interrupt__" in part.data:
                reply.question = part.data["__interrupt__"][0]["value"]
                self.out.write(f"[the assistant asks: {reply.question}]")
            elif part.event == "error":
                reply.error = f"{part.data['error']}: {part.data['message']}"
                self.out.write(f"[run failed: {reply.error}]")
        self.out.write("\n")
        return reply

    async def aclose(self) -> None:
        await self.client.aclose()
