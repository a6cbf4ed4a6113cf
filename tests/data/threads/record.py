"""Record the thread-centric protocol off a real `langgraph dev`, byte for byte.

    .venv/bin/python tests/data/threads/record.py               # every scenario, own dev server
    .venv/bin/python tests/data/threads/record.py --url http://127.0.0.1:2024 events_async_sse
    .venv/bin/python tests/data/threads/record.py --list

Each scenario drives the Python SDK's `client.threads.stream(...)` (or raw HTTP / WebSocket for
the protocol-error scenarios) at a recording relay (`wire.Relay`) in front of the server, then
writes `<out>/<scenario>.json`: every HTTP exchange (commands and their replies, every
`stream/events` subscription's request body and its raw SSE chunks with arrival times, the
`GET .../state` calls), every WebSocket frame both ways, and what the SDK handed the caller.
The file format is described in README.md beside this script. The server is started from
tests/graphs (the `threads_*` graphs, fake chat models, no network) unless --url is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from wire import DropRule, Relay, assemble  # noqa: E402

ROOT = HERE.parents[2]
GRAPHS = ROOT / "tests" / "graphs"
FORMAT = "lg-testkit/threads-wire-capture/1"

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
FOLLOW_UP = {"messages": [{"role": "human", "content": "and tomorrow?"}]}
TERMINAL = {"completed", "failed", "interrupted"}


def _root_lifecycle(event: dict[str, Any]) -> str | None:
    params = event.get("params") or {}
    if event.get("method") != "lifecycle" or params.get("namespace"):
        return None
    return (params.get("data") or {}).get("event")


def _brief(event: dict[str, Any]) -> list[Any]:
    """What a consumer saw of one event: [seq, event_id, method, namespace, data kind]."""
    params = event.get("params") or {}
    data = params.get("data")
    kind = data.get("event") if isinstance(data, dict) and "event" in data else None
    return [
        event.get("seq"),
        event.get("event_id"),
        event.get("method"),
        params.get("namespace"),
        kind,
    ]


def _safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@dataclass
class Scenario:
    name: str
    graph: str | None
    api: str  # "async" | "sync" | "raw"
    transport: str  # "sse" | "websocket" | "http+websocket"
    description: str
    run: Callable[[str], Any]  # base url -> what the caller saw
    drop: DropRule | None = None
    grace: float = 3.0


SCENARIOS: dict[str, Scenario] = {}
TIME_LIMIT = 60.0  # seconds a scenario may take before it is recorded as hung


def _bounded(run: Callable[[str], Any]) -> Callable[[str], Any]:
    """`run` in a worker thread: a client that hangs is recorded as such, not waited on."""

    def bounded(url: str) -> Any:
        import threading

        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["view"] = run(url)
            except BaseException as err:  # noqa: BLE001 - reported by record()
                outcome["error"] = err

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(TIME_LIMIT)
        if worker.is_alive():
            raise TimeoutError(f"the client did not finish within {TIME_LIMIT:.0f} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("view")

    return bounded


def scenario(
    name: str, graph: str | None, api: str, transport: str, description: str, **kw: Any
) -> Callable[[Callable[[str], Any]], Callable[[str], Any]]:
    def register(run: Callable[[str], Any]) -> Callable[[str], Any]:
        SCENARIOS[name] = Scenario(name, graph, api, transport, description, _bounded(run), **kw)
        return run

    return register


# -- async SDK ------------------------------------------------------------------------------


async def _events_async(
    url: str, graph: str, transport: str, respond: Any = None
) -> dict[str, Any]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {"events": []}
    async with client.threads.stream(assistant_id=graph, transport=transport) as thread:
        view["thread_id"] = thread.thread_id
        events = thread.events
        view["run"] = await thread.run.start(input=_input(graph))
        async for event in events:
            view["events"].append(_brief(event))
            phase = _root_lifecycle(event)
            if phase == "interrupted" and respond is not None:
                # the lifecycle watcher sets `interrupts` from its own stream: wait for it
                for _ in range(200):
                    if thread.interrupts:
                        break
                    await asyncio.sleep(0.01)
                view["interrupts"] = _safe(thread.interrupts)
                view["respond"] = await thread.run.respond(respond)
                respond = None
                continue
            if phase in TERMINAL:
                break
        try:
            view["output"] = _safe(await thread.output.with_timeout(10))
        except Exception as err:  # the failing graph
            view["output_error"] = repr(err)
    return view


def _input(graph: str) -> Any:
    if graph == "threads_interrupt":
        return {"question": "deploy to prod?"}
    if graph == "threads_failing":
        return {"value": "start"}
    return QUESTION


async def _projections_async(url: str, transport: str) -> dict[str, Any]:
    """values, messages and tool_calls at once: the shared stream widens twice."""
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_agent", transport=transport) as thread:
        view["thread_id"] = thread.thread_id
        view["run"] = await thread.run.start(input=QUESTION)

        async def values() -> list[int]:
            return [len(snapshot.get("messages", [])) async for snapshot in thread.values]

        # A projection feeds the streams it yields only while it is iterated: await their
        # text / output after the loop (or in tasks), never inside it.
        async def messages() -> list[str]:
            streams = [message async for message in thread.messages]
            return [str(await message.text) for message in streams]

        async def tool_calls() -> list[Any]:
            calls = [call async for call in thread.tool_calls]
            return [[call.name, call.input, _safe(await call.output)] for call in calls]

        view["values"], view["messages"], view["tool_calls"] = await asyncio.gather(
            values(), messages(), tool_calls()
        )
        view["output"] = _safe(await thread.output.with_timeout(10))
    return view


async def _subgraphs_async(url: str, transport: str) -> dict[str, Any]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {}
    async with client.threads.stream(
        assistant_id="threads_subgraph", transport=transport
    ) as thread:
        view["thread_id"] = thread.thread_id
        view["run"] = await thread.run.start(input=QUESTION)

        async def subgraphs() -> list[Any]:
            async def texts(handle: Any) -> list[str]:
                streams = [message async for message in handle.messages]
                return [str(await message.text) for message in streams]

            handles, readers = [], []
            async for handle in thread.subgraphs:
                handles.append(handle)
                readers.append(asyncio.ensure_future(texts(handle)))
            found = await asyncio.gather(*readers)
            return [
                [h.graph_name, h.namespace, h.status, t]
                for h, t in zip(handles, found, strict=True)
            ]

        async def progress() -> list[Any]:
            return [_safe(item) async for item in thread.extensions["progress"]]

        view["subgraphs"], view["progress"] = await asyncio.gather(subgraphs(), progress())
        view["output"] = _safe(await thread.output.with_timeout(10))
    return view


async def _interrupt_async(url: str, transport: str) -> dict[str, Any]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {}
    async with client.threads.stream(
        assistant_id="threads_interrupt", transport=transport
    ) as thread:
        view["thread_id"] = thread.thread_id
        view["run"] = await thread.run.start(input={"question": "deploy to prod?"})
        view["values_before"] = [_safe(s) async for s in thread.values]
        view["interrupted"] = thread.interrupted
        view["interrupts"] = _safe(thread.interrupts)
        view["respond"] = await thread.run.respond({"approved": True})
        view["output"] = _safe(await thread.output.with_timeout(10))
        view["interrupted_after"] = thread.interrupted
    return view


async def _two_turns_async(url: str) -> dict[str, Any]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {"turns": []}
    async with client.threads.stream(assistant_id="threads_agent") as thread:
        view["thread_id"] = thread.thread_id
        events = thread.events
        for question in (QUESTION, FOLLOW_UP):
            turn: dict[str, Any] = {"run": await thread.run.start(input=question), "events": []}
            async for event in events:
                turn["events"].append(_brief(event))
                if _root_lifecycle(event) in TERMINAL:
                    break
            view["turns"].append(turn)
        output = _safe(await thread.output.with_timeout(10))
        view["output_messages"] = len(output["messages"])
    return view


async def _reattach_async(url: str) -> dict[str, Any]:
    """Run on a thread, leave; then reattach by explicit thread_id and read it again."""
    from langgraph_sdk import get_client

    client = get_client(url=url)
    view: dict[str, Any] = {}
    async with client.threads.stream(assistant_id="threads_agent") as thread:
        thread_id = thread.thread_id
        view["thread_id"] = thread_id
        view["run"] = await thread.run.start(input=QUESTION)
        view["first_output_messages"] = len((await thread.output.with_timeout(10))["messages"])
    await asyncio.sleep(0.3)
    async with client.threads.stream(thread_id, assistant_id="threads_agent") as again:
        view["reattached_output_messages"] = len((await again.output.with_timeout(10))["messages"])
        replayed = []
        async for event in again.events:
            replayed.append(_brief(event))
            if _root_lifecycle(event) in TERMINAL:
                break
        view["replayed"] = replayed
    return view


# -- sync SDK -------------------------------------------------------------------------------


def _events_sync(url: str, graph: str, transport: str, respond: Any = None) -> dict[str, Any]:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url)
    view: dict[str, Any] = {"events": []}
    with client.threads.stream(assistant_id=graph, transport=transport) as thread:
        view["thread_id"] = thread.thread_id
        events = thread.events
        view["run"] = thread.run.start(input=_input(graph))
        while True:
            for event in events:
                view["events"].append(_brief(event))
                if _root_lifecycle(event) in TERMINAL:
                    break
            # The sync `events` is a subscription on the shared stream: the lifecycle watcher
            # ends it (a None sentinel) on `input.requested`, maybe before the root
            # `interrupted` event. Respond, then subscribe again for the resumed run.
            if respond is None or not thread.interrupted:
                break
            view["interrupts"] = _safe(thread.interrupts)
            view["respond"] = thread.run.respond(respond)
            respond = None
            view["events"].append("-- resubscribed --")
            events = thread.events
        try:
            view["output"] = _safe(thread.output)
        except Exception as err:
            view["output_error"] = repr(err)
    return view


def _projections_sync(url: str, transport: str) -> dict[str, Any]:
    """values then messages then tool_calls, one after another (the sync SDK has no gather)."""
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url)
    view: dict[str, Any] = {}
    with client.threads.stream(assistant_id="threads_agent", transport=transport) as thread:
        view["thread_id"] = thread.thread_id
        view["run"] = thread.run.start(input=QUESTION)
        view["values"] = [len(s.get("messages", [])) for s in thread.values]
        view["output"] = _safe(thread.output)
    return view


# -- the scenarios --------------------------------------------------------------------------

for _api in ("async", "sync"):
    for _transport in ("sse", "websocket"):
        _tag = "ws" if _transport == "websocket" else "sse"
        _fn = _events_async if _api == "async" else _events_sync

        def _make(graph: str, respond: Any = None, fn: Any = _fn, tr: str = _transport) -> Any:
            if fn is _events_async:
                return lambda url: asyncio.run(fn(url, graph, tr, respond))
            return lambda url: fn(url, graph, tr, respond)

        scenario(
            f"events_{_api}_{_tag}",
            "threads_agent",
            _api,
            _transport,
            "thread.events over a tool-calling agent with token streaming, then thread.output",
        )(_make("threads_agent"))
        scenario(
            f"interrupt_events_{_api}_{_tag}",
            "threads_interrupt",
            _api,
            _transport,
            "thread.events through an interrupt, thread.run.respond (input.respond), the resumed "
            "run, then thread.output",
        )(_make("threads_interrupt", {"approved": True}))
        scenario(
            f"failing_events_{_api}_{_tag}",
            "threads_failing",
            _api,
            _transport,
            "thread.events of a run that fails (root lifecycle `failed`); thread.output raises",
        )(_make("threads_failing"))

for _transport in ("sse", "websocket"):
    _tag = "ws" if _transport == "websocket" else "sse"
    scenario(
        f"projections_async_{_tag}",
        "threads_agent",
        "async",
        _transport,
        "thread.values, thread.messages (token text) and thread.tool_calls iterated at once: the "
        "shared stream is reopened wider for each projection",
    )(lambda url, tr=_transport: asyncio.run(_projections_async(url, tr)))
    scenario(
        f"subgraphs_async_{_tag}",
        "threads_subgraph",
        "async",
        _transport,
        "thread.subgraphs (each child's messages) and thread.extensions['progress'] at once",
    )(lambda url, tr=_transport: asyncio.run(_subgraphs_async(url, tr)))
    scenario(
        f"interrupt_values_async_{_tag}",
        "threads_interrupt",
        "async",
        _transport,
        "thread.values until the interrupt, thread.interrupted / interrupts, "
        "thread.run.respond, thread.output",
    )(lambda url, tr=_transport: asyncio.run(_interrupt_async(url, tr)))

scenario(
    "projections_sync_sse",
    "threads_agent",
    "sync",
    "sse",
    "sync thread.values then thread.output",
)(lambda url: _projections_sync(url, "sse"))
scenario(
    "two_turns_async_sse",
    "threads_agent",
    "async",
    "sse",
    "two run.start on one thread, thread.events read across both",
)(lambda url: asyncio.run(_two_turns_async(url)))
scenario(
    "reattach_async_sse",
    "threads_agent",
    "async",
    "sse",
    "a finished thread reopened with an explicit thread_id: thread.output, thread.events replay",
)(lambda url: asyncio.run(_reattach_async(url)))
scenario(
    "reconnect_async_sse",
    "threads_agent",
    "async",
    "sse",
    "projections as in projections_async_sse, with the relay cutting the widest shared stream "
    "(channels lifecycle, messages, tools, values) after 12 events: the SDK reconnects with "
    "`since`",
    drop=DropRule(needle=b'"tools","values"', after_events=12),
)(lambda url: asyncio.run(_projections_async(url, "sse")))


# -- raw protocol: errors, since, heartbeats ------------------------------------------------


async def _post(
    client: httpx.AsyncClient, path: str, body: Any, raw: bytes | None = None
) -> dict[str, Any]:
    content = raw if raw is not None else json.dumps(body).encode()
    response = await client.post(
        path, content=content, headers={"content-type": "application/json"}
    )
    try:
        reply = response.json()
    except ValueError:
        reply = response.text
    return {"status": response.status_code, "reply": reply}


async def _read_stream(
    client: httpx.AsyncClient,
    path: str,
    body: Any,
    *,
    seconds: float,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Read an SSE subscription for `seconds` (or until `until(event)`), then close it."""
    events: list[Any] = []
    comments = 0
    async with client.stream(
        "POST",
        path,
        content=b"{" if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": "text/event-stream"},
    ) as response:
        if response.status_code != 200:
            await response.aread()
            try:
                return {"status": response.status_code, "reply": response.json()}
            except ValueError:
                return {"status": response.status_code, "reply": response.text}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for line in response.aiter_lines():
                    if line.startswith(":"):
                        comments += 1
                    elif line.startswith("data: "):
                        event = json.loads(line[6:])
                        events.append([event["seq"], event["event_id"], event["method"]])
                        if until is not None and until(event):
                            break
    return {"status": 200, "events": events, "comments": comments}


