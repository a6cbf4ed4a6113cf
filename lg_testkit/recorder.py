"""Recording httpx transports: every chunk reaches the caller as it arrives and is kept on the side.

The tee only timestamps and keeps each chunk on the hot path; parsing into SSE events happens once,
when the response is closed. A response closed before its end (the caller broke out of the loop)
is recorded up to that point and marked `cut_short`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from lg_testkit.cassette import NOT_JSON, Interaction, RecordedResponse, RecordedStream, parse_json
from lg_testkit.incoming import from_httpx
from lg_testkit.redaction import Redaction, redact_headers
from lg_testkit.threadlog import ProtocolThread, TimedExchange, fold, is_protocol

__all__ = [
    "AsyncRecordingTransport",
    "Capture",
    "RecordingTransport",
    "interactions_of",
    "split_protocol",
]


OnFinish = Callable[[Interaction], None]


class Capture:
    """One exchange being recorded. `finish` builds `interaction` exactly once.

    `on_finish`, when given, is called with the interaction once it is built (e.g. to validate
    a stream); an exception it raises reaches the code reading the response.
    `redaction`, when given, masks its extra headers and collects masked credential values.
    """

    def __init__(
        self,
        request: httpx.Request,
        on_finish: OnFinish | None = None,
        redaction: Redaction | None = None,
    ) -> None:
        self.on_finish = on_finish
        self.redaction = redaction
        self.started = time.perf_counter()
        self.request = from_httpx(request, redaction)
        self.chunks: list[tuple[float, bytes]] = []
        self.status = 0
        self.headers: dict[str, str] = {}
        self.is_stream = False
        self.interaction: Interaction | None = None
        self._inflate: Any = None

    def start_response(self, response: httpx.Response) -> None:
        self.status = response.status_code
        headers = response.headers.multi_items()
        redact = self.redaction.redact_headers if self.redaction else redact_headers
        self.headers = redact(headers)
        self.is_stream = "text/event-stream" in self.headers.get("content-type", "")
        # The caller gets the bytes as sent; the cassette keeps them decoded.
        encoding = self.headers.pop("content-encoding", "identity")
        if encoding in ("gzip", "deflate"):
            self._inflate = _Inflater()
        elif encoding != "identity":
            self.headers["content-encoding"] = encoding

    def chunk(self, data: bytes, at: float | None = None) -> None:
        """Keep `data`, stamped with its arrival offset (now, unless `at` is given)."""
        if self._inflate is not None:
            data = self._inflate.decompress(data)
        self.chunks.append((time.perf_counter() - self.started if at is None else at, data))

    def finish(self, *, cut_short: bool, dropped: BaseException | None = None) -> Interaction:
        """Build the interaction; `dropped` is the error that ended the stream, if one did."""
        if self.interaction is not None:
            return self.interaction
        if self.is_stream:
            stream = RecordedStream.from_chunks(
                self.chunks,
                cut_short=cut_short,
                dropped=f"{type(dropped).__name__}: {dropped}" if dropped else None,
            )
            response = RecordedResponse(self.status, self.headers, stream=stream)
        else:
            content = b"".join(chunk for _, chunk in self.chunks)
            response = RecordedResponse.from_body(self.status, self.headers, content)
        self.interaction = Interaction(self.request, response)
        if self.on_finish is not None:
            self.on_finish(self.interaction)
        return self.interaction


class _Inflater:
    """gzip or deflate, zlib-wrapped or raw (servers send both as `deflate`; httpx reads both)."""

    def __init__(self) -> None:
        self.inner = zlib.decompressobj(zlib.MAX_WBITS | 32)
        self.started = False

    def decompress(self, data: bytes) -> bytes:
        if not self.started:
            self.started = True
            try:
                return self.inner.decompress(data)
            except zlib.error:  # no zlib header: a raw deflate stream
                self.inner = zlib.decompressobj(-zlib.MAX_WBITS)
        return self.inner.decompress(data)


def _already_read(response: httpx.Response, capture: Capture) -> bool:
    """Responses built in memory (e.g. by httpx.MockTransport) arrive already read."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return False
    capture.chunk(content)
    capture.finish(cut_short=False)
    return True


class _TeeStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, capture: Capture) -> None:
        self.inner, self.capture = inner, capture

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.inner:
                self.capture.chunk(chunk)
                yield chunk
        except httpx.TransportError as exc:  # the connection died: keep that for replay too
            self.capture.finish(cut_short=True, dropped=exc)
            raise
        self.capture.finish(cut_short=False)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.capture.finish(cut_short=True)


class _AsyncTeeStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, capture: Capture) -> None:
        self.inner, self.capture = inner, capture

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                self.capture.chunk(chunk)
                yield chunk
        except httpx.TransportError as exc:  # the connection died: keep that for replay too
            self.capture.finish(cut_short=True, dropped=exc)
            raise
        self.capture.finish(cut_short=False)

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.capture.finish(cut_short=True)


class RecordingTransport(httpx.BaseTransport):
    """Wraps a sync transport; `captures` lists every exchange in the order it was sent."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        captures: list[Capture] | None = None,
        on_finish: OnFinish | None = None,
        redaction: Redaction | None = None,
    ) -> None:
        self.inner, self.on_finish = inner, on_finish
        self.redaction = redaction  # collects the credential values it masks (see Capture)
        self.captures: list[Capture] = [] if captures is None else captures

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        capture = Capture(request, self.on_finish, self.redaction)
        response = self.inner.handle_request(request)
        self.captures.append(capture)
        capture.start_response(response)
        if not _already_read(response, capture):
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _TeeStream(response.stream, capture)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport; `captures` lists every exchange in the order it was sent."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        captures: list[Capture] | None = None,
        on_finish: OnFinish | None = None,
        redaction: Redaction | None = None,
    ) -> None:
        self.inner, self.on_finish = inner, on_finish
        self.redaction = redaction  # collects the credential values it masks (see Capture)
        self.captures: list[Capture] = [] if captures is None else captures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        capture = Capture(request, self.on_finish, self.redaction)
        response = await self.inner.handle_async_request(request)
        self.captures.append(capture)
        capture.start_response(response)
        if not _already_read(response, capture):
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _AsyncTeeStream(response.stream, capture)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def split_protocol(captures: list[Capture]) -> tuple[list[Interaction], list[ProtocolThread]]:
    """The recorded interactions, with the thread protocol's commands and subscriptions folded
    into one event log per thread (threadlog.py) instead of kept as overlapping exchanges.
    A subscription still open is read as far as it got, and left open."""
    plain: list[Interaction] = []
    exchanges: list[TimedExchange] = []
    for capture in captures:
        request = capture.request
        if not is_protocol(request.method, request.path):
            plain.append(capture.finish(cut_short=True))
            continue
        chunks = list(capture.chunks)
        reply = None
        if not capture.is_stream:  # a command's JSON answer (bytes that are not UTF-8 kept)
            reply = parse_json(b"".join(c for _, c in chunks).decode("utf-8", "surrogateescape"))
        exchanges.append(
            TimedExchange(
                capture.started,
                request.method,
                request.path,
                request.json,
                capture.status,
                dict(capture.headers),
                None if reply is NOT_JSON else reply,
                chunks,
            )
        )
    return plain, fold(exchanges)


def interactions_of(captures: list[Capture]) -> list[Interaction]:
    """The recorded interactions in request order; a stream still open is kept as cut short."""
    return [capture.finish(cut_short=True) for capture in captures]
