"""The fake server's ASGI app: the replay engine's replies over HTTP.

Plain ASGI (no framework), so a replayed stream costs one `send` per piece and nothing else.
A request no recording answers gets HTTP 404 with a JSON body:

    {"detail": "No recorded interaction in ... matches POST /threads/.../runs/stream. ...",
     "closest": [{"cassette": ..., "interaction": 3, "request": ..., "differences": [...]}]}

and the header `lg-testkit-unmatched: true`. `GET /ok` and `GET /info` answer even when not
recorded (`/info` from the cassette's meta). Every answer allows any origin (CORS), and a
preflight `OPTIONS` is answered at once, so a browser page served elsewhere can use it.
Serving several cassettes, a consumer may pin the one its conversations come from: base URL
`http://host:port/_cassette/NAME/`, or the header `lg-testkit-cassette: NAME` (NAME: the
file name, its stem, or its path). A request body over 16 MB gets 413, unread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from lg_testkit.cassette import RecordedRequest, dumps_compact, parse_json
from lg_testkit.incoming import from_asgi
from lg_testkit.protocol import RouteKind, route, subscription_problem
from lg_testkit.replay.engine import UNMATCHED_HEADER, ReplayEngine
from lg_testkit.replay.playing import ConnectionDropped, send_plan
from lg_testkit.replay.tape import DROPPED
from lg_testkit.replay.threads import LiveStream, ThreadReplay, one_socket

__all__ = ["UNMATCHED_HEADER", "FakeServerApp"]

# A browser page on another origin may call the fake server, and read `Location` to reconnect.
_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    (b"access-control-expose-headers", b"location, content-location"),
    (b"access-control-max-age", b"600"),
]

MAX_BODY = 16 * 2**20  # bytes of a request body; LangGraph requests are far smaller

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class FakeServerApp:
    """ASGI app answering from `engine`."""

    def __init__(self, engine: ReplayEngine, *, speed: float | None = None) -> None:
        self.engine = engine
        self.speed = speed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        if body is None:  # no LangGraph request is this large: refuse before holding it
            detail = f"request body over {MAX_BODY // 2**20} MB; the fake server refuses it"
            content = dumps_compact({"detail": detail}).encode()
            headers = [(b"content-type", b"application/json"), *_CORS]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        if scope["method"] == "OPTIONS":  # a browser's CORS preflight: allow what it asks
            asked = _header(scope, b"access-control-request-headers") or "*"
            headers = [*_CORS, (b"access-control-allow-headers", asked.encode("latin-1"))]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        reply = self.engine.respond(from_asgi(scope, body), _header(scope, b"last-event-id"))
        headers = [pair for pair in reply.headers if not pair[0].startswith(b"access-control-")]
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": headers + _CORS}
        )
        if reply.plan is None and reply.live is None:
            await send({"type": "http.response.body", "body": reply.body})
            return
        dropped = False
        async with anyio.create_task_group() as playing:

            async def hang_up() -> None:  # a client gone stops its stream's playback
                while (await receive())["type"] != "http.disconnect":
                    pass
                playing.cancel_scope.cancel()

            playing.start_soon(hang_up)
            try:
                if reply.live is not None:
                    async for piece in reply.live:
                        await send({"type": "http.response.body", "body": piece, "more_body": True})
                else:
                    assert reply.plan is not None
                    await send_plan(send, reply.plan, self.speed)
            except (ConnectionDropped, httpx.RemoteProtocolError):
                dropped = True
            playing.cancel_scope.cancel()
        if dropped:
            raise ConnectionDropped(DROPPED)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The thread protocol over a WebSocket: every frame in is a command; subscriptions
        stream their events as JSON frames until unsubscribed or closed."""
        path = scope["path"]
        if route("POST", path).kind is not RouteKind.SUBSCRIPTION:
            await send({"type": "websocket.close", "code": 1008})
            return
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        commands = path.removesuffix("/stream/events") + "/commands"
        subscriptions: dict[str, LiveStream] = {}
        open_streams: list[LiveStream] = []  # all of the socket's, in the order subscribed
        replay: ThreadReplay | None = None

        async def text(value: Any) -> None:
            await send({"type": "websocket.send", "text": dumps_compact(value)})

        async def pump(replay: ThreadReplay) -> None:
            """Every subscription's events, merged in seq order, as one server socket sends."""
            try:
                async for frame in one_socket(replay, open_streams):
                    await send({"type": "websocket.send", "text": frame.decode()})
            except httpx.RemoteProtocolError:  # a drop fault: the connection dies
                with contextlib.suppress(OSError):
                    await send({"type": "websocket.close", "code": 1011})
            except OSError:  # the client is gone (uvicorn's ClientDisconnected)
                return

        async with anyio.create_task_group() as streams:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text") or (message.get("bytes") or b"").decode(
                    "utf-8", "replace"
                )
                command = parse_json(raw)
                if not isinstance(command, dict) or not isinstance(command.get("method"), str):
                    await text(_invalid(command))
                    continue
                method, params = command["method"], command.get("params")
                if method == "subscription.subscribe" and (why := subscription_problem(params)):
                    await text(_invalid(command, why))
                elif method == "subscription.subscribe":
                    replay = replay or self.engine.thread_replay(
                        RecordedRequest("POST", path, json=params)
                    )
                    if replay is None:
                        await text(_invalid(command, "no recorded thread to replay"))
                        continue
                    name = f"sub-{len(subscriptions) + 1}"
                    await text(
                        {
                            "type": "success",
                            "id": command.get("id"),
                            "result": {"subscription_id": name, "replayed_events": 0},
                        }
                    )
                    subscriptions[name] = replay.subscribe(params, "ws")
                    open_streams.append(subscriptions[name])
                    if len(open_streams) == 1:
                        streams.start_soon(pump, replay)
                elif method == "subscription.unsubscribe":
                    gone = params.get("subscription_id") if isinstance(params, dict) else None
                    if gone in subscriptions:
                        subscriptions.pop(gone).close()
                    await text({"type": "success", "id": command.get("id"), "result": {}})
                else:
                    reply = self.engine.respond(RecordedRequest("POST", commands, json=command))
                    await send({"type": "websocket.send", "text": reply.body.decode()})
            streams.cancel_scope.cancel()


def _invalid(command: Any, why: str = "") -> dict[str, Any]:
    return {
        "type": "error",
        "id": command.get("id") if isinstance(command, dict) else None,
        "error": "invalid_argument",
        "message": why or "Protocol commands must include an integer id and string method.",
    }


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None once it grows past MAX_BODY (nothing more is kept)."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        part = message.get("body", b"")
        size += len(part)
        if size > MAX_BODY:
            return None
        parts.append(part)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