async def _first_interrupt(client: httpx.AsyncClient, thread_id: str) -> str:
    async with client.stream(
        "POST",
        f"/threads/{thread_id}/stream/events",
        content=json.dumps({"channels": ["input"]}).encode(),
        headers={"content-type": "application/json"},
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                return str(json.loads(line[6:])["params"]["data"]["interrupt_id"])
    raise RuntimeError("no input.requested event")


@scenario(
    "protocol_errors_http",
    "threads_interrupt",
    "raw",
    "http",
    "raw HTTP: command errors (unknown_command, state.get, agent.getTree, subscribe over HTTP, "
    "malformed JSON, a string id, no method, no assistant_id, an unknown assistant, "
    "input.respond without a run, a wrong and a consumed interrupt_id), subscription errors "
    "(bad channel, empty channels, malformed JSON), an unknown thread's stream held open 11 s "
    "(heartbeats), then on a finished thread: everything, `since`, and namespaces/depth 0",
)
def _protocol_errors_http(url: str) -> dict[str, Any]:
    return asyncio.run(_protocol_errors_http_async(url))


async def _protocol_errors_http_async(url: str) -> dict[str, Any]:
    view: dict[str, Any] = {}
    fresh = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        cmd = f"/threads/{fresh}/commands"
        view["unknown_command"] = await _post(
            client, cmd, {"id": 1, "method": "nope.nothing", "params": {}}
        )
        view["state_get"] = await _post(
            client, cmd, {"id": 2, "method": "state.get", "params": {"namespace": []}}
        )
        view["agent_get_tree"] = await _post(
            client, cmd, {"id": 3, "method": "agent.getTree", "params": {}}
        )
        view["subscribe_over_http"] = await _post(
            client,
            cmd,
            {
                "id": 4,
                "method": "subscription.subscribe",
                "params": {"channels": ["values"]},
            },
        )
        view["malformed_json"] = await _post(client, cmd, None, raw=b"{not json")
        view["string_id"] = await _post(
            client, cmd, {"id": "one", "method": "run.start", "params": {}}
        )
        view["missing_method"] = await _post(client, cmd, {"id": 5, "params": {}})
        view["run_start_no_assistant"] = await _post(
            client, cmd, {"id": 6, "method": "run.start", "params": {"input": {}}}
        )
        view["run_start_unknown_assistant"] = await _post(
            client,
            cmd,
            {
                "id": 7,
                "method": "run.start",
                "params": {"assistant_id": "no_such_graph", "input": {}},
            },
        )
        view["respond_without_run"] = await _post(
            client,
            cmd,
            {
                "id": 8,
                "method": "input.respond",
                "params": {"interrupt_id": "nope", "namespace": [], "response": 1},
            },
        )
        events = f"/threads/{fresh}/stream/events"
        # langgraph-api answers these with 400; the JS server opens a stream for some
        view["bad_channel"] = await _read_stream(
            client, events, {"channels": ["values", "bogus"]}, seconds=1.5
        )
        view["empty_channels"] = await _read_stream(client, events, {"channels": []}, seconds=1.5)
        view["stream_malformed_json"] = await _read_stream(client, events, None, seconds=1.5)
        view["unknown_thread_stream"] = await _read_stream(
            client,
            f"/threads/{uuid.uuid4()}/stream/events",
            {"channels": ["lifecycle", "values"]},
            seconds=11,
        )
        # an interrupted thread: a wrong interrupt id, the right one, the right one again
        thread = str(uuid.uuid4())
        cmd = f"/threads/{thread}/commands"
        stream = f"/threads/{thread}/stream/events"
        view["interrupt_run"] = await _post(
            client,
            cmd,
            {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "threads_interrupt", "input": {"question": "ship?"}},
            },
        )
        view["until_interrupted"] = await _read_stream(
            client,
            stream,
            {"channels": ["lifecycle", "input"]},
            seconds=15,
            until=lambda e: _root_lifecycle(e) in TERMINAL,
        )
        view["no_such_interrupt"] = await _post(
            client,
            cmd,
            {
                "id": 2,
                "method": "input.respond",
                "params": {"interrupt_id": "not-an-interrupt", "namespace": [], "response": True},
            },
        )
        interrupt_id = await _first_interrupt(client, thread)
        view["respond"] = await _post(
            client,
            cmd,
            {
                "id": 3,
                "method": "input.respond",
                "params": {
                    "interrupt_id": interrupt_id,
                    "namespace": [],
                    "response": {"approved": True},
                },
            },
        )
        view["after_respond"] = await _read_stream(
            client,
            stream,
            {"channels": ["lifecycle"]},
            seconds=15,
            until=lambda e: _root_lifecycle(e) == "completed",
        )
        view["respond_again"] = await _post(
            client,
            cmd,
            {
                "id": 4,
                "method": "input.respond",
                "params": {"interrupt_id": interrupt_id, "namespace": [], "response": 1},
            },
        )
        # a finished thread: its whole log, after `since`, and scoped to the root
        channels = ["lifecycle", "values", "updates", "input"]
        everything = await _read_stream(client, stream, {"channels": channels}, seconds=1.5)
        view["all_after_finish"] = everything
        pivot = everything["events"][2][0] if len(everything.get("events", [])) > 2 else 1
        view["since_pivot"] = pivot
        view["since"] = await _read_stream(
            client, stream, {"channels": channels, "since": pivot}, seconds=1.5
        )
        view["namespaced_depth0"] = await _read_stream(
            client,
            stream,
            {"channels": ["values"], "namespaces": [[]], "depth": 0},
            seconds=1.5,
        )
    return view


