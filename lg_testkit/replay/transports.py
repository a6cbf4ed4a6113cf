"""httpx transports over the replay engine: recorded answers, streamed chunk by chunk, in-process.

Unlike `httpx.ASGITransport`, which buffers a whole body, a replayed stream's content is a
`ReplayStream`, so a consumer sees the first event before the last is sent. With `speed=None`
pieces go at once; with `speed=2.0` at the recorded offsets halved.

A request nothing answers raises `UnmatchedRequestError` (naming the closest recordings); a
stream that breaks the schemas raises `SchemaViolationError` the first time it is played
(`validate="strict"`; "lenient" warns, "off" skips).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import httpx

from lg_testkit.cassette import Cassette
from lg_testkit.errors import SchemaViolationError, SchemaWarning
from lg_testkit.incoming import from_httpx
from lg_testkit.replay.engine import ReplayEngine, Reply
from lg_testkit.replay.playing import ReplayStream

__all__ = ["AsyncReplayTransport", "EngineTransport", "ReplayTransport", "to_httpx"]


def to_httpx(reply: Reply, speed: float | None = None) -> httpx.Response:
    """An httpx response playing `reply`; usable by sync and async clients, read or streamed."""
    stream: Any = reply.live or (
        ReplayStream(reply.plan, speed) if reply.plan else httpx.ByteStream(reply.body)
    )
    return httpx.Response(reply.status, headers=reply.headers, stream=stream)


def raise_problems(reply: Reply, label: str) -> None:
    """Raise the schema errors found in what `reply` plays; warn about lenient findings."""
    errors = [p for p in reply.problems if p.severity == "error"]
    for problem in reply.problems:
        if problem.severity == "warning":
            warnings.warn(str(problem), SchemaWarning, stacklevel=4)
    if errors:
        raise SchemaViolationError(errors, f"{errors[0].source} ({label})")


class EngineTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves sync and async httpx clients from a `ReplayEngine`.

    `strict`: a request nothing answers, or a stream that breaks the schemas, raises in the
    caller; otherwise the client gets the fake server's 404 and the engine keeps the problems.
    """

    def __init__(
        self, engine: ReplayEngine, *, speed: float | None = None, strict: bool = True
    ) -> None:
        self.engine, self.speed, self.strict = engine, speed, strict

    def _respond(self, request: httpx.Request) -> httpx.Response:
        recorded = from_httpx(request)
        reply = self.engine.respond(recorded, request.headers.get("last-event-id"))
        if self.strict:
            if reply.unmatched is not None:
                raise reply.unmatched.error()
            raise_problems(reply, recorded.label)
        return to_httpx(reply, self.speed)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._respond(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._respond(request)


class ReplayTransport(EngineTransport):
    """Answers every request from one cassette; never touches the network.

    `options` are the engine's: ignore, match_on, chunking, faults, validate.
    """

    def __init__(
        self,
        cassette: Cassette | str | os.PathLike[str],
        *,
        speed: float | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(cassette, Cassette):
            cassette = Cassette.load(cassette)
        super().__init__(ReplayEngine([cassette], **options), speed=speed)


class AsyncReplayTransport(ReplayTransport):
    """`ReplayTransport` for async clients (the same class serves both)."""
