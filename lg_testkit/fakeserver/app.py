"""The fake server's ASGI app: recorded answers, streamed chunk by chunk, with ids bound.

Plain ASGI (no framework), so a replayed stream costs one `send` per chunk and nothing else.
A request no recording answers gets HTTP 404 with a JSON body:

    {"detail": "No recorded interaction in ... matches POST /threads/.../runs/stream. ...",
     "closest": [{"cassette": ..., "interaction": 3, "request": ..., "differences": [...]}]}

and the header `lg-testkit-unmatched: true`, so in-process clients can turn it into a failure.
`GET /ok` and `GET /info` answer even when not recorded (`/info` from the cassette's meta).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from lg_testkit.cassette import NOT_JSON, RecordedRequest, RecordedStream, parse_json
from lg_testkit.fakeserver.conversations import Answer, Conversations, Unmatched
from lg_testkit.fakeserver.faults import Faults, check_chunking
from lg_testkit.fakeserver.playback import Tape, play
from lg_testkit.redaction import redact_headers

__all__ = ["UNMATCHED_HEADER", "FakeServerApp", "request_from_asgi"]

UNMATCHED_HEADER = "lg-testkit-unmatched"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def request_from_asgi(scope: Scope, body: bytes) -> RecordedRequest:
    """The cassette form of an incoming request, as the recorder would have written it."""
    text = body.decode("utf-8", "surrogateescape")
    parsed = parse_json(text) if text else NOT_JSON
    query = scope.get("query_string", b"").decode("latin-1")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        query=[[k, v] for k, v in parse_qsl(query, keep_blank_values=True)],
        headers=redact_headers(headers),
        json=None if parsed is NOT_JSON else parsed,
        body=text if parsed is NOT_JSON and text else None,
    )


class FakeServerApp:
    """ASGI app answering from `conversations`; `unmatched` lists what it could not answer."""

    def __init__(
        self,
        conversations: Conversations,
        *,
        chunking: str = "recorded",
        speed: float | None = None,
        faults: Faults | None = None,
        server_info: Any = None,
    ) -> None:
        self.conversations = conversations
        self.chunking = check_chunking(chunking)
        self.speed = speed
        self.faults = faults or Faults()
        self.server_info = server_info
        self.unmatched: list[Unmatched] = []
        self.log: list[str] = []  # "METHOD /path [Last-Event-ID] -> status", in order
        self._lock = threading.Lock()  # in-process and loopback clients may share one server
        self._tapes: dict[int, tuple[RecordedStream, Tape]] = {}

    def reset(self) -> None:
        with self._lock:
            self.conversations.reset()
            self.unmatched.clear()
            self.log.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        request = request_from_asgi(scope, body)
        last_event_id = _header(scope, b"last-event-id")
        with self._lock:
            answer = self.conversations.answer(request, last_event_id)
            if isinstance(answer, Unmatched) and not self._fallback(request):
                self.unmatched.append(answer)
            resumed = f" [Last-Event-ID: {last_event_id}]" if last_event_id else ""
            status = (
                answer.recorded.interaction.response.status
                if isinstance(answer, Answer)
                else (200 if self._fallback(request) is not None else 404)
            )
            self.log.append(f"{request.label}{resumed} -> {status}")
        if isinstance(answer, Answer):
            await self._send_answer(answer, send)
        elif (fallback := self._fallback(request)) is not None:
            await _send_json(send, 200, fallback)
        else:
            await _send_json(
                send,
                404,
                {"detail": answer.text, "closest": answer.closest},
                [(UNMATCHED_HEADER.encode(), b"true")],
            )

    def _fallback(self, request: RecordedRequest) -> Any:
        if request.method == "GET" and request.path == "/ok":
            return {"ok": True}
        if request.method == "GET" and request.path == "/info" and self.server_info:
            return self.server_info
        return None

    async def _send_answer(self, answer: Answer, send: Send) -> None:
        response = answer.recorded.interaction.response
        bindings = answer.bindings
        headers = [
            (name.encode("latin-1"), bindings.live_text(value).encode("latin-1"))
            for name, value in response.headers.items()
        ]
        if response.stream is None:
            content = bindings.live_bytes(response.content())
            headers.append((b"content-length", str(len(content)).encode()))
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": content})
            return
        tape = self._tape(response.stream)
        if answer.is_join:
            plan = tape.plan(bindings, start=tape.start_after(answer.join_after))
            heartbeat = None
        else:
            plan = tape.plan(bindings, self.faults)
            heartbeat = self.faults.heartbeat
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await play(send, plan, speed=self.speed, heartbeat=heartbeat)

    def _tape(self, stream: RecordedStream) -> Tape:
        cached = self._tapes.get(id(stream))
        if cached is None:
            cached = self._tapes[id(stream)] = (stream, Tape(stream, self.chunking))
        return cached[1]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _send_json(
    send: Send, status: int, value: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    content = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
