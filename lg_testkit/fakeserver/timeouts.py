"""Bounded waits for slow or silent clients of the fake server over HTTP (slowloris).

uvicorn closes a kept-alive connection left idle after a response (`timeout_keep_alive`), but
waits forever for a request's headers: a connection that sends nothing, or a few bytes of
headers now and then, holds a socket and a protocol object for good. `guarded_protocol` gives
uvicorn's HTTP protocol (httptools or h11, whichever uvicorn picks) a header deadline: from the
moment a connection opens, or the first byte of its next request, all the request's headers
must arrive within `header_timeout` seconds, else the connection is closed. A request whose
headers arrived (a stream being replayed, a body being sent) is never cut by it; nor is a
WebSocket once upgraded.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HEADER_TIMEOUT", "KEEP_ALIVE", "guarded_protocol"]

HEADER_TIMEOUT = 10.0  # seconds for a request's headers to arrive
# Idle seconds before a kept-alive connection is closed: longer than clients keep an idle
# pooled connection (httpx 5 s, Node's fetch 4 s), so a client never reuses one as it closes.
KEEP_ALIVE = 10.0


class _HeaderDeadline:
    """Mixed into a uvicorn HTTP protocol class (which has `loop`, `transport`, `cycle`)."""

    header_timeout: float = HEADER_TIMEOUT
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._lg_deadline: asyncio.TimerHandle | None = None
        self._lg_request: Any = None  # the request whose headers arrived last
        super().connection_made(transport)  # type: ignore[misc]
        self._lg_arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        cycle, protocol = self.cycle, self.transport.get_protocol()
        if self.transport.is_closing() or protocol is not self:  # type: ignore[comparison-overlap]
            self._lg_disarm()  # closed, or upgraded to a WebSocket
        elif cycle is not None and cycle is not self._lg_request:
            self._lg_request = cycle  # a request's headers are all in
            self._lg_disarm()
        elif (cycle is None or cycle.response_complete) and self._lg_deadline is None:
            self._lg_arm()  # bytes of a next request whose headers are not all in

    def connection_lost(self, exc: Exception | None) -> None:
        self._lg_disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _lg_arm(self) -> None:
        self._lg_deadline = self.loop.call_later(self.header_timeout, self._lg_expired)

    def _lg_disarm(self) -> None:
        if self._lg_deadline is not None:
            self._lg_deadline.cancel()
            self._lg_deadline = None

    def _lg_expired(self) -> None:
        self._lg_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class with a header deadline (pass it as uvicorn's `http=`)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    name = f"HeaderDeadline{AutoHTTPProtocol.__name__}"
    return type(name, (_HeaderDeadline, AutoHTTPProtocol), {"header_timeout": header_timeout})
