"""Scripted threads of the thread-centric protocol: what `ScriptedRun(..., protocol="threads")`
builds.

    run = (
        ScriptedRun("agent", input={"messages": [...]}, protocol="threads")
        .tool_call("get_weather", {"city": "LA"}, output="Sunny, 21C")
        .tokens("It is sunny in LA.")
        .interrupt({"question": "book a table?"})
        .respond({"approved": True})           # the client's input.respond; the run resumes
        .values({"booked": True})
    )
    run.save("cassettes/edge/threads.json")

The result is what the recorder makes of a `client.threads.stream()` session (lg_testkit
.threadlog): the thread's commands (`run.start`, `input.respond`) with their replies, and its
event log, shaped as langgraph-api 0.16 sends it: a root `lifecycle` running / interrupted /
completed / failed around each run, each message as message-start, content blocks (a text
delta per word), message-finish; a tool call as the AI message carrying it, then `tools`
tool-started / tool-finished and the tool's own message under the namespace
`tools:<call id>`. Plus the `GET /threads/{id}/state` the SDK reads for `thread.output` (and
at the start of `thread.values`): the thread's state at the end of the script, the last
`values` given (every read gets it).
`cassette()` checks the log against the thread-protocol schemas and stream rules
(lg_testkit.thread_validation), so a script cannot describe what no server would send.
"""

from __future__ import annotations

import uuid
from typing import Any

from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    dumps_compact,
)
from lg_testkit.errors import SchemaViolationError
from lg_testkit.threadlog import ProtocolCommand, ProtocolEvent, ProtocolThread

__all__ = ["ThreadScript"]

_EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z, the scripted clock's zero
_CREATED_AT = "2025-01-01T00:00:00+00:00"
_SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
}
_JSON = {"content-type": "application/json"}


