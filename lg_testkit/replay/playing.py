"""Playing a `Plan`: the one loop that sends a replayed stream, for each way it leaves.

`ReplayStream` is the content of an httpx response (sync and async clients in-process);
`send_plan` writes ASGI messages (the fake server over HTTP). Both follow `Plan.schedule`, so
the bytes, their cuts and their timing are the same whichever way a consumer connects. A plan
that ends in a drop raises the error a peer closing mid-body causes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import httpx

from lg_testkit.replay.tape import DROPPED, Plan

__all__ = ["ConnectionDropped", "ReplayStream", "drop_error", "send_plan"]


class ConnectionDropped(Exception):
    """Raised into the ASGI server after a drop: the connection must close mid-body."""


class ReplayStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that plays `plan`; iterate it once."""

    def __init__(self, plan: Plan, speed: float | None = None) -> None:
        self.plan, self.speed = plan, speed

    def __iter__(self) -> Iterator[bytes]:
        started = time.perf_counter()
        for at, piece in self.plan.schedule(self.speed):
            if at and (delay := at - (time.perf_counter() - started)) > 0:
                time.sleep(delay)
            yield piece
        if self.plan.drop:
            raise drop_error(self.plan.dropped_with)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        started = time.perf_counter()
        for at, piece in self.plan.schedule(self.speed):
            if at and (delay := at - (time.perf_counter() - started)) > 0:
                await anyio.sleep(delay)
            yield piece
        if self.plan.drop:
            raise drop_error(self.plan.dropped_with)


def drop_error(recorded: str | None) -> httpx.TransportError:
    """What a consumer gets where a stream drops: the httpx error the recorded consumer got
    (`ReadError: [Errno 104] Connection reset by peer`), or, for a drop that was not recorded
    (a fault), the one a peer closing mid-body causes."""
    name, _, message = (recorded or "").partition(": ")
    kind = getattr(httpx, name, None)
    if isinstance(kind, type) and issubclass(kind, httpx.TransportError):
        return kind(message)
    return httpx.RemoteProtocolError(DROPPED)


Send = Callable[[dict[str, Any]], Awaitable[None]]


async def send_plan(send: Send, plan: Plan, speed: float | None = None) -> None:
    """Send `plan` as ASGI body messages; raises ConnectionDropped where the plan drops."""
    started = time.perf_counter()
    for at, piece in plan.schedule(speed):
        if at and (delay := at - (time.perf_counter() - started)) > 0:
            await anyio.sleep(delay)
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    if plan.drop:
        raise ConnectionDropped(DROPPED)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
