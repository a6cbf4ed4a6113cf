"""A cassette in use: vcrpy's record modes over the recorder and the replay transport.

    none          replay only; a request with no recording fails (the default: CI stays offline)
    once          record a missing cassette; an existing one is replay-only
    new_episodes  replay what is recorded, record what is not, and append it
    all           record everything live and overwrite the cassette

`CassetteSession` hands out transports to inject (`transport()`, `async_transport()`) or patches
httpx's own transports (`patch(monkeypatch)`), which is how `langgraph_sdk.get_client(url=...)`
built inside the code under test is recorded with no change to that code.

Run streams are checked against the event schemas (lg_testkit.validation) when they are recorded
and when first replayed: `validate="strict"` (default) raises SchemaViolationError, "lenient" only
warns about unknown event names, "off" skips the check.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from lg_testkit.cassette import Cassette, Interaction
from lg_testkit.cassette.writer import locked, on_disk
from lg_testkit.errors import CassetteNotFoundError
from lg_testkit.incoming import from_httpx
from lg_testkit.protocol import route
from lg_testkit.recorder import (
    AsyncRecordingTransport,
    Capture,
    RecordingTransport,
    interactions_of,
    split_protocol,
)
from lg_testkit.redaction import Redaction
from lg_testkit.replay.engine import ReplayEngine
from lg_testkit.replay.faults import Faults
from lg_testkit.replay.matching import MATCH_ON
from lg_testkit.replay.transports import raise_problems, to_httpx
from lg_testkit.validation import enforce

__all__ = ["CassetteSession", "RecordMode", "use_cassette"]


class RecordMode(enum.StrEnum):
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"


class CassetteSession:
    """Routes each request to a recorded answer or, where the record mode allows, to the network."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        record_mode: RecordMode | str = RecordMode.NONE,
        *,
        speed: float | None = None,
        validate: str = "strict",
        redaction: Redaction | None = None,
        match_on: Iterable[str] = MATCH_ON,
        ignore: Iterable[str] = (),
        faults: Faults | None = None,
        persist: bool = True,
    ) -> None:
        self.path = Path(path)
        self.persist = persist  # False: contract mode, traffic is checked but never written
        self.record_mode = RecordMode(record_mode)
        self.speed = speed
        self.validate = validate  # schema checks of run streams, on record and on replay
        self.redaction = redaction if redaction is not None else Redaction()  # the defaults
        existing = self.path.exists() and self.record_mode is not RecordMode.ALL
        self._on_disk = on_disk(self.path)  # a change by the time we save: another writer's
        self.cassette = Cassette.load(self.path) if existing else Cassette(path=self.path)
        self.may_record = self.record_mode in (RecordMode.ALL, RecordMode.NEW_EPISODES) or (
            self.record_mode is RecordMode.ONCE and not existing
        )
        self.engine = ReplayEngine(
            [self.cassette],
            ignore=ignore,
            match_on=match_on,
            faults=faults,
            validate=validate,
            speed=speed,
            once=self.may_record,  # a second conversation is a new one: it goes live
        )
        self.captures: list[Capture] = []
        self._live_origin: str | None = None
        self._unpatched_sync: Any = None  # httpx's own method while `patch` is in force

    # -- routing -------------------------------------------------------------------------------

    def _recorded_answer(self, request: httpx.Request) -> httpx.Response | None:
        """The replayed response, or None when the request must go to the network."""
        recorded = from_httpx(request)
        last_event_id = request.headers.get("last-event-id")
        reply = self.engine.respond(recorded, last_event_id, keep_miss=not self.may_record)
        if reply.unmatched is None:
            raise_problems(reply, recorded.label)
            return to_httpx(reply, self.speed)
        if not self.may_record:
            raise reply.unmatched.error(self._hint())
        thread = route(recorded.method, recorded.path).thread_id
        if thread is not None and any(lane.thread_id == thread for lane in self.engine.lanes):
            raise reply.unmatched.error(
                f"Not recorded live: this request continues thread {thread}, which exists only "
                "in the cassette (it was replayed, not created on the live server), so the "
                "server would answer 'Thread not found' and that answer would be saved. "
                "Re-record the whole test with record mode 'all' "
                "(pytest --lg-record-mode=all)."
            )
        self._live_origin = self._live_origin or str(request.url.copy_with(path="/", query=None))
        return None

    def _hint(self) -> str:
        if not self.path.exists():
            return (
                f"{CassetteNotFoundError.__name__}: {self.path} does not exist. Record it with "
                "record mode 'once' (pytest: --lg-record-mode=once)."
            )
        return (
            f"Record mode is {self.record_mode.value!r}. To record this request, use "
            "'new_episodes' (adds it) or 'all' (re-records the cassette), "
            "e.g. pytest --lg-record-mode=new_episodes."
        )

    def handle(self, request: httpx.Request, live: httpx.BaseTransport) -> httpx.Response:
        request.read()
        answer = self._recorded_answer(request)
        if answer is not None:
            return answer
        recording = RecordingTransport(live, self.captures, self._validate, self.redaction)
        return recording.handle_request(request)

    async def handle_async(
        self, request: httpx.Request, live: httpx.AsyncBaseTransport
    ) -> httpx.Response:
        await request.aread()
        answer = self._recorded_answer(request)
        if answer is not None:
            return answer
        recording = AsyncRecordingTransport(live, self.captures, self._validate, self.redaction)
        return await recording.handle_async_request(request)

    def _validate(self, interaction: Interaction) -> None:
        """Check a run stream as it is recorded."""
        if self.validate == "off":
            return
        enforce(interaction, source=self._source(interaction), strict=self.validate == "strict")

    def _source(self, interaction: Interaction) -> str:
        """`path#N`, N the interaction's index in the cassette as it will be saved; when nothing
        is saved (contract mode), the live server and the exchange's number instead."""
        kept = len(self.cassette.interactions) if self.record_mode is RecordMode.NEW_EPISODES else 0
        finished = [capture.interaction for capture in self.captures]
        number = next((n for n, i in enumerate(finished) if i is interaction), len(finished))
        if not self.persist:
            live = (self._live_origin or "the live server").rstrip("/")
            return f"{live} (not recorded)#{kept + number}"
        return f"{self.path}#{kept + number}"

    # -- wiring --------------------------------------------------------------------------------

    def transport(self, live: httpx.BaseTransport | None = None) -> httpx.BaseTransport:
        """A transport to build an `httpx.Client` (or a LangGraph client) around."""
        return _SessionTransport(self, live)

    def async_transport(
        self, live: httpx.AsyncBaseTransport | None = None
    ) -> httpx.AsyncBaseTransport:
        return _AsyncSessionTransport(self, live)

    def patch(self, monkeypatch: Any) -> None:
        """Route every httpx HTTP transport through this session until `monkeypatch` (pytest's
        fixture, or anything with its `setattr`) undoes it."""
        for cls, name, method in self._routed():
            monkeypatch.setattr(cls, name, method)

    @contextmanager
    def patched(self) -> Iterator[CassetteSession]:
        """`patch` for a `with` block, without pytest."""
        routed = self._routed()
        originals = [(cls, name, getattr(cls, name)) for cls, name, _ in routed]
        for cls, name, method in routed:
            setattr(cls, name, method)
        try:
            yield self
        finally:
            for cls, name, method in originals:
                setattr(cls, name, method)

    def _routed(self) -> list[tuple[type, str, Any]]:
        """httpx's transport methods, each replaced by one that goes through this session."""
        session = self
        live_sync = httpx.HTTPTransport.handle_request
        live_async = httpx.AsyncHTTPTransport.handle_async_request

        def handle_request(
            transport: httpx.HTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            return session.handle(request, _Unpatched(live_sync, transport))

        async def handle_async_request(
            transport: httpx.AsyncHTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            return await session.handle_async(request, _AsyncUnpatched(live_async, transport))

        self._unpatched_sync = live_sync
        return [
            (httpx.HTTPTransport, "handle_request", handle_request),
            (httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
        ]

    # -- saving --------------------------------------------------------------------------------

    @property
    def recorded(self) -> list[Interaction]:
        return interactions_of(self.captures)

    def save(self) -> Path | None:
        """Write the cassette if anything was recorded; returns the path written."""
        if not self.captures or not self.persist:
            return None
        recorded, threads = split_protocol(self.captures)
        with locked(self.path):  # another writer of this cassette waits, then merges
            keep = self.record_mode is RecordMode.NEW_EPISODES
            base = self.cassette if keep else Cassette()
            if on_disk(self.path) != self._on_disk:  # written by another since: keep theirs
                base = Cassette.load(self.path)
            self.cassette.interactions = [*base.interactions, *recorded]
            self.cassette.threads = [*base.threads, *threads]
            return self._write(recorded)

    def _write(self, recorded: list[Interaction]) -> Path:
        from lg_testkit import __version__

        self.cassette.meta = {
            "lg_testkit": __version__,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "server": self._server_info(recorded),
        }
        # Credentials, configured fields and their echoes masked; a configured secret left
        # where it cannot be masked stops the write.
        self.redaction.enforce(self.cassette, str(self.path))
        path = self.cassette.save(self.path)
        self._on_disk = on_disk(self.path)
        return path

    def _server_info(self, recorded: list[Interaction]) -> Any:
        for interaction in recorded:
            if interaction.request.path == "/info" and interaction.response.status == 200:
                return interaction.response.json
        if self._live_origin is None:
            return None
        return _server_info(self._live_origin, self._unpatched_sync)

    def __enter__(self) -> CassetteSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.save()


def _server_info(origin: str, live_sync: Any) -> Any:
    """The server's `GET /info`, or None when it cannot be reached quickly."""
    transport: httpx.BaseTransport = httpx.HTTPTransport()
    if live_sync is not None:
        transport = _Unpatched(live_sync, transport)  # type: ignore[arg-type]
    try:
        with httpx.Client(base_url=origin, transport=transport, timeout=2.0) as client:
            response = client.get("/info")
            return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


class _SessionTransport(httpx.BaseTransport):
    """The live transport is made when first needed: a replay-only session never opens one."""

    def __init__(self, session: CassetteSession, live: httpx.BaseTransport | None) -> None:
        self.session, self.live = session, live

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.live is None and self.session.may_record:
            self.live = httpx.HTTPTransport()
        return self.session.handle(request, self.live or _NO_NETWORK)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()


class _AsyncSessionTransport(httpx.AsyncBaseTransport):
    def __init__(self, session: CassetteSession, live: httpx.AsyncBaseTransport | None) -> None:
        self.session, self.live = session, live

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.live is None and self.session.may_record:
            self.live = httpx.AsyncHTTPTransport()
        return await self.session.handle_async(request, self.live or _NO_NETWORK)

    async def aclose(self) -> None:
        if self.live is not None:
            await self.live.aclose()


class _NoNetwork(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Stands in for the network in a session that may not record (never reached)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError("a replay-only session went to the network")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError("a replay-only session went to the network")


_NO_NETWORK = _NoNetwork()


class _Unpatched(httpx.BaseTransport):
    """httpx's own transport method, called on a transport whose class is patched."""

    def __init__(self, method: Any, transport: httpx.HTTPTransport) -> None:
        self.method, self.transport = method, transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.method(self.transport, request)
        return response

    def close(self) -> None:
        self.transport.close()


class _AsyncUnpatched(httpx.AsyncBaseTransport):
    def __init__(self, method: Any, transport: httpx.AsyncHTTPTransport) -> None:
        self.method, self.transport = method, transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self.method(self.transport, request)
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


@contextmanager
def use_cassette(
    path: str | os.PathLike[str],
    record_mode: RecordMode | str = RecordMode.NONE,
    **options: Any,
) -> Iterator[CassetteSession]:
    """Without pytest: record or replay every httpx request made inside the block.

    `options` are `CassetteSession`'s: speed, validate, redaction, match_on, ignore, faults,
    persist.
    """
    session = CassetteSession(path, record_mode, **options)
    with session.patched():
        try:
            yield session
        finally:
            session.save()
