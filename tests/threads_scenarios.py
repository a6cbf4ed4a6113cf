"""What a caller of `client.threads.stream()` gets, scenario by scenario, async and sync.

Each scenario drives the Python SDK the way its docs show and returns what the caller saw:
events (id, seq, method, namespace, data), projection values, token text, tool calls,
subgraph handles, custom events, interrupts, errors and the output, as JSON text with the
client-minted thread id blanked. Live and replayed runs of one recording must give the same
text. The graphs are tests/graphs/threads_*.py.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
FOLLOW_UP = {"messages": [{"role": "human", "content": "and tomorrow?"}]}
TERMINAL = {"completed", "failed", "interrupted"}
WAIT = 60.0  # seconds: a replay that hangs fails the test instead of stalling the suite


def root_phase(event: dict[str, Any]) -> str | None:
    """The root lifecycle phase an event announces (running, interrupted, ...), if any."""
    params = event.get("params") or {}
    if event.get("method") != "lifecycle" or params.get("namespace"):
        return None
    return (params.get("data") or {}).get("event")


def brief(event: dict[str, Any]) -> list[Any]:
    params = event["params"]
    return [
        event["event_id"],
        event["seq"],
        event["method"],
        params.get("namespace"),
        params["data"],
    ]


def seen(view: dict[str, Any], thread_id: str) -> str:
    return json.dumps(view, sort_keys=True, default=repr).replace(thread_id, "<thread>")


# -- async ----------------------------------------------------------------------------------


async def a_interrupt(client: LangGraphClient, transport: str) -> str:
    """`thread.values` until the interrupt, `interrupted`, `run.respond`, the output."""
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_interrupt", transport=transport) as t:
        view["run"] = await t.run.start(input={"question": "deploy to prod?"})
        # The projection ends when the SDK's lifecycle watcher (its own stream) sees the
        # interrupt; how many `values` events it let through before is a race, live too.
        view["state"] = [snapshot async for snapshot in t.values][0]
        view["interrupted"] = t.interrupted
        view["interrupts"] = [dict(i) for i in t.interrupts]
        view["respond"] = await t.run.respond({"approved": True})
        view["output"] = await t.output.with_timeout(WAIT)
        view["interrupted_after"] = t.interrupted
        return seen(view, t.thread_id)


async def a_failing(client: LangGraphClient, transport: str) -> str:
    """A run that fails: its events, and the error `thread.output` raises."""
    view: dict[str, Any] = {"events": []}
    async with client.threads.stream(assistant_id="threads_failing", transport=transport) as t:
        events = t.events  # subscribed before the run starts: it sees the run from its start
        view["run"] = await t.run.start(input={"value": "start"})
        await asyncio.wait_for(_events_into(events, view["events"]), WAIT)
        try:
            await t.output.with_timeout(WAIT)
        except RuntimeError as error:
            view["error"] = str(error)
        return seen(view, t.thread_id)


async def _events_into(events: Any, view: list[Any]) -> None:
    async for event in events:
        if "method" not in event:
            continue
        view.append(brief(event))
        if root_phase(event) in TERMINAL:
            return


async def a_two_turns(client: LangGraphClient, transport: str) -> str:
    """Two `run.start`s on one thread: `thread.events` reads across both runs."""
    view: dict[str, Any] = {"turns": []}
    async with client.threads.stream(assistant_id="threads_agent", transport=transport) as t:
        events = t.events
        for question in (QUESTION, FOLLOW_UP):
            turn: dict[str, Any] = {"run": await t.run.start(input=question), "events": []}
            await asyncio.wait_for(_events_into(events, turn["events"]), WAIT)
            view["turns"].append(turn)
        view["output"] = await t.output.with_timeout(WAIT)
        return seen(view, t.thread_id)


async def a_reattach(client: LangGraphClient, transport: str) -> str:
    """A run, then a second session on the same thread by explicit `thread_id`."""
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_agent", transport=transport) as t:
        thread_id = t.thread_id
        view["run"] = await t.run.start(input=QUESTION)
        view["first"] = await t.output.with_timeout(WAIT)
    async with client.threads.stream(
        thread_id, assistant_id="threads_agent", transport=transport
    ) as again:
        view["again"] = await again.output.with_timeout(WAIT)
        view["events"] = []
        await asyncio.wait_for(_events_into(again.events, view["events"]), WAIT)
    return seen(view, thread_id)


async def a_projections(client: LangGraphClient, transport: str) -> str:
    """`thread.values`, `thread.messages` (token text) and `thread.tool_calls` at once."""
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_agent", transport=transport) as t:
        view["run"] = await t.run.start(input=QUESTION)

        async def values() -> list[Any]:
            return [snapshot async for snapshot in t.values]

        async def messages() -> list[Any]:
            streams = [message async for message in t.messages]
            return [[m.message_id, m.node, str(await m.text)] for m in streams]

        async def tool_calls() -> list[Any]:
            calls = [call async for call in t.tool_calls]
            return [[c.tool_call_id, c.name, c.input, await c.output] for c in calls]

        found = await asyncio.wait_for(asyncio.gather(values(), messages(), tool_calls()), WAIT)
        view["values"], view["messages"], view["tool_calls"] = found
        view["output"] = await t.output.with_timeout(WAIT)
        return seen(view, t.thread_id)


async def a_subgraphs(client: LangGraphClient, transport: str) -> str:
    """`thread.subgraphs` (each child's token text) and `thread.extensions["progress"]`."""
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_subgraph", transport=transport) as t:
        view["run"] = await t.run.start(input=QUESTION)

        async def texts(handle: Any) -> list[str]:
            return [str(await m.text) for m in [m async for m in handle.messages]]

        async def subgraphs() -> list[Any]:
            handles, readers = [], []
            async for handle in t.subgraphs:
                handles.append(handle)
                readers.append(asyncio.ensure_future(texts(handle)))
            found = await asyncio.gather(*readers)
            return [
                [h.graph_name, h.namespace, h.status, text]
                for h, text in zip(handles, found, strict=True)
            ]

        async def progress() -> list[Any]:
            return [item async for item in t.extensions["progress"]]

        found = await asyncio.wait_for(asyncio.gather(subgraphs(), progress()), WAIT)
        view["subgraphs"], view["progress"] = found
        view["output"] = await t.output.with_timeout(WAIT)
        return seen(view, t.thread_id)


# -- sync -----------------------------------------------------------------------------------


def s_interrupt(client: SyncLangGraphClient, transport: str) -> str:
    view: dict[str, Any] = {}
    with client.threads.stream(assistant_id="threads_interrupt", transport=transport) as t:
        view["run"] = t.run.start(input={"question": "deploy to prod?"})
        view["state"] = list(t.values)[0]  # the rest races the watcher (see a_interrupt)
        view["interrupted"] = t.interrupted
        view["interrupts"] = [dict(i) for i in t.interrupts]
        view["respond"] = t.run.respond({"approved": True})
        view["output"] = t.output
        view["interrupted_after"] = t.interrupted
        return seen(view, t.thread_id)


def s_failing(client: SyncLangGraphClient, transport: str) -> str:
    view: dict[str, Any] = {"events": []}
    with client.threads.stream(assistant_id="threads_failing", transport=transport) as t:
        view["run"] = t.run.start(input={"value": "start"})
        for event in t.events:
            view["events"].append(brief(event))
            if root_phase(event) in TERMINAL:
                break
        try:
            t.output  # noqa: B018 - the property waits for the run and raises its error
        except RuntimeError as error:
            view["error"] = str(error)
        return seen(view, t.thread_id)


def s_projections(client: SyncLangGraphClient, transport: str) -> str:
    """The sync twin reads several projections at once through `interleave_projections`."""
    view: dict[str, Any] = {"values": [], "messages": [], "tool_calls": []}
    with client.threads.stream(assistant_id="threads_agent", transport=transport) as t:
        view["run"] = t.run.start(input=QUESTION)
        streams, calls = [], []
        for name, item in t.interleave_projections(["values", "messages", "tool_calls"]):
            if name == "values":
                view["values"].append(item)
            elif name == "messages":
                streams.append(item)
            else:
                calls.append(item)
        view["messages"] = [[m.message_id, m.node, str(m.text)] for m in streams]
        view["tool_calls"] = [[c.tool_call_id, c.name, c.input, c.output] for c in calls]
        view["output"] = t.output
        return seen(view, t.thread_id)


def s_subgraphs(client: SyncLangGraphClient, transport: str) -> str:
    view: dict[str, Any] = {"subgraphs": [], "progress": []}
    with client.threads.stream(assistant_id="threads_subgraph", transport=transport) as t:
        view["run"] = t.run.start(input=QUESTION)
        for name, item in t.interleave_projections(["subgraphs", "progress"]):
            if name == "subgraphs":
                view["subgraphs"].append([item.graph_name, item.namespace])
            else:
                view["progress"].append(item)
        view["output"] = t.output
        return seen(view, t.thread_id)


ASYNC: dict[str, Callable[[LangGraphClient, str], Any]] = {
    "interrupt": a_interrupt,
    "failing": a_failing,
    "two_turns": a_two_turns,
    "reattach": a_reattach,
    "projections": a_projections,
    "subgraphs": a_subgraphs,
}
SYNC: dict[str, Callable[[SyncLangGraphClient, str], str]] = {
    "interrupt": s_interrupt,
    "failing": s_failing,
    "projections": s_projections,
    "subgraphs": s_subgraphs,
}


T = TypeVar("T")


def run_sdk(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, then a garbage collection that ignores unclosed sockets. langgraph_sdk
    0.4's WebSocket transport may cancel a subscription while `websockets` is still opening its
    socket; nothing closes that socket but the garbage collector, whose ResourceWarning would
    otherwise fail whichever test runs when it happens to collect (filterwarnings = error)."""
    try:
        return asyncio.run(main)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def run_async(scenario: str, url: str, transport: str = "sse") -> str:
    """One async scenario against `url` (a fresh client: the SDK's `get_client` caches one per
    URL across event loops)."""

    async def main() -> str:
        async with httpx.AsyncClient(base_url=url) as http:
            return str(await ASYNC[scenario](LangGraphClient(http), transport))

    return run_sdk(main())


def run_sync(scenario: str, url: str, transport: str = "sse") -> str:
    with httpx.Client(base_url=url) as http:
        return SYNC[scenario](SyncLangGraphClient(http), transport)