class ThreadScript:
    """A protocol thread written step by step; `ScriptedRun` delegates to it."""

    def __init__(
        self,
        assistant_id: str,
        *,
        input: Any = None,  # noqa: A002 - the SDK's name
        seed: str,
        interval: float,
        params: dict[str, Any],
    ) -> None:
        self.assistant_id, self.seed, self.interval = assistant_id, seed, interval
        self.thread_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/thread"))
        self.commands: list[ProtocolCommand] = []
        self.events: list[ProtocolEvent] = []
        self.status = "idle"  # running, interrupted, completed, failed
        self.state: Any = None  # the last `values`
        self.interrupts: list[dict[str, Any]] = []  # pending: {"interrupt_id", "payload"}
        self._clock = 0.0
        self._command_at = 0.0
        self._serial = 0
        self.start(input, **params)

    # -- commands ------------------------------------------------------------------------------

    def start(self, input: Any = None, **params: Any) -> None:  # noqa: A002
        """`run.start`: a run (the first, or the next turn on the thread)."""
        if self.status == "interrupted":
            raise ValueError("the run is interrupted: respond() to it before starting another")
        self._end_run()
        body: dict[str, Any] = {"assistant_id": self.assistant_id, **params}
        if input is not None:
            body["input"] = input
        run_id = self._new_id("")
        self._command("run.start", body, {"run_id": run_id})
        self._running()

    def respond(self, response: Any) -> None:
        """`input.respond`: the client answers the pending interrupt; the run resumes."""
        if self.status != "interrupted" or not self.interrupts:
            raise ValueError("respond() answers an interrupt(): script one first")
        pending = self.interrupts.pop(0)
        params = {"interrupt_id": pending["interrupt_id"], "namespace": [], "response": response}
        self._command("input.respond", params, {})
        self._running()

    # -- events --------------------------------------------------------------------------------

    def values(self, state: Any) -> None:
        self.state = state
        self._emit("values", state)

    def update(self, node: str, update: Any) -> None:
        self._emit("updates", {node: update})

    def custom(self, payload: Any) -> None:
        self._emit("custom", payload)

    def tokens(self, text: str) -> None:
        """An AI message streamed word by word: one text delta per word."""
        words = text.split(" ")
        pieces = [word + " " for word in words[:-1]] + [words[-1]]
        self._message("ai", self._new_id("lc_run--"), text, pieces)

    def tool_call(self, name: str, args: dict[str, Any], output: Any = None) -> None:
        """An AI message calling a tool; with `output`, the tool then runs and answers."""
        call_id = self._new_id("call_").replace("-", "")[:29]
        self._require_running()
        block = {"type": "tool_call", "id": call_id, "name": name}
        self._emit(
            "messages", {"event": "message-start", "role": "ai", "id": self._new_id("lc_run--")}
        )
        self._emit(
            "messages",
            {"event": "content-block-start", "index": 0, "content": {**block, "args": {}}},
        )
        self._emit(
            "messages",
            {"event": "content-block-finish", "index": 0, "content": {**block, "args": args}},
        )
        self._emit("messages", {"event": "message-finish"})
        if output is None:
            return
        text = output if isinstance(output, str) else dumps_compact(output)
        self._emit(
            "tools",
            {"event": "tool-started", "tool_call_id": call_id, "tool_name": name, "input": args},
        )
        message: dict[str, Any] = {
            "content": text,
            "additional_kwargs": {},
            "response_metadata": {},
            "type": "tool",
            "name": name,
            "id": None,
            "tool_call_id": call_id,
            "artifact": None,
            "status": "success",
        }
        self._emit("tools", {"event": "tool-finished", "tool_call_id": call_id, "output": message})
        self._message(
            "tool",
            f"tool-{call_id}",
            text,
            [text],
            namespace=[f"tools:{call_id}"],
            tool_call_id=call_id,
        )

    def interrupt(self, value: Any) -> None:
        """The graph asks the client (`input.requested`); the run stops, interrupted."""
        self._require_running()
        interrupt_id = self._new_id("").replace("-", "")
        self._emit("input.requested", {"interrupt_id": interrupt_id, "payload": value})
        self.interrupts.append({"interrupt_id": interrupt_id, "payload": value})
        self._emit("lifecycle", {"event": "interrupted", "graph_name": self.assistant_id})
        self.status = "interrupted"

    def error(self, message: str) -> None:
        """The run fails: its root lifecycle says `failed` with the error's message."""
        self._require_running()
        self._emit(
            "lifecycle", {"event": "failed", "graph_name": self.assistant_id, "error": message}
        )
        self.status = "failed"

    def wait(self, seconds: float) -> None:
        self._clock += seconds

    # -- results -------------------------------------------------------------------------------

    def thread(self) -> ProtocolThread:
        """The thread as a cassette keeps it; a run still running completes here."""
        self._end_run()
        return ProtocolThread(self.thread_id, self.commands, self.events, dict(_SSE_HEADERS))

    def interactions(self) -> list[Interaction]:
        """The `GET /threads/{id}/state` the SDK reads for `thread.output`."""
        interrupts = [
            {"value": pending["payload"], "id": pending["interrupt_id"]}
            for pending in self.interrupts
        ]
        checkpoint = {
            "checkpoint_id": self._new_id(""),
            "thread_id": self.thread_id,
            "checkpoint_ns": "",
        }
        state = {
            "values": self.state if self.state is not None else {},
            "next": ["__interrupt__"] if interrupts else [],
            "tasks": (
                [
                    {
                        "id": self._new_id(""),
                        "name": "__interrupt__",
                        "path": [],
                        "error": None,
                        "interrupts": interrupts,
                        "checkpoint": None,
                        "state": None,
                        "result": None,
                    }
                ]
                if interrupts
                else []
            ),
            "metadata": {"graph_id": self.assistant_id, "thread_id": self.thread_id},
            "created_at": _CREATED_AT,
            "checkpoint": checkpoint,
            "parent_checkpoint": None,
            "interrupts": interrupts,
            "checkpoint_id": checkpoint["checkpoint_id"],
            "parent_checkpoint_id": None,
        }
        return [
            Interaction(
                RecordedRequest("GET", f"/threads/{self.thread_id}/state"),
                RecordedResponse(200, dict(_JSON), json=state),
            )
        ]

    def cassette(self) -> Cassette:
        """The cassette, its thread checked against the protocol's schemas and stream rules."""
        from lg_testkit.thread_validation import check_thread, validate_timeline

        thread = self.thread()
        source = f"scripted thread (seed {self.seed!r})"
        problems = check_thread(thread, source=source)
        timeline: list[Any] = []
        for index, command in enumerate(thread.commands):
            timeline.append(command.command)
            timeline += [event.event for event in thread.events if event.after == index]
        problems += validate_timeline(timeline, source=source)
        errors = [problem for problem in problems if problem.severity == "error"]
        if errors:
            raise SchemaViolationError(errors, source)
        return Cassette(self.interactions(), {"scripted": {"seed": self.seed}}, None, [thread])

    # -- helpers -------------------------------------------------------------------------------

    def _command(self, method: str, params: dict[str, Any], result: dict[str, Any]) -> None:
        self._clock += self.interval
        number = len(self.commands) + 1
        applied = self.events[-1].seq if self.events else 0
        reply = {
            "type": "success",
            "id": number,
            "result": result,
            "meta": {"applied_through_seq": applied},
        }
        command = {"id": number, "method": method, "params": params}
        self.commands.append(ProtocolCommand(round(self._clock, 6), command, 200, reply))
        self._command_at = self._clock

    def _running(self) -> None:
        self.status = "running"
        self._emit("lifecycle", {"event": "running", "graph_name": self.assistant_id})

    def _end_run(self) -> None:
        if self.status == "running":
            self._emit("lifecycle", {"event": "completed", "graph_name": self.assistant_id})
            self.status = "completed"

    def _require_running(self) -> None:
        if self.status != "running":
            what = {
                "interrupted": "is interrupted: respond() first",
                "failed": "failed: start() another run first",
            }.get(self.status, "is over")
            raise ValueError(f"the run {what}")

    def _message(
        self,
        role: str,
        message_id: str,
        text: str,
        pieces: list[str],
        *,
        namespace: list[str] | None = None,
        **start: Any,
    ) -> None:
        self._require_running()
        where = namespace or []
        self._emit(
            "messages", {"event": "message-start", "role": role, "id": message_id, **start}, where
        )
        self._emit(
            "messages",
            {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}},
            where,
        )
        for piece in pieces:
            self._emit(
                "messages",
                {
                    "event": "content-block-delta",
                    "index": 0,
                    "delta": {"type": "text-delta", "text": piece},
                },
                where,
            )
        self._emit(
            "messages",
            {
                "event": "content-block-finish",
                "index": 0,
                "content": {"type": "text", "text": text},
            },
            where,
        )
        self._emit("messages", {"event": "message-finish"}, where)

    def _emit(self, method: str, data: Any, namespace: list[str] | None = None) -> None:
        if method != "lifecycle":
            self._require_running()
        self._clock += self.interval
        seq = len(self.events) + 1
        stamp = _EPOCH_MS + round(self._clock * 1000)
        envelope = {
            "type": "event",
            "event_id": f"{stamp}-{seq}",
            "seq": seq,
            "method": method,
            "params": {"namespace": list(namespace or []), "timestamp": stamp, "data": data},
        }
        after = len(self.commands) - 1
        self.events.append(ProtocolEvent(round(self._clock - self._command_at, 6), after, envelope))

    def _new_id(self, prefix: str) -> str:
        self._serial += 1
        return prefix + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.seed}/{self._serial}"))
