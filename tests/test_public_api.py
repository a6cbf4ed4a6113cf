"""The public surface is small and deliberate: a change to it shows up here first."""

from __future__ import annotations

import subprocess
import sys

import lg_testkit
from lg_testkit import errors

PUBLIC = [
    "AsyncRecordingTransport",
    "AsyncReplayTransport",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "CassetteSession",
    "CassetteVersionError",
    "FakeServer",
    "Faults",
    "Interaction",
    "LgTestkitError",
    "Problem",
    "RecordMode",
    "RecordedStream",
    "RecordingTransport",
    "Redaction",
    "ReplayEngine",
    "ReplayTransport",
    "SSEBlock",
    "SSEParser",
    "SchemaViolationError",
    "ScriptedRun",
    "SecretLeakError",
    "UnmatchedRequestError",
    "__version__",
    "normalize_events",
    "use_cassette",
    "validate_event",
    "validate_stream",
]


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert lg_testkit.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(lg_testkit, name) is not None


def test_every_public_error_lives_in_errors_under_one_root() -> None:
    for name in PUBLIC:
        value = getattr(lg_testkit, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert value.__module__ == errors.__name__, name
            assert issubclass(value, errors.LgTestkitError), name


def test_loading_the_plugin_loads_no_server_and_no_validator() -> None:
    code = (
        "import sys, lg_testkit.plugin; "
        "print(sorted(m for m in ('uvicorn', 'jsonschema', 'jsonschema_rs', "
        "'lg_testkit.fakeserver', 'lg_testkit.session', 'langgraph_sdk', 'httpx') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_the_library_path_does_not_import_pytest() -> None:
    code = (
        "import sys; from lg_testkit import use_cassette, FakeServer, ReplayTransport; "
        "print('pytest' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"
