"""pytest plugin: options, the `lg_cassette` marker and fixtures. Wiring only.

Settings and their order are lg_testkit.options's; the work is the library's: `CassetteSession`
(session.py), `FakeServer` (fakeserver/), `RecordingProxy` (proxy.py), `StreamSnapshotExtension`
(snapshot.py). Only pytest is imported up front: the rest loads when a test asks for it, so a
project that installs lg-testkit does not pay for it in test runs that do not use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lg_testkit import options as _options

if TYPE_CHECKING:
    from lg_testkit.fakeserver import FakeServer
    from lg_testkit.redaction import Redaction
    from lg_testkit.session import CassetteSession

# Settings with a flag and an ini key: name -> help. `--lg-NAME` and `lg_NAME`.
_FLAGS: dict[str, str] = {
    "record_mode": "none (replay only, no network; the default), once, new_episodes or all, "
    "as in vcrpy.",
    "cassette_dir": "Cassette folder, relative to the rootdir (default: cassettes).",
    "speed": "Replay at recorded timing divided by this factor (default: no delays).",
    "validate": "Schema checks of recorded and replayed streams: strict (an invalid event fails "
    "the test; the default), lenient (unknown events only warn) or off.",
    "live_url": "The LangGraph server to record from, and for --lg-contract "
    f"(default {_options.DEFAULT_LIVE_URL}).",
}
_CHOICES = {"record_mode": _options.RECORD_MODES, "validate": _options.VALIDATE_LEVELS}
_CONTRACT_HELP = (
    "Contract mode: tests run against --lg-live-url, every stream is validated, no cassette is "
    "read or written."
)
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
        "Mask this value wherever it appears in a recording; refuse to write it where it "
        "cannot be masked (env:NAME reads a variable).",
    ),
}
_KEEP_FIELDS_HELP = (
    "Do not mask JSON fields named as credentials (api_key, token, password, ...) in recorded "
    "bodies and stream events; credential headers and query parameters are still masked."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lg-testkit", "LangGraph stream cassettes (lg-testkit)")
    for name, help_text in _FLAGS.items():
        flag = "--lg-" + name.replace("_", "-")
        group.addoption(flag, default=None, choices=_CHOICES.get(name), help=help_text)
        parser.addini(f"lg_{name}", help_text, default="")
    group.addoption("--lg-contract", action="store_true", default=None, help=_CONTRACT_HELP)
    parser.addini("lg_contract", _CONTRACT_HELP, type="bool", default=False)
    for name, (ini, help_text) in _LISTS.items():
        flag = "--lg-" + name.replace("_", "-")
        group.addoption(flag, action="append", default=None, help=help_text)
        parser.addini(ini, help_text + " One per line.", type="linelist")
    group.addoption(
        "--lg-keep-credential-fields", action="store_true", default=None, help=_KEEP_FIELDS_HELP
    )
    parser.addini("lg_keep_credential_fields", _KEEP_FIELDS_HELP, type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lg_cassette(path=None, *, record_mode=None, match_on=None, ignore=None, validate=None, "
        "speed=None, faults=None): record the test's LangGraph HTTP traffic to a cassette, or "
        "replay it. path defaults to <cassette dir>/<test module>/<test name>.json (relative "
        f"paths are under the cassette dir); match_on picks request parts from "
        f"{list(_options.MATCH_ON)}; ignore lists JSON body paths left out of matching (* any "
        "key, ** any depth); validate is strict, lenient or off; faults is an lg_testkit.Faults.",
    )


# -- settings ------------------------------------------------------------------------------------


@pytest.fixture
def lg_config() -> dict[str, Any]:
    """Defaults for lg-testkit settings; override in a conftest. The marker and CLI still win."""
    return {}


@pytest.fixture
def lg_options(request: pytest.FixtureRequest, lg_config: dict[str, Any]) -> _options.Options:
    """The test's settings: CLI > closest `lg_cassette` marker > `lg_config` > ini."""
    config = request.config
    cli = {name: config.getoption("--lg-" + name.replace("_", "-")) for name in _FLAGS}
    cli["contract"] = config.getoption("--lg-contract")
    ini: dict[str, Any] = {name: config.getini(f"lg_{name}") for name in _FLAGS}
    ini["contract"] = config.getini("lg_contract")
    found = request.node.get_closest_marker("lg_cassette")
    try:
        marked = _options.marker(*found.args, **found.kwargs) if found else {}
        return _options.Options.layered(cli, marked, lg_config, ini)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"lg-testkit: {request.node.nodeid}: {exc}") from None


@pytest.fixture
def lg_cassette_dir(request: pytest.FixtureRequest, lg_options: _options.Options) -> Path:
    """The cassette folder (override to move it): `cassette_dir` under the rootdir."""
    return request.config.rootpath / lg_options.cassette_dir


@pytest.fixture
def lg_cassette_name(request: pytest.FixtureRequest) -> str:
    """The test's cassette file under the folder (override to rename): <module>/<test>.json."""
    root = request.config.rootpath
    module = request.path.relative_to(root) if request.path.is_relative_to(root) else request.path
    name = request.node.name
    safe = re.sub(r"[^\w.\[\]-]+", "_", name)  # test_p[0] stays as it is
    if safe != name:  # keep ids that needed changing distinct: test_p[a/b], test_p[a b]
        safe += "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return str(module.with_suffix("") / f"{safe}.json")


