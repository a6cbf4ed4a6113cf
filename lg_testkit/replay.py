"""Replay httpx transports: recorded responses, streamed chunk by chunk as they were recorded.

Unlike `httpx.ASGITransport`, which buffers a whole body, the response content here is an
iterator over the recorded chunks, so a consumer sees the first event before the last is sent.
With `speed=None` chunks are sent at once; with `speed=2.0` at the recorded offsets halved.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx

from lg_testkit.cassette import Cassette, Interaction
from lg_testkit.matching import Playlist
from lg_testkit.recorder import record_request

__all__ = ["AsyncReplayTransport", "ReplayTransport", "replay_response"]


class _ReplayStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The recorded chunks; then, if the connection died while recording, the same error."""

    def __init__(
        self,
        chunks: list[bytes],
        timings: list[float],
        speed: float | None,
        dropped: str | None = None,
    ) -> None:
        self.chunks, self.timings, self.speed, self.dropped = chunks, timings, speed, dropped

    def __iter__(self) -> Iterator[bytes]:
        if self.speed is None:
            yield from self.chunks
        else:
            start = time.perf_counter()
            for chunk, t in zip(self.chunks, self.timings, strict=True):
                delay = t / self.speed - (time.perf_counter() - start)
                if delay > 0:
                    time.sleep(delay)
                yield chunk
        if self.dropped:
            raise httpx.RemoteProtocolError(self.dropped)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.speed is None:
            for chunk in self.chunks:
                yield chunk
        else:
            start = time.perf_counter()
            for chunk, t in zip(self.chunks, self.timings, strict=True):
                delay = t / self.speed - (time.perf_counter() - start)
                if delay > 0:
                    await anyio.sleep(delay)
                yield chunk
        if self.dropped:
            raise httpx.RemoteProtocolError(self.dropped)


def replay_response(interaction: Interaction, *, speed: float | None = None) -> httpx.Response:
    """An httpx response that plays `interaction` back; usable by sync and async clients."""
    recorded = interaction.response
    # As bytes: a recorded header may hold UTF-8, which httpx would refuse to encode as ASCII.
    headers = [
        (k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in recorded.headers.items()
    ]
    if recorded.stream is None:
        return httpx.Response(recorded.status, headers=headers, content=recorded.content())
    stream = recorded.stream
    return httpx.Response(
        recorded.status,
        headers=headers,
        stream=_ReplayStream(stream.encode(), stream.timings(), speed, stream.dropped),
    )


def _playlist(cassette: Cassette | str | os.PathLike[str]) -> Playlist:
    if not isinstance(cassette, Cassette):
        cassette = Cassette.load(cassette)
    return Playlist(cassette.interactions, str(cassette.path or "the cassette"))


class ReplayTransport(httpx.BaseTransport):
    """Answers every request from a cassette; never touches the network."""

    def __init__(
        self, cassette: Cassette | str | os.PathLike[str], *, speed: float | None = None
    ) -> None:
        self.playlist, self.speed = _playlist(cassette), speed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        recorded = record_request(request)
        interaction = self.playlist.take(recorded)
        if interaction is None:
            raise self.playlist.unmatched(recorded)
        return replay_response(interaction, speed=self.speed)


class AsyncReplayTransport(httpx.AsyncBaseTransport):
    """Async twin of `ReplayTransport`."""

    def __init__(
        self, cassette: Cassette | str | os.PathLike[str], *, speed: float | None = None
    ) -> None:
        self.playlist, self.speed = _playlist(cassette), speed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        recorded = record_request(request)
        interaction = self.playlist.take(recorded)
        if interaction is None:
            raise self.playlist.unmatched(recorded)
        return replay_response(interaction, speed=self.speed)
