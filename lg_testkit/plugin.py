"""pytest plugin: options, the `lg_cassette` marker and fixture. Wiring only; see session.py.

Precedence for every setting: command line > marker > ini.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lg_testkit.session import CassetteSession, RecordMode

_MODES = [mode.value for mode in RecordMode]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lg-testkit", "LangGraph stream cassettes (lg-testkit)")
    group.addoption(
        "--lg-record-mode",
        choices=_MODES,
        default=None,
        help="none (default: replay only, no network), once, new_episodes or all, as in vcrpy.",
    )
    group.addoption("--lg-cassette-dir", default=None, help="Where cassettes live (default: cassettes).")
    group.addoption(
        "--lg-speed",
        type=float,
        default=None,
        help="Replay at recorded timing divided by this factor (default: no delays).",
    )
    parser.addini("lg_record_mode", "Default record mode.", default="none")
    parser.addini("lg_cassette_dir", "Cassette folder, relative to the rootdir.", default="cassettes")
    parser.addini("lg_speed", "Default replay speed factor; empty for no delays.", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lg_cassette(path=None, record_mode=None): record the test's LangGraph HTTP traffic to a "
        "cassette, or replay it from one. path defaults to "
        "<cassette dir>/<test module>/<test name>.json; relative paths are under the cassette dir.",
    )


def _setting(request: pytest.FixtureRequest, option: str, marker_key: str) -> object:
    """CLI > closest marker > ini."""
    value = request.config.getoption(f"--lg-{option}")
    if value is not None:
        return value
    marker = request.node.get_closest_marker("lg_cassette")
    if marker is not None and marker.kwargs.get(marker_key) is not None:
        return marker.kwargs[marker_key]
    return request.config.getini(f"lg_{option.replace('-', '_')}")


def _cassette_path(request: pytest.FixtureRequest) -> Path:
    root = request.config.rootpath
    folder = root / str(_setting(request, "cassette-dir", "cassette_dir"))
    marker = request.node.get_closest_marker("lg_cassette")
    explicit = marker and (marker.args[0] if marker.args else marker.kwargs.get("path"))
    if explicit:
        return folder / explicit
    module = request.path.relative_to(root) if request.path.is_relative_to(root) else request.path
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    return folder / module.with_suffix("") / f"{test_name}.json"


@pytest.fixture
def lg_cassette(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[CassetteSession]:
    """The test's cassette session; httpx (and so langgraph_sdk) traffic goes through it."""
    speed = _setting(request, "speed", "speed")
    session = CassetteSession(
        _cassette_path(request),
        str(_setting(request, "record-mode", "record_mode")),
        speed=float(speed) if speed not in (None, "") else None,  # type: ignore[arg-type]
    )
    session.patch(monkeypatch)
    yield session
    session.save()


@pytest.fixture(autouse=True)
def _lg_cassette_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("lg_cassette") is not None:
        request.getfixturevalue("lg_cassette")