@pytest.fixture
def lg_cassette_path(
    lg_options: _options.Options, lg_cassette_dir: Path, lg_cassette_name: str
) -> Path:
    """Where the test's cassette is: the marker's `path` under the folder, or the default name.

    A path that leads out of the cassette folder (`../x.json`, an absolute path elsewhere) is
    refused: set `cassette_dir` to the folder you mean instead.
    """
    path = (lg_cassette_dir / (lg_options.path or lg_cassette_name)).resolve()
    if not path.is_relative_to(lg_cassette_dir.resolve()):
        raise pytest.UsageError(
            f"lg-testkit: cassette path {lg_options.path!r} leads out of the cassette folder "
            f"{lg_cassette_dir}; set cassette_dir (--lg-cassette-dir, lg_config) to its folder"
        )
    return path


def _redaction(config: pytest.Config) -> Redaction:
    from lg_testkit.redaction import Redaction

    def listed(name: str) -> list[str]:
        given = config.getoption("--lg-" + name.replace("_", "-")) or []
        return [*config.getini(_LISTS[name][0]), *given]

    keep = config.getoption("--lg-keep-credential-fields") or config.getini(
        "lg_keep_credential_fields"
    )
    return Redaction(
        listed("redact_header"),
        listed("redact_json"),
        listed("secret"),
        mask_credential_fields=not keep,
    )


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def lg_cassette(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    lg_options: _options.Options,
    lg_cassette_path: Path,
) -> Iterator[CassetteSession]:
    """The test's cassette session; httpx (and so langgraph_sdk) traffic goes through it."""
    from lg_testkit.session import CassetteSession

    session = CassetteSession(
        lg_cassette_path,
        "all" if lg_options.contract else lg_options.record_mode,
        redaction=_redaction(request.config),
        persist=not lg_options.contract,
        **lg_options.session(),
    )
    session.patch(monkeypatch)
    yield session
    session.save()


@pytest.fixture
def lg_client(lg_options: _options.Options, lg_cassette: CassetteSession) -> Any:
    """An async langgraph_sdk client: live when recording or in contract mode, else replaying."""
    import httpx
    from langgraph_sdk.client import LangGraphClient

    # No keep-alive: connections close with their response, so nothing is left open for
    # teardown to close outside the test's event loop.
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    http = httpx.AsyncClient(base_url=lg_options.live_url, transport=transport)
    return LangGraphClient(http)


@pytest.fixture
def lg_sync_client(lg_options: _options.Options, lg_cassette: CassetteSession) -> Iterator[Any]:
    """A sync langgraph_sdk client: live when recording or in contract mode, else replaying."""
    import httpx
    from langgraph_sdk.client import SyncLangGraphClient

    http = httpx.Client(base_url=lg_options.live_url)
    yield SyncLangGraphClient(http)
    http.close()


@pytest.fixture
def lg_server(
    request: pytest.FixtureRequest, lg_options: _options.Options, lg_cassette_path: Path
) -> Iterator[str]:
    """A URL for consumers outside this process (the JS SDK, curl, a browser).

    Replaying: the fake server on a loopback port, serving the test's cassette; a request it
    has no recording for fails the test at teardown with the closest recordings. Recording:
    a recording proxy in front of the live server, writing the test's cassette. Contract mode:
    the live server itself.
    """
    mode, path = lg_options.record_mode, lg_cassette_path
    if lg_options.contract:
        yield lg_options.live_url
    elif mode == "all" or (mode == "once" and not path.exists()):
        from lg_testkit.proxy import RecordingProxy
        from lg_testkit.serving import serve_in_thread

        proxy = RecordingProxy(lg_options.live_url, path, redaction=_redaction(request.config))
        with serve_in_thread(proxy, lifespan="on") as url:
            yield url
    else:
        server = _fake_server(lg_options, path)
        with server.serve() as url:
            yield url
        server.check()


@pytest.fixture
def lg_fake_server(lg_options: _options.Options, lg_cassette_path: Path) -> FakeServer:
    """A fake LangGraph server replaying the test's cassette (see lg_testkit.fakeserver).

    Its in-process clients raise `UnmatchedRequestError` for a request with no recording, so
    the test fails with the closest recordings and how they differ.
    """
    return _fake_server(lg_options, lg_cassette_path, strict=True)


def _fake_server(options: _options.Options, path: Path, *, strict: bool = False) -> FakeServer:
    from lg_testkit.fakeserver import FakeServer

    return FakeServer.from_path(
        path,
        speed=options.speed,
        strict=strict,
        validate=options.validate,
        match_on=options.match_on,
        ignore=options.ignore,
        faults=options.faults,
    )


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


# -- async tests -----------------------------------------------------------------------------------

_ASYNC_MARKERS = ("asyncio", "anyio", "trio")  # tests an async plugin runs itself


@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an `async def` test that uses lg-testkit (its marker or an `lg_*` fixture) in a new
    event loop, unless an async plugin runs it (pytest-asyncio in auto mode or by marker,
    anyio, trio): the quickstart's async test passes on a plain install."""
    function = pyfuncitem.obj
    if not _is_plain_async_lg_test(pyfuncitem):
        return None
    import asyncio
    import inspect

    names = inspect.signature(function).parameters
    asyncio.run(function(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


def _is_plain_async_lg_test(item: pytest.Function) -> bool:
    import inspect

    if not inspect.iscoroutinefunction(item.obj) or "anyio_backend" in item.funcargs:
        return False  # pytest-asyncio swaps in a sync function for the tests it runs
    if any(item.get_closest_marker(name) for name in _ASYNC_MARKERS):
        return False
    return item.get_closest_marker("lg_cassette") is not None or any(
        name.startswith("lg_") for name in item.fixturenames
    )
