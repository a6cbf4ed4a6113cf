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
import pytest

from lg_testkit.cassette import Cassette, Interaction
from lg_testkit.errors import CassetteNotFoundError
from lg_testkit.matching import MATCH_ON, Playlist
from lg_testkit.recorder import (
    AsyncRecordingTransport,
    Capture,
    RecordingTransport,
    interactions_of,
    record_request,
)
from lg_testkit.redaction import Redaction
from lg_testkit.replay import replay_response
from lg_testkit.validation import enforce

__all__ = ["CassetteSession", "RecordMode", "use_cassette"]

_VALIDATE_LEVELS = ("strict", "lenient", "off")


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
        persist: bool = True,
    ) -> None:
        self.path = Path(path)
        self.persist = persist  # False: contract mode, traffic is checked but never written
        self.record_mode = RecordMode(record_mode)
        self.speed = speed
        if validate not in _VALIDATE_LEVELS:
            raise ValueError(f"validate must be one of {_VALIDATE_LEVELS}, not {validate!r}")
        self.validate = validate  # schema checks of run streams, on record and on replay
        self._validated: set[int] = set()  # ids of interactions already checked
        existing = self.path.exists() and self.record_mode is not RecordMode.ALL
        self.cassette = Cassette.load(self.path) if existing else Cassette(path=self.path)
        self.cassette.redaction = redaction  # masks configured fields, refuses secrets on save
        self.playlist = Playlist(
            list(self.cassette.interactions), str(self.path), ignore=ignore, match_on=match_on
        )
        self.captures: list[Capture] = []
        self.may_record = self.record_mode in (RecordMode.ALL, RecordMode.NEW_EPISODES) or (
            self.record_mode is RecordMode.ONCE and not existing
        )
        self._live_origin: str | None = None
        self._unpatched_sync: Any = None  # httpx's own method while `patch` is in force

    # -- routing -------------------------------------------------------------------------------

    def _recorded_answer(self, request: httpx.Request) -> httpx.Response | None:
        """The replayed response, or None when the request must go to the network."""
        recorded = record_request(request)
        interaction = self.playlist.take(recorded)
        if interaction is not None:
            self._validate(interaction)
            return replay_response(interaction, speed=self.speed)
        if not self.may_record:
            raise self.playlist.unmatched(recorded, self._hint())
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
        return RecordingTransport(live, self.captures, self._validate).handle_request(request)

    async def handle_async(
        self, request: httpx.Request, live: httpx.AsyncBaseTransport
    ) -> httpx.Response:
        await request.aread()
        answer = self._recorded_answer(request)
        if answer is not None:
            return answer
        recording = AsyncRecordingTransport(live, self.captures, self._validate)
        return await recording.handle_async_request(request)

    def _validate(self, interaction: Interaction) -> None:
        """Check a run stream once, when it is recorded or first replayed."""
        if self.validate == "off" or id(interaction) in self._validated:
            return
        self._validated.add(id(interaction))
        enforce(interaction, source=self._source(interaction), strict=self.validate == "strict")

    def _source(self, interaction: Interaction) -> str:
        """`path#N`, N the interaction's index in the cassette (as saved, for a new recording)."""
        for number, known in enumerate(self.cassette.interactions):
            if known is interaction:
                return f"{self.path}#{number}"
        kept = len(self.cassette.interactions) if self.record_mode is RecordMode.NEW_EPISODES else 0
        finished = [capture.interaction for capture in self.captures]
        number = next((n for n, i in enumerate(finished) if i is interaction), len(finished))
        return f"{self.path}#{kept + number}"

    # -- wiring --------------------------------------------------------------------------------

    def transport(self, live: httpx.BaseTransport | None = None) -> httpx.BaseTransport:
        """A transport to build an `httpx.Client` (or a LangGraph client) around."""
        return _SessionTransport(self, live or httpx.HTTPTransport())

    def async_transport(
        self, live: httpx.AsyncBaseTransport | None = None
    ) -> httpx.AsyncBaseTransport:
        return _AsyncSessionTransport(self, live or httpx.AsyncHTTPTransport())

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route every httpx HTTP transport through this session until `monkeypatch` undoes it."""
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

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
        self._unpatched_sync = live_sync

    # -- saving --------------------------------------------------------------------------------

    @property
    def recorded(self) -> list[Interaction]:
        return interactions_of(self.captures)

    def save(self) -> Path | None:
        """Write the cassette if anything was recorded; returns the path written."""
        recorded = self.recorded
        if not recorded or not self.persist:
            return None
        from lg_testkit import __version__

        kept = self.cassette.interactions if self.record_mode is RecordMode.NEW_EPISODES else []
        self.cassette.interactions = [*kept, *recorded]
        self.cassette.meta = {
            "lg_testkit": __version__,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "server": self._server_info(recorded),
        }
        return self.cassette.save(self.path)

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
    def __init__(self, session: CassetteSession, live: httpx.BaseTransport) -> None:
        self.session, self.live = session, live

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.session.handle(request, self.live)

    def close(self) -> None:
        self.live.close()


class _AsyncSessionTransport(httpx.AsyncBaseTransport):
    def __init__(self, session: CassetteSession, live: httpx.AsyncBaseTransport) -> None:
        self.session, self.live = session, live

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.session.handle_async(request, self.live)

    async def aclose(self) -> None:
        await self.live.aclose()


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

    `options` are `CassetteSession`'s: speed, validate, redaction, match_on, ignore, persist.
    """
    session = CassetteSession(path, record_mode, **options)
    with pytest.MonkeyPatch.context() as monkeypatch:
        session.patch(monkeypatch)
        try:
            yield session
        finally:
            session.save()
