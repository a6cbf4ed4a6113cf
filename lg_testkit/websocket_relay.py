"""The recording proxy's WebSocket: relayed frame by frame both ways, recorded as the thread
protocol it carries.

The thread-centric protocol's `transport="websocket"` (the Python SDK's `client.threads.stream(
..., transport="websocket")`) upgrades `GET /threads/{id}/stream/events` and sends command
frames over it: `subscription.subscribe` (answered with a subscription id, then every matching
event as a JSON frame) and any other command (answered by its reply frame). The proxy opens the
same WebSocket to the target and passes each frame on the moment it arrives, in both directions,
before noting it. On a subscription path it records what the socket carried as the HTTP
recorder's captures (lg_testkit.recorder.Capture): each subscribe a subscription (`POST
.../stream/events`) receiving the event frames that follow it, each other command a `POST
.../commands` answered by its reply; the proxy folds them with the thread's HTTP traffic into one
event log per thread (lg_testkit.threadlog), so the cassette replays over a WebSocket or SSE.
Any other WebSocket path is relayed and not recorded.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx

from lg_testkit.cassette import parse_json
from lg_testkit.protocol import RouteKind, route
from lg_testkit.recorder import Capture
from lg_testkit.serving import HOP_BY_HOP

if TYPE_CHECKING:
    from lg_testkit.proxy import Receive, RecordingProxy, Scope, Send

__all__ = ["relay_websocket"]

# Hop-by-hop headers (RFC 9110 7.6.1), and the client's handshake, which is the proxy's own: the
# upstream one is made afresh.
_NOT_FORWARDED = HOP_BY_HOP | {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-accept",
    "content-length",
}


async def relay_websocket(
    proxy: RecordingProxy, scope: Scope, receive: Receive, send: Send
) -> None:
    """Relay a WebSocket to the target, frame by frame both ways, recording what it
    carries on a thread-protocol subscription path (see the module doc)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    if (await receive())["type"] != "websocket.connect":
        return
    path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    url = "ws" + proxy.target.removeprefix("http") + path + (f"?{query}" if query else "")
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in scope["headers"]
        if k.decode("latin-1").lower() not in _NOT_FORWARDED
    ]
    try:
        upstream = await connect(
            url,
            additional_headers=headers,
            subprotocols=scope.get("subprotocols") or None,
            user_agent_header=None,  # the client's own is forwarded
            proxy=None,
            max_size=None,
            open_timeout=10,
        )
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        status = exc.response.status_code if isinstance(exc, InvalidStatus) else 502
        await send({"type": "websocket.close", "code": 1008 if status < 500 else 1011})
        proxy.note(f"WS {path} -> upstream refused ({status}): {exc}")
        return
    socket = _SocketRecording(proxy, path, headers)
    try:
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
        await _relay(upstream, receive, send, socket)
    finally:
        await upstream.close()
        for capture in socket.finish():
            proxy.report(capture)
        proxy.note(f"WS {path} -> 101, {socket.frames[0]} frames in, {socket.frames[1]} out")
        await proxy.save()


_EVENT_PREFIX = '{"type":"event"'


class _SocketRecording:
    """What one relayed WebSocket carried, as the recorder's captures: each subscribe frame
    a subscription (POST .../stream/events) getting the event frames that follow it as SSE
    blocks, each other command frame a POST .../commands answered by its reply frame."""

    def __init__(self, proxy: RecordingProxy, path: str, headers: list[tuple[str, str]]) -> None:
        self.proxy = proxy
        self.recorded = route("POST", path).kind is RouteKind.SUBSCRIPTION
        self.stream_url = proxy.target + path
        self.commands_url = proxy.target + path.removesuffix("/stream/events") + "/commands"
        self.headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        self.subscription: Capture | None = None  # the latest: events are not tagged by it
        self.waiting: list[tuple[Any, Capture | None]] = []  # command ids awaiting a reply
        self.captures: list[Capture] = []
        self.frames = [0, 0]  # from the client, from the server

    def _capture(self, url: str, body: Any, content_type: str) -> Capture:
        request = httpx.Request("POST", url, json=body, headers=self.headers)
        capture = Capture(request, redaction=self.proxy.redaction)
        capture.start_response(httpx.Response(200, headers={"content-type": content_type}))
        self.proxy.captures.append(capture)
        self.captures.append(capture)
        return capture

    def from_client(self, text: str) -> None:
        self.frames[0] += 1
        command = parse_json(text) if self.recorded else None
        if not isinstance(command, dict) or not isinstance(command.get("method"), str):
            return
        if command["method"] == "subscription.subscribe":
            params = command.get("params") if isinstance(command.get("params"), dict) else {}
            self.subscription = self._capture(
                self.stream_url, params, "text/event-stream; charset=utf-8"
            )
            self.waiting.append((command.get("id"), None))  # its reply is the socket's own
        elif command["method"] != "subscription.unsubscribe":
            capture = self._capture(self.commands_url, command, "application/json")
            self.waiting.append((command.get("id"), capture))

    def from_server(self, text: str) -> None:
        self.frames[1] += 1
        if not self.recorded:
            return
        if text.startswith(_EVENT_PREFIX) or '"type":"event"' in text[:200]:
            if self.subscription is not None:
                self.subscription.chunk(f"data: {text}\n\n".encode())
                self.proxy.touch()
            return
        reply = parse_json(text)
        if not isinstance(reply, dict) or "id" not in reply:
            return
        for n, (command_id, capture) in enumerate(self.waiting):
            if command_id == reply["id"]:
                del self.waiting[n]
                if capture is not None:
                    capture.chunk(text.encode())
                    capture.finish(cut_short=False)
                    self.proxy.report(capture)
                return

    def finish(self) -> list[Capture]:
        """Finish what is still open (subscriptions end when the socket does)."""
        open_ = [c for c in self.captures if c.interaction is None]
        for capture in open_:
            capture.finish(cut_short=True)
        return [c for c in open_ if c.is_stream]


async def _relay(upstream: Any, receive: Receive, send: Send, socket: _SocketRecording) -> None:
    """Frames both ways until either side closes; the other is closed alike."""
    from websockets.exceptions import ConnectionClosed

    async def client_to_upstream() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(_sendable(message.get("code", 1000)), "")
                return
            if message.get("text") is not None:
                await upstream.send(message["text"])  # first, then note it
                socket.from_client(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])

    async def upstream_to_client() -> None:
        try:
            async for frame in upstream:
                if isinstance(frame, str):
                    await send({"type": "websocket.send", "text": frame})
                    socket.from_server(frame)
                else:
                    await send({"type": "websocket.send", "bytes": frame})
        except ConnectionClosed:
            pass
        code = _sendable(upstream.close_code or 1000)
        await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})

    tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, OSError | ConnectionClosed):
                raise result


def _sendable(code: int) -> int:
    """A close code one may send: 1005 (none given) and 1006 (no close frame) are only ever
    reported, never sent."""
    return {1005: 1000, 1006: 1011}.get(code, code)
