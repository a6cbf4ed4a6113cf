"""Planted secrets: a stand-in LangGraph server that echoes everything it is sent, and a client
that sends a credential in every place a real LangGraph client can.

The server answers `POST /threads` (with a `Set-Cookie`), `GET /threads/{id}` (echoing its query),
`POST /threads/{id}/runs/stream` (echoing headers, query, config and metadata into `values`, as
LangGraph puts request headers into run config and metadata, and streaming two answers 4
characters per `messages` chunk: one holding the configured secret, one the `x-api-key`) and
`GET /info`. Every stream it sends is valid under the event schemas, so recording runs with the
default (strict) validation.

Imported by tests/test_secrets.py and by the test files it writes for pytester.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

# One distinct value per placement; none is a substring of another.
SECRETS = {
    "x-api-key": "lsv2_pt_xapikey_5f0a1b2c3d4e",
    "authorization": "bearer-9c8b7a6d5e4f3a2b",
    "cookie": "cookie-7e6d5c4b3a2f1e0d",
    "x-langsmith-api-key": "lsv2_sk_langsmith_1a2b3c4d",
    "api-key": "azure-key-0f1e2d3c4b5a",
    "x-openai-api-key": "sk-openai-6a5b4c3d2e1f",
    "query api_key": "query-key-3c2b1a0f9e8d",
    "config.configurable.openai_api_key": "sk-config-8d7c6b5a4f3e",
    "metadata.token": "meta-token-2e1d0c9b8a7f",
    "set-cookie": "server-cookie-4b3a2918f7e6",
    "split across token events (configured)": "SPLIT-SECRET-9876-abcd",
}
CONFIGURED = SECRETS["split across token events (configured)"]
HEADERS = {  # what the client sends besides `x-api-key` (get_client(api_key=...))
    "Authorization": f"Bearer {SECRETS['authorization']}",
    "Cookie": f"sid={SECRETS['cookie']}; theme=dark",
    "X-LangSmith-Api-Key": SECRETS["x-langsmith-api-key"],
    "api-key": SECRETS["api-key"],
    "X-OpenAI-Api-Key": SECRETS["x-openai-api-key"],
}
SPLIT_TEXT = f"The code is {CONFIGURED}."  # streamed 4 characters per chunk
KEY_TEXT = f"Your key {SECRETS['x-api-key']} works"  # the echoed x-api-key, split the same way
PIECE = 4


def client(url: str) -> Any:
    """A langgraph_sdk client sending every credential header."""
    from langgraph_sdk import get_client

    return get_client(url=url, api_key=SECRETS["x-api-key"], headers=HEADERS)


async def drive_url(url: str) -> dict[str, Any]:
    """`drive` with a client of its own, closed when done."""
    async with client(url) as lg_client:
        return await drive(lg_client)


def plant_headers(lg_client: Any) -> None:
    """Give an existing client (the `lg_client` fixture) every credential header."""
    lg_client.http.client.headers.update({**HEADERS, "x-api-key": SECRETS["x-api-key"]})


async def drive(lg_client: Any) -> dict[str, Any]:
    """Send a secret in every place; return what the client got."""
    thread = await lg_client.threads.create(metadata={"token": SECRETS["metadata.token"]})
    thread_id = thread["thread_id"]
    fetched = await lg_client.http.get(
        f"/threads/{thread_id}", params={"api_key": SECRETS["query api_key"], "limit": "1"}
    )
    events = []
    async for part in lg_client.runs.stream(
        thread_id,
        "agent",
        input={"messages": [{"role": "human", "content": "what is the code?"}]},
        config={"configurable": {"openai_api_key": SECRETS["config.configurable.openai_api_key"]}},
        metadata={"token": SECRETS["metadata.token"]},
        stream_mode=["values", "messages-tuple"],
    ):
        events.append((part.event, part.data))
    return {"thread": thread, "fetched": fetched, "events": events}


def folded(events: list[tuple[str, Any]], message_id: str) -> str:
    """The text of a message streamed in `messages` chunks, joined."""
    return "".join(
        data[0]["content"]
        for name, data in events
        if name == "messages" and data[0].get("id") == message_id
    )


# -- the stand-in server ---------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app answering like a LangGraph server that echoes what it is sent."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    sent = json.loads(body) if body else {}
    method, path = scope["method"], scope["path"]
    parts = path.strip("/").split("/")
    if method == "GET" and path == "/info":
        await _json(send, {"version": "echo-0.1", "flags": {}})
    elif method == "POST" and path == "/threads":
        cookie = f"lgsession={SECRETS['set-cookie']}; Path=/; HttpOnly"
        await _json(send, _thread(str(uuid.uuid4()), sent.get("metadata", {})), cookie)
    elif method == "GET" and len(parts) == 2 and parts[0] == "threads":
        await _json(send, _thread(parts[1], {"asked": [value for _, value in query]}))
    elif method == "POST" and len(parts) == 4 and parts[2:] == ["runs", "stream"]:
        await _stream(send, parts[1], headers, query, sent)
    else:
        await _json(send, {"detail": f"not found: {method} {path}"}, status=404)


def _thread(thread_id: str, metadata: Any) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "metadata": metadata,
        "status": "idle",
        "config": {},
        "values": None,
        "interrupts": {},
    }


async def _json(send: Send, value: Any, cookie: str | None = None, status: int = 200) -> None:
    body = json.dumps(value).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if cookie:
        headers.append((b"set-cookie", cookie.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(
    send: Send, thread_id: str, headers: dict[str, str], query: list[Any], sent: dict[str, Any]
) -> None:
    run_id = str(uuid.uuid4())
    human = {"type": "human", "content": "what is the code?", "id": "msg-human-1"}
    configurable = dict((sent.get("config") or {}).get("configurable") or {})
    # What LangGraph does: x-* headers into the run's configurable, and from there its metadata.
    configurable.update({k: v for k, v in headers.items() if k.startswith("x-")})
    echo = [
        *headers.values(),  # every request header's value, under a name that says nothing
        *(value for _, value in query),
        f"the server got the key {SECRETS['x-api-key']} in a sentence",
        f"lgsession={SECRETS['set-cookie']}",  # the cookie it set, echoed back
        json.dumps(sent),  # the whole request body as text
    ]
    events: list[tuple[str, Any]] = [
        ("metadata", {"run_id": run_id, "attempt": 1}),
        (
            "values",
            {
                "messages": [human],
                "echo": echo,
                "config": {"configurable": configurable},
                "metadata": {**sent.get("metadata", {}), **configurable},
            },
        ),
    ]
    for message_id, text in (("msg-split-1", SPLIT_TEXT), ("msg-split-2", KEY_TEXT)):
        for start in range(0, len(text), PIECE):
            chunk = {
                "type": "AIMessageChunk",
                "content": text[start : start + PIECE],
                "id": message_id,
                "additional_kwargs": {},
                "response_metadata": {},
                "tool_calls": [],
                "invalid_tool_calls": [],
                "tool_call_chunks": [],
            }
            meta = {"langgraph_node": "agent", "langgraph_step": 1, "thread_id": thread_id}
            events.append(("messages", [chunk, meta]))
    answers = [
        {"type": "ai", "content": SPLIT_TEXT, "id": "msg-split-1"},
        {"type": "ai", "content": KEY_TEXT, "id": "msg-split-2"},
    ]
    events.append(("values", {"messages": [human, *answers]}))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
        }
    )
    for name, data in events:
        block = f"event: {name}\r\ndata: {json.dumps(data, separators=(',', ':'))}\r\n\r\n"
        await send({"type": "http.response.body", "body": block.encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b""})