@scenario(
    "protocol_websocket",
    "threads_agent",
    "raw",
    "websocket",
    "raw WebSocket on /threads/{id}/stream/events: malformed JSON, unknown command, bad id, "
    "bad channel, unsubscribe of an unknown id, subscribe, run.start over the socket, events, "
    "unsubscribe, a second subscription with `namespaces`/`depth` (replayed), a third with "
    "`since` (not in SubscribeParams), state.get, then a client close",
)
def _protocol_websocket(url: str) -> dict[str, Any]:
    return asyncio.run(_protocol_websocket_async(url))


async def _protocol_websocket_async(url: str) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    thread_id = str(uuid.uuid4())
    ws_url = url.replace("http://", "ws://") + f"/threads/{thread_id}/stream/events"
    view: dict[str, Any] = {"thread_id": thread_id, "received": []}

    async def ask(ws: Any, frame: str) -> Any:
        await ws.send(frame)
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 3))
        except TimeoutError:  # the JS server leaves some commands unanswered
            reply = {"no_reply_within_s": 3}
        view["received"].append(reply)
        return reply

    async with connect(ws_url) as ws:
        await ask(ws, "{not json")
        await ask(ws, json.dumps({"id": 1, "method": "nope.nothing", "params": {}}))
        await ask(ws, json.dumps({"id": "x", "method": "run.start", "params": {}}))
        await ask(
            ws,
            json.dumps(
                {"id": 2, "method": "subscription.subscribe", "params": {"channels": ["bogus"]}}
            ),
        )
        await ask(
            ws,
            json.dumps(
                {
                    "id": 3,
                    "method": "subscription.unsubscribe",
                    "params": {"subscription_id": "nope"},
                }
            ),
        )
        sub = await ask(
            ws,
            json.dumps(
                {
                    "id": 4,
                    "method": "subscription.subscribe",
                    "params": {"channels": ["lifecycle", "messages", "tools"]},
                }
            ),
        )
        await ws.send(
            json.dumps(
                {
                    "id": 5,
                    "method": "run.start",
                    "params": {"assistant_id": "threads_agent", "input": QUESTION},
                }
            )
        )
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
            view["received"].append(_brief(frame) if frame.get("type") == "event" else frame)
            if frame.get("type") == "event" and _root_lifecycle(frame) in TERMINAL:
                break
        subscription_id = (sub.get("result") or {}).get("subscription_id")
        await ask(
            ws,
            json.dumps(
                {
                    "id": 6,
                    "method": "subscription.unsubscribe",
                    "params": {"subscription_id": subscription_id},
                }
            ),
        )
        await ws.send(
            json.dumps(
                {
                    "id": 7,
                    "method": "subscription.subscribe",
                    "params": {"channels": ["values"], "namespaces": [[]], "depth": 0},
                }
            )
        )
        with contextlib.suppress(TimeoutError):
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                view["received"].append(_brief(frame) if frame.get("type") == "event" else frame)
        await ws.send(
            json.dumps(
                {
                    "id": 8,
                    "method": "subscription.subscribe",
                    "params": {"channels": ["lifecycle"], "since": 30},
                }
            )
        )
        with contextlib.suppress(TimeoutError):
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                view["received"].append(_brief(frame) if frame.get("type") == "event" else frame)
        await ask(ws, json.dumps({"id": 9, "method": "state.get", "params": {"namespace": []}}))
    return view


