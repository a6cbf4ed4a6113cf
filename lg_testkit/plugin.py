"""pytest plugin: options, the `lg_cassette` marker and the fixtures. Wiring only.

Every setting is looked up in one order: command line > closest `lg_cassette` marker >
the `lg_config` fixture (override it in a conftest) > ini. The library classes do the work:
`CassetteSession` (session.py), `FakeServer` (fakeserver/), `RecordingProxy` (proxy.py),
`StreamSnapshotExtension` (snapshot.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lg_testkit.fakeserver import FakeServer
from lg_testkit.matching import MATCH_ON
from lg_testkit.redaction import Redaction
from lg_testkit.session import CassetteSession, RecordMode

DEFAULT_LIVE_URL = "http://127.0.0.1:2024"  # `langgraph dev`'s default

# name: (help, default); each is `--lg-NAME` on the command line and `lg_NAME` in the ini file.
_OPTIONS: dict[str, tuple[str, str]] = {
    "record_mode": (
        "none (replay only, no network; the default), once, new_episodes or all, as in vcrpy.",
        "none",
    ),
    "cassette_dir": ("Cassette folder, relative to the rootdir.", "cassettes"),
    "speed": ("Replay at recorded timing divided by this factor (default: no delays).", ""),
    "validate": (
        "Schema checks of recorded and replayed run streams: strict (an invalid event fails "
        "the test; the default), lenient (unknown events only warn) or off.",
        "strict",
    ),
    "live_url": (
        "A live LangGraph server. With record mode none this is contract mode: tests run "
        "against it, every stream is validated and no cassette is read or written. When "
        f"recording, lg_client/lg_server use it (default {DEFAULT_LIVE_URL}).",
        "",
    ),
}
_CHOICES = {"record_mode": [m.value for m in RecordMode], "validate": ["strict", "lenient", "off"]}
_LISTS = {  # repeatable options, each adding to an ini list: name -> (ini name, help)
    "redact_header": (
        "lg_redact_headers",
        "Also mask this header in recorded cassettes (credentials always are).",
    ),
    "redact_json": (
        "lg_redact_json",
        "Mask this JSON field of bodies and stream events, e.g. "
        "request:config.configurable.token (* any key, ** any depth).",
    ),
    "secret": (
        "lg_secrets",
        "Refuse to write a cassette containing this value (env:NAME reads a variable).",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lg-testkit", "LangGraph stream cassettes (lg-testkit)")
    for name, (help_text, default) in _OPTIONS.items():
        flag = "--lg-" + name.replace("_", "-")
        group.addoption(flag, default=None, choices=_CHOICES.get(name), help=help_text)
        parser.addini(f"lg_{name}", help_text, default=default)
    for name, (ini, help_text) in _LISTS.items():
        flag = "--lg-" + name.replace("_", "-")
        group.addoption(flag, action="append", default=None, help=help_text)
        parser.addini(ini, help_text + " One per line.", type="linelist")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lg_cassette(path=None, record_mode=None, match_on=None, ignore=None, validate=None, "
        "speed=None): record the test's LangGraph HTTP traffic to a cassette, or replay it. "
        "path defaults to <cassette dir>/<test module>/<test name>.json (relative paths are "
        f"under the cassette dir); match_on picks request parts from {list(MATCH_ON)}; "
        "ignore lists JSON body paths left out of matching; validate is strict, lenient or off.",
    )


@pytest.fixture
def lg_config() -> dict[str, Any]:
    """Defaults for lg-testkit settings; override in a conftest. The marker and CLI still win."""
    return {}


def _setting(request: pytest.FixtureRequest, name: str) -> Any:
    """CLI > closest marker > lg_config fixture > ini (see the module doc)."""
    if name in _OPTIONS:
        value = request.config.getoption("--lg-" + name.replace("_", "-"))
        if value is not None:
            return value
    marker = request.node.get_closest_marker("lg_cassette")
    if marker is not None and marker.kwargs.get(name) is not None:
        return marker.kwargs[name]
    configured = request.getfixturevalue("lg_config")
    if configured.get(name) is not None:
        return configured[name]
    return request.config.getini(f"lg_{name}") if name in _OPTIONS else None


def _cassette_path(request: pytest.FixtureRequest) -> Path:
    root = request.config.rootpath
    folder = root / str(_setting(request, "cassette_dir"))
    marker = request.node.get_closest_marker("lg_cassette")
    explicit = marker.args[0] if marker and marker.args else _setting(request, "path")
    if explicit:
        return folder / str(explicit)
    module = request.path.relative_to(root) if request.path.is_relative_to(root) else request.path
    name = request.node.name
    safe = re.sub(r"[^\w.\[\]-]+", "_", name)  # test_p[0] stays as it is
    if safe != name:  # keep ids that needed changing distinct: test_p[a/b], test_p[a b]
        safe += "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return folder / module.with_suffix("") / f"{safe}.json"


def _redaction(request: pytest.FixtureRequest) -> Redaction:
    def listed(name: str) -> list[str]:
        given = request.config.getoption("--lg-" + name.replace("_", "-")) or []
        return [*request.config.getini(_LISTS[name][0]), *given]

    return Redaction(listed("redact_header"), listed("redact_json"), listed("secret"))


def _speed(request: pytest.FixtureRequest) -> float | None:
    speed = _setting(request, "speed")
    return float(speed) if speed not in (None, "") else None


def _live_url(request: pytest.FixtureRequest) -> str:
    return str(_setting(request, "live_url") or DEFAULT_LIVE_URL)


def _contract_mode(request: pytest.FixtureRequest) -> bool:
    return bool(_setting(request, "live_url")) and _setting(request, "record_mode") == "none"


@pytest.fixture
def lg_cassette(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CassetteSession]:
    """The test's cassette session; httpx (and so langgraph_sdk) traffic goes through it."""
    contract = _contract_mode(request)
    session = CassetteSession(
        _cassette_path(request),
        "all" if contract else str(_setting(request, "record_mode")),
        speed=_speed(request),
        validate=str(_setting(request, "validate")),
        redaction=_redaction(request),
        match_on=_setting(request, "match_on") or MATCH_ON,
        ignore=_setting(request, "ignore") or (),
        persist=not contract,
    )
    session.patch(monkeypatch)
    yield session
    session.save()


