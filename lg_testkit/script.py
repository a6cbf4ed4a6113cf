"""Scripted run streams: the edge cases no real graph produces easily, served like a recording.

    run = (
        ScriptedRun("agent", input={"messages": [...]}, stream_mode=["messages-tuple", "values"])
        .tokens("A very long answer ...")       # one AIMessageChunk per word
        .wait(30)                               # a stall: the next event comes 30 s later
        .tool_call("get_weather", {"city": "LA"})
        .error("ToolException", "weather service down")
    )
    run.save("cassettes/edge/tool_error.json")  # or run.cassette(), run.interactions()

Each step emits only the events of the stream modes the run asked for, shaped as langgraph-api
0.16 sends them, after the `metadata` event every run starts with. `cassette()` checks the
stream against the event schemas, so a script cannot describe what no server would send.
Ids derive from `seed`, so the same script always gives the same bytes. The result is an
ordinary cassette: a `POST /threads` answer and the run's stream, replayed by `use_cassette`,
the marker or the fake server.

`protocol="threads"` scripts the thread-centric protocol instead (`client.threads.stream()`,
lg_testkit.thread_script): the same steps, plus `respond(...)` (the client's `input.respond`
after an `interrupt`) and `start(input=...)` (the next turn); `tool_call(..., output=...)` also
runs the tool. No stream modes there: every channel is scripted.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
    StreamItem,
)
from lg_testkit.replay.tape import DROPPED
from lg_testkit.thread_script import ThreadScript
from lg_testkit.validation import enforce

__all__ = ["ScriptedRun"]

_CREATED_AT = "2025-01-01T00:00:00+00:00"
_SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
}


class ScriptedRun:
    """A run on a new thread whose stream is written step by step instead of recorded."""

    def __init__(
        self,
        assistant_id: str = "agent",
        *,
        input: Any = None,
        command: Any = None,
        stream_mode: str | list[str] = "values",
        seed: str = "lg-testkit",
        interval: float = 0.001,
        protocol: Literal["runs", "threads"] = "runs",
        **request: Any,
    ) -> None:
        if protocol not in ("runs", "threads"):
            raise ValueError(f"protocol is 'runs' or 'threads', not {protocol!r}")
        self.protocol = protocol
        self._threads: ThreadScript | None = None
        if protocol == "threads":
            if command is not None:
                raise ValueError("a thread-protocol run starts with input; resume with respond()")
            self._threads = ThreadScript(
                assistant_id, input=input, seed=seed, interval=interval, params=request
            )
            self.seed = seed
            self.thread_id = self._threads.thread_id
            return
        self.modes = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
        self.thread_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/thread"))
        self.run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/run"))
        self.seed, self.interval = seed, interval
        body: dict[str, Any] = {"assistant_id": assistant_id, "stream_mode": self.modes, **request}
        if input is not None:
            body["input"] = input
        if command is not None:
            body["command"] = command
        self.request_body = body
        self.items: list[StreamItem] = []
        self.cut_short = False
        self._clock = 0.0
        self._serial = 0
        self._step = 0
        self._emit(None, "metadata", {"run_id": self.run_id, "attempt": 1})

    # -- steps ---------------------------------------------------------------------------------

    def values(self, state: Any) -> ScriptedRun:
        """The full state after a step (`values` mode)."""
        if self._threads is not None:
            self._threads.values(state)
            return self
        return self._emit("values", "values", state)

    def update(self, node: str, update: Any) -> ScriptedRun:
        """One node's update (`updates` mode)."""
        if self._threads is not None:
            self._threads.update(node, update)
            return self
        self._step += 1
        return self._emit("updates", "updates", {node: update})

    def custom(self, payload: Any) -> ScriptedRun:
        """What a node wrote with the stream writer (`custom` mode)."""
        if self._threads is not None:
            self._threads.custom(payload)
            return self
        return self._emit("custom", "custom", payload)

    def tokens(self, text: str, *, node: str = "agent") -> ScriptedRun:
        """An AI message streamed word by word (`messages-tuple` and `messages` modes; on the
        thread protocol, one text delta per word)."""
        if self._threads is not None:
            self._threads.tokens(text)
            return self
        message_id = self._new_id("lc_run--")
        words = text.split(" ")
        pieces = [word + " " for word in words[:-1]] + [words[-1]]
        if "messages" in self.modes:
            self._emit(
                "messages", "messages/metadata", {message_id: {"metadata": self._meta(node)}}
            )
        so_far = ""
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            so_far += piece
            chunk = _ai_chunk(message_id, piece, last=last)
            self._emit("messages-tuple", "messages", [chunk, self._meta(node)])
            self._emit("messages", "messages/partial", [{**chunk, "content": so_far}])
        return self

    def tool_call(
        self, name: str, args: dict[str, Any], *, node: str = "agent", output: Any = None
    ) -> ScriptedRun:
        """An AI message that calls a tool, as one chunk carrying the whole call. On the thread
        protocol, with `output`, the tool then runs (`tools` events and its message)."""
        if self._threads is not None:
            self._threads.tool_call(name, args, output)
            return self
        if output is not None:
            raise ValueError("output= scripts the tool's answer on the thread protocol only")
        call_id = self._new_id("call_")
        chunk = _ai_chunk(self._new_id("lc_run--"), "", last=True)
        chunk["tool_calls"] = [{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
        chunk["tool_call_chunks"] = [
            {
                "name": name,
                "args": json.dumps(args),
                "id": call_id,
                "index": 0,
                "type": "tool_call_chunk",
            }
        ]
        self._emit("messages-tuple", "messages", [chunk, self._meta(node)])
        self._emit("messages", "messages/partial", [chunk])
        return self

    def interrupt(self, value: Any) -> ScriptedRun:
        """The graph stops to ask `value`; resumable with `command={"resume": ...}` (on the
        thread protocol: `respond(...)`)."""
        if self._threads is not None:
            self._threads.interrupt(value)
            return self
        interrupts = [{"value": value, "id": self._new_id("").replace("-", "")}]
        self._emit("updates", "updates", {"__interrupt__": interrupts})
        return self._emit("values", "values", {"__interrupt__": interrupts})

    def error(self, error: str = "ValueError", message: str = "boom") -> ScriptedRun:
        """The run fails; LangGraph sends nothing after an error (on the thread protocol: the
        root lifecycle says `failed` with `message`)."""
        if self._threads is not None:
            self._threads.error(message)
            return self
        return self._emit(None, "error", {"error": error, "message": message})

    def respond(self, response: Any) -> ScriptedRun:
        """Thread protocol: the client answers the pending interrupt (`input.respond`); the run
        resumes with the steps that follow."""
        return self._thread_step("respond")(response)

    def start(self, input: Any = None, **params: Any) -> ScriptedRun:  # noqa: A002
        """Thread protocol: the next turn on the thread (`run.start` again)."""
        return self._thread_step("start")(input, **params)

    def _thread_step(self, name: str) -> Callable[..., ScriptedRun]:
        if self._threads is None:
            raise ValueError(
                f"{name}() scripts the thread protocol: ScriptedRun(protocol='threads')"
            )
        step = getattr(self._threads, name)

        def run(*args: Any, **kwargs: Any) -> ScriptedRun:
            step(*args, **kwargs)
            return self

        return run

    def wait(self, seconds: float) -> ScriptedRun:
        """A stall: the next event arrives `seconds` later (felt on replay with a speed)."""
        if self._threads is not None:
            self._threads.wait(seconds)
            return self
        self._clock += seconds
        return self

    def cut(self) -> ScriptedRun:
        """The connection drops here: replay sends what came before, then the consumer gets the
        error of a peer closing mid-body (httpx.RemoteProtocolError), as from a real drop. A
        message cut mid-way has no last chunk."""
        if self._threads is not None:
            raise ValueError(
                "cut() drops a run stream; to drop a thread-protocol subscription, replay with "
                "Faults(drop_after=N) (the SDK reconnects with `since`)"
            )
        last = self.items[-1] if self.items else None
        if last is not None and last.event == "messages" and isinstance(last.data, list):
            last.data[0].pop("chunk_position", None)
        self.cut_short = True
        return self

    # -- results -------------------------------------------------------------------------------

    def interactions(self) -> list[Interaction]:
        if self._threads is not None:
            return self._threads.interactions()
        thread: dict[str, Any] = {
            "thread_id": self.thread_id,
            "created_at": _CREATED_AT,
            "updated_at": _CREATED_AT,
            "metadata": {},
            "status": "idle",
            "config": {},
            "values": None,
        }
        create = Interaction(
            RecordedRequest("POST", "/threads", json={}),
            RecordedResponse(200, {"content-type": "application/json"}, json=thread),
        )
        dropped = f"RemoteProtocolError: {DROPPED}" if self.cut_short else None
        stream = RecordedStream(list(self.items), [], "\r\n", self.cut_short, dropped)
        run = Interaction(
            RecordedRequest(
                "POST", f"/threads/{self.thread_id}/runs/stream", json=self.request_body
            ),
            RecordedResponse(200, dict(_SSE_HEADERS), stream=stream),
        )
        return [create, run]

    def cassette(self) -> Cassette:
        """The cassette, its stream checked against the event schemas like a recording."""
        if self._threads is not None:
            return self._threads.cassette()
        interactions = self.interactions()
        enforce(interactions[-1], source=f"scripted run (seed {self.seed!r})")
        return Cassette(interactions, {"scripted": {"seed": self.seed}})

    def save(self, path: str | os.PathLike[str]) -> Path:
        return self.cassette().save(path)

    # -- helpers -------------------------------------------------------------------------------

    def _emit(self, mode: str | None, event: str, data: Any) -> ScriptedRun:
        if self.items and self.items[-1].event == "error":
            raise ValueError("nothing can follow an error event: LangGraph ends the stream there")
        if self.cut_short:
            raise ValueError("the stream was cut: nothing can follow cut()")
        if mode is None or mode in self.modes:
            self._clock += self.interval
            self.items.append(StreamItem(round(self._clock, 6), event, data))
        return self

    def _new_id(self, prefix: str) -> str:
        self._serial += 1
        return prefix + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.seed}/{self._serial}"))

    def _meta(self, node: str) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "langgraph_node": node,
            "langgraph_step": self._step,
            "langgraph_triggers": [f"branch:to:{node}"],
        }


def _ai_chunk(message_id: str, content: str, *, last: bool) -> dict[str, Any]:
    return {
        "content": content,
        "additional_kwargs": {},
        "response_metadata": {},
        "type": "AIMessageChunk",
        "name": None,
        "id": message_id,
        "tool_calls": [],
        "invalid_tool_calls": [],
        "usage_metadata": None,
        "tool_call_chunks": [],
        "chunk_position": "last" if last else None,
    }