# -- running --------------------------------------------------------------------------------


def _versions(url: str) -> dict[str, Any]:
    info = httpx.get(f"{url}/info", timeout=10).json()
    if info.get("context") == "js":
        return {
            "implementation": "@langchain/langgraph-api (langgraphjs dev, in-memory)",
            "langgraph_api_js": info.get("version"),
            "langgraph_js": info.get("langgraph_js_version"),
            "info": info,
        }
    return {
        "implementation": "langgraph-api (langgraph dev, in-memory runtime)",
        "langgraph_api": importlib.metadata.version("langgraph-api"),
        "langgraph": importlib.metadata.version("langgraph"),
        "langgraph_runtime_inmem": importlib.metadata.version("langgraph-runtime-inmem"),
        "langchain_core": importlib.metadata.version("langchain-core"),
        "info": info,
    }


def record(item: Scenario, server_url: str, server: dict[str, Any], out: Path) -> Path:
    parsed = urllib.parse.urlsplit(server_url)
    relay = Relay(parsed.hostname or "127.0.0.1", parsed.port or 80, drop=item.drop).start()
    error = None
    view: Any = None
    try:
        view = item.run(relay.url)
    except Exception as err:  # recorded, and reported
        error = repr(err)
    finally:
        connections = relay.stop(item.grace)
    capture = {
        "format": FORMAT,
        "scenario": item.name,
        "description": item.description,
        "graph": item.graph,
        "client": {
            "library": "langgraph_sdk" if item.api != "raw" else "httpx / websockets",
            "langgraph_sdk": importlib.metadata.version("langgraph-sdk"),
            "api": item.api,
            "transport": item.transport,
        },
        "server": server,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fault": None
        if item.drop is None
        else {
            "kind": "drop",
            "needle": item.drop.needle.decode(),
            "after_events": item.drop.after_events,
        },
        "client_view": _safe(view),
        "client_error": error,
        "connections": [
            {
                "id": c.id,
                "opened": round(c.opened, 4),
                "closed": None if c.closed is None else round(c.closed, 4),
                "client_eof": None if "client" not in c.eof else round(c.eof["client"], 4),
                "server_eof": None if "server" not in c.eof else round(c.eof["server"], 4),
                "dropped": c.dropped,
                "cut_at_stop": c.stopped,
            }
            for c in connections
        ],
        "exchanges": assemble(connections),
    }
    path = out / f"{item.name}.json"
    path.write_text(_dump(capture), "utf-8")
    return path