@pytest.fixture
def lg_client(request: pytest.FixtureRequest, lg_cassette: CassetteSession) -> Any:
    """An async langgraph_sdk client: live when recording or in contract mode, else replaying."""
    from langgraph_sdk.client import LangGraphClient

    # No keep-alive: connections close with their response, so nothing is left open for
    # teardown to close outside the test's event loop.
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    return LangGraphClient(httpx.AsyncClient(base_url=_live_url(request), transport=transport))


@pytest.fixture
def lg_sync_client(request: pytest.FixtureRequest, lg_cassette: CassetteSession) -> Iterator[Any]:
    """A sync langgraph_sdk client: live when recording or in contract mode, else replaying."""
    from langgraph_sdk.client import SyncLangGraphClient

    http = httpx.Client(base_url=_live_url(request))
    yield SyncLangGraphClient(http)
    http.close()


@pytest.fixture
def lg_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL for consumers outside this process (the JS SDK, curl, a browser).

    Replaying: the fake server on a loopback port, serving the test's cassette; a request it
    has no recording for fails the test at teardown with the closest recordings. Recording:
    a recording proxy in front of the live server, writing the test's cassette. Contract mode:
    the live server itself.
    """
    from lg_testkit.proxy import RecordingProxy
    from lg_testkit.serving import serve_in_thread

    path, mode = _cassette_path(request), str(_setting(request, "record_mode"))
    if _contract_mode(request):
        yield _live_url(request)
    elif mode == "all" or (mode == "once" and not path.exists()):
        proxy = RecordingProxy(_live_url(request), path, redaction=_redaction(request))
        with serve_in_thread(proxy, lifespan="on") as url:
            yield url
    else:
        server = FakeServer.from_path(path, speed=_speed(request))
        with server.serve() as url:
            yield url
        server.check()


@pytest.fixture
def lg_fake_server(request: pytest.FixtureRequest) -> FakeServer:
    """A fake LangGraph server replaying the test's cassette (see lg_testkit.fakeserver).

    Its in-process clients raise `UnmatchedRequestError` for a request with no recording, so
    the test fails with the closest recordings and how they differ.
    """
    return FakeServer.from_path(_cassette_path(request), speed=_speed(request), strict=True)


@pytest.fixture
def lg_snapshot(snapshot: Any) -> Any:
    """syrupy's `snapshot`, storing run streams by meaning: `assert events == lg_snapshot`."""
    from lg_testkit.snapshot import StreamSnapshotExtension

    return snapshot.use_extension(StreamSnapshotExtension)


@pytest.fixture(autouse=True)
def _lg_cassette_marker(request: pytest.FixtureRequest) -> None:
    if {"lg_fake_server", "lg_server"} & set(request.fixturenames):
        return  # they serve the marker's cassette themselves
    if request.node.get_closest_marker("lg_cassette") is not None:
        request.getfixturevalue("lg_cassette")
