"""`FakeServer`: cassettes served as a LangGraph server, in-process or over loopback HTTP.

    server = FakeServer.from_path("cassettes/")          # a cassette, or a folder of them
    client = server.async_client()                       # langgraph_sdk, wired in-process
    with server.serve() as url:                          # uvicorn on a free loopback port
        ...  # any client: the JS SDK, curl, a browser UI

Every response is the recording's (status, headers, body bytes), streamed in the chosen
chunking, with ids bound per replayed thread (lg_testkit/replay/engine.py explains which
answer each request gets). A request nothing answers gets HTTP 404 naming the closest
recordings; they are kept in `unmatched`, and `check()` raises them as one
`UnmatchedRequestError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from lg_testkit.cassette import Cassette
from lg_testkit.errors import CassetteNotFoundError
from lg_testkit.fakeserver.app import FakeServerApp
from lg_testkit.fakeserver.timeouts import HEADER_TIMEOUT, KEEP_ALIVE, guarded_protocol
from lg_testkit.replay.engine import ReplayEngine, Unmatched
from lg_testkit.replay.playing import ConnectionDropped
from lg_testkit.replay.transports import EngineTransport
from lg_testkit.serving import listen, serve_in_thread, url_of, uvicorn_server

__all__ = ["FakeServer", "cassette_files"]

BASE_URL = "http://lg-testkit.fake"


def cassette_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The cassette files named: files as given, folders as their `*.json` files, sorted."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise CassetteNotFoundError(f"{path}: no such cassette or folder")
    return files


class FakeServer:
    """Cassettes answering as a LangGraph server would, the same way every time.

    `options` are the replay engine's: chunking, faults, ignore, match_on, validate.
    `strict`: in-process clients raise `UnmatchedRequestError` / `SchemaViolationError`
    instead of getting a 404 (over HTTP they always get the 404; `check()` raises later).
    """

    def __init__(
        self,
        cassettes: Iterable[Cassette],
        *,
        speed: float | None = None,
        strict: bool = False,
        **options: Any,
    ) -> None:
        self.cassettes = list(cassettes)
        self.strict = strict
        self.speed = speed
        self.engine = ReplayEngine(self.cassettes, speed=speed, **options)
        self.app = FakeServerApp(self.engine, speed=speed)

    @classmethod
    def from_path(cls, *paths: str | os.PathLike[str], **options: Any) -> FakeServer:
        """Serve a cassette, or every `*.json` cassette under a folder (several paths allowed)."""
        files = cassette_files(paths)
        if not files:
            raise CassetteNotFoundError(f"no cassettes under {', '.join(map(str, paths))}")
        return cls([Cassette.load(file) for file in files], **options)

    @property
    def unmatched(self) -> list[Unmatched]:
        return self.engine.unmatched

    @property
    def log(self) -> list[str]:
        """One line per request: `METHOD /path [Last-Event-ID] -> status`, in order."""
        return self.engine.log

    def reset(self) -> None:
        """Start over: every recording replays from its beginning, as on a fresh server."""
        self.engine.reset()

    def check(self) -> None:
        """Raise `UnmatchedRequestError` if any request went unanswered, or
        `SchemaViolationError` if a stream it played breaks the schemas."""
        self.engine.check()

    # -- in-process ----------------------------------------------------------------------------

    def transport(self) -> EngineTransport:
        """An httpx transport (sync and async) that streams this server's answers in-process."""
        return EngineTransport(self.engine, speed=self.speed, strict=self.strict)

    def sync_transport(self) -> EngineTransport:
        return self.transport()

    def async_client(self, **options: Any) -> Any:
        """A `langgraph_sdk` async client talking to this server in-process."""
        from langgraph_sdk.client import LangGraphClient

        http = httpx.AsyncClient(base_url=BASE_URL, transport=self.transport(), timeout=None)
        return LangGraphClient(http, **options)

    def sync_client(self, **options: Any) -> Any:
        """A `langgraph_sdk` sync client talking to this server in-process."""
        from langgraph_sdk.client import SyncLangGraphClient

        http = httpx.Client(base_url=BASE_URL, transport=self.transport(), timeout=None)
        return SyncLangGraphClient(http, **options)

    # -- over HTTP -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        keep_alive: float = KEEP_ALIVE,
    ) -> Iterator[str]:
        """Run uvicorn in a thread on `host:port` (0: a free port); yields the base URL.

        A connection whose request headers take longer than `header_timeout` seconds to arrive
        (one that sends nothing counts) is closed, and so is one left idle `keep_alive` seconds
        after a response (lg_testkit/fakeserver/timeouts.py)."""
        _quiet_drops()
        with serve_in_thread(self.app, host, port, **_timeouts(header_timeout, keep_alive)) as url:
            yield url

    def run(
        self,
        host: str = "127.0.0.1",
        port: int = 2024,
        ready: Any = None,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        keep_alive: float = KEEP_ALIVE,
    ) -> None:
        """Serve in the foreground until interrupted; `ready(url)` is called once listening.
        The timeouts are those of `serve`."""
        _quiet_drops()
        sock = listen(host, port)
        if ready is not None:
            ready(url_of(sock))
        try:
            uvicorn_server(self.app, **_timeouts(header_timeout, keep_alive)).run(sockets=[sock])
        finally:
            sock.close()


def _timeouts(header_timeout: float, keep_alive: float) -> dict[str, Any]:
    """uvicorn settings for the two timeouts, checked."""
    if not header_timeout > 0 or not keep_alive > 0:
        raise ValueError(
            f"timeouts must be positive seconds: header_timeout={header_timeout}, "
            f"keep_alive={keep_alive}"
        )
    return {"http": guarded_protocol(header_timeout), "timeout_keep_alive": keep_alive}


class _DropFilter(logging.Filter):
    """A `drop_after` fault is on purpose: keep uvicorn from logging it as an app error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _quiet_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())