def _dump(capture: dict[str, Any]) -> str:
    """JSON with one exchange per block and one chunk / frame per line: readable diffs."""
    head = {k: v for k, v in capture.items() if k != "exchanges"}
    lines = [json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "exchanges": [']
    parts = []
    for exchange in capture["exchanges"]:
        body = {k: v for k, v in exchange.items() if k not in ("response", "frames")}
        text = "  {" + json.dumps(body, ensure_ascii=False)[1:-1]
        response = exchange.get("response")
        if response is not None:
            chunks = response["chunks"]
            rest = {k: v for k, v in response.items() if k != "chunks"}
            text += ',\n   "response": {' + json.dumps(rest, ensure_ascii=False)[1:-1]
            text += (
                ',\n    "chunks": ['
                + ",".join("\n     " + json.dumps(chunk, ensure_ascii=False) for chunk in chunks)
                + ("\n    ]}" if chunks else "]}")
            )
        else:
            text += ',\n   "response": null'
        if "frames" in exchange:
            text += (
                ',\n   "frames": ['
                + ",".join(
                    "\n    " + json.dumps(frame, ensure_ascii=False) for frame in exchange["frames"]
                )
                + "\n   ]"
            )
        parts.append(text + "}")
    lines.append(",\n".join(parts))
    lines.append(" ]\n}\n")
    text = "\n".join(lines)
    json.loads(text)  # the hand-built layout is still one JSON document
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="names (default: all)")
    parser.add_argument(
        "--url", help="a running server (default: start langgraph dev on tests/graphs)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder (default: ./<langgraph-api version>)"
    )
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for item in SCENARIOS.values():
            print(f"{item.name:34} {item.description}")
        return 0
    chosen = (
        [SCENARIOS[name] for name in args.scenarios] if args.scenarios else list(SCENARIOS.values())
    )
    out = args.out or HERE / importlib.metadata.version("langgraph-api")
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            sys.path.insert(0, str(ROOT))
            from lg_testkit.devserver import DevServer

            url = stack.enter_context(DevServer(GRAPHS)).url
        server = _versions(url)
        failures = 0
        for item in chosen:
            path = record(item, url, server, out)
            capture = json.loads(path.read_text("utf-8"))
            status = (
                "ok"
                if capture["client_error"] is None
                else f"CLIENT ERROR {capture['client_error']}"
            )
            failures += capture["client_error"] is not None
            print(f"{item.name:34} {len(capture['exchanges']):3} exchanges  {status}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
