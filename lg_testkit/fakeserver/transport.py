"""httpx transports that run an ASGI app in-process and STREAM its response.

`httpx.ASGITransport` waits for the whole body before returning the response. Here the app
runs as a task whose `send` calls feed a pipe, and the response content is an iterator over
that pipe: the client sees the first event while the app is still sending the rest. The pipe
holds at most `_HIGH_WATER` chunks before `send` waits for the reader, so a slow consumer
slows the app down as a socket would, and a fast one takes chunks in batches.

`StreamingASGITransport` is for async clients; `SyncStreamingASGITransport` runs the same on
an event loop in a background thread, for sync clients. If the app raises after the response
started (a `drop_after` fault), the reader gets `httpx.RemoteProtocolError`, as from a peer
that closed the connection mid-body. With `strict=True`, a 404 the app marks unmatched
raises `UnmatchedRequestError` in the caller instead of being returned.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import httpx

from lg_testkit.errors import UnmatchedRequestError
from lg_testkit.fakeserver.app import UNMATCHED_HEADER

__all__ = ["StreamingASGITransport", "SyncStreamingASGITransport"]

_HIGH_WATER = 256
T = TypeVar("T")


class _Pipe:
    """Chunks from the app's `send` to the response reader, in order."""

    def __init__(self) -> None:
        self.buffer: collections.deque[bytes] = collections.deque()
        self.readable = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed = False
        self.error: BaseException | None = None

    async def put(self, chunk: bytes) -> None:
        if len(self.buffer) >= _HIGH_WATER:
            self.writable.clear()
            await self.writable.wait()
        self.buffer.append(chunk)
        self.readable.set()

    def close(self, error: BaseException | None = None) -> None:
        self.closed = True
        self.error = self.error or error
        self.readable.set()

    async def batch(self) -> list[bytes]:
        """The chunks buffered so far, waiting for one if there is none; [] at the end."""
        while not self.buffer:
            if self.closed:
                if self.error is not None:
                    raise self.error
                return []
            self.readable.clear()
            await self.readable.wait()
        chunks = list(self.buffer)
        self.buffer.clear()
        self.writable.set()
        return chunks


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, pipe: _Pipe, task: asyncio.Task[None]) -> None:
        self.pipe, self.task = pipe, task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunks := await self.pipe.batch():
            for chunk in chunks:
                yield chunk

    async def aclose(self) -> None:
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def _run(app: Any, request: httpx.Request, body: bytes, strict: bool) -> httpx.Response:
    url = request.url
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("127.0.0.1", 123),
        "server": (url.host, url.port or 80),
    }
    pipe = _Pipe()
    started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = (
        asyncio.get_running_loop().create_future()
    )
    body_sent = False
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.set_result((message["status"], list(message.get("headers", []))))
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                await pipe.put(chunk)
            if not message.get("more_body", False):
                pipe.close()

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not started.done():
                started.set_exception(exc)
            else:
                pipe.close(
                    httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body",
                        request=request,
                    )
                )
        finally:
            pipe.close()
            finished.set()

    task = asyncio.ensure_future(run())
    status, headers = await started
    response = httpx.Response(status, headers=headers, stream=_ResponseStream(pipe, task))
    if strict and status == 404 and response.headers.get(UNMATCHED_HEADER):
        content = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        raise UnmatchedRequestError(json.loads(content)["detail"])
    return response


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Serves an async httpx client from an ASGI app, streaming responses as they are sent."""

    def __init__(self, app: Any, *, strict: bool = False) -> None:
        self.app, self.strict = app, strict

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return await _run(self.app, request, body, self.strict)


class _Loop:
    """An event loop in a daemon thread, for sync callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="lg-fake")
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class _SyncResponseStream(httpx.SyncByteStream):
    def __init__(self, loop: _Loop, inner: _ResponseStream) -> None:
        self.loop, self.inner = loop, inner

    def __iter__(self) -> Iterator[bytes]:
        while chunks := self.loop.call(self.inner.pipe.batch()):
            yield from chunks

    def close(self) -> None:
        self.loop.call(self.inner.aclose())


class SyncStreamingASGITransport(httpx.BaseTransport):
    """Serves a sync httpx client from an ASGI app run on a background event loop."""

    def __init__(self, app: Any, *, strict: bool = False) -> None:
        self.app, self.strict = app, strict
        self._loop: _Loop | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if self._loop is None:
            self._loop = _Loop()
        response = self._loop.call(_run(self.app, request, body, self.strict))
        assert isinstance(response.stream, _ResponseStream)
        response.stream = _SyncResponseStream(self._loop, response.stream)
        return response

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None
