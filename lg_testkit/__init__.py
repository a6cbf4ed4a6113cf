"""lg-testkit: record, validate and replay LangGraph run streams for offline tests.

The public names below are imported on first use (PEP 562), so loading the pytest plugin
does not load the fake server, uvicorn or the schema validators into every test run.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.1"

# public name -> the module that defines it
_EXPORTS = {
    "AsyncRecordingTransport": "lg_testkit.recorder",
    "AsyncReplayTransport": "lg_testkit.replay",
    "Cassette": "lg_testkit.cassette",
    "CassetteError": "lg_testkit.errors",
    "CassetteFormatError": "lg_testkit.errors",
    "CassetteNotFoundError": "lg_testkit.errors",
    "CassetteSession": "lg_testkit.session",
    "CassetteVersionError": "lg_testkit.errors",
    "FakeServer": "lg_testkit.fakeserver",
    "Faults": "lg_testkit.replay",
    "Interaction": "lg_testkit.cassette",
    "LgTestkitError": "lg_testkit.errors",
    "Problem": "lg_testkit.validation",
    "RecordMode": "lg_testkit.session",
    "RecordedStream": "lg_testkit.cassette",
    "RecordingTransport": "lg_testkit.recorder",
    "Redaction": "lg_testkit.redaction",
    "ReplayEngine": "lg_testkit.replay",
    "ReplayTransport": "lg_testkit.replay",
    "SSEBlock": "lg_testkit.sse",
    "SSEParser": "lg_testkit.sse",
    "SchemaViolationError": "lg_testkit.errors",
    "ScriptedRun": "lg_testkit.script",
    "SecretLeakError": "lg_testkit.errors",
    "UnmatchedRequestError": "lg_testkit.errors",
    "normalize_events": "lg_testkit.normalize",
    "use_cassette": "lg_testkit.session",
    "validate_event": "lg_testkit.validation",
    "validate_stream": "lg_testkit.validation",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lg_testkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from lg_testkit.cassette import Cassette, Interaction, RecordedStream
    from lg_testkit.errors import (
        CassetteError,
        CassetteFormatError,
        CassetteNotFoundError,
        CassetteVersionError,
        LgTestkitError,
        SchemaViolationError,
        SecretLeakError,
        UnmatchedRequestError,
    )
    from lg_testkit.fakeserver import FakeServer
    from lg_testkit.normalize import normalize_events
    from lg_testkit.recorder import AsyncRecordingTransport, RecordingTransport
    from lg_testkit.redaction import Redaction
    from lg_testkit.replay import AsyncReplayTransport, Faults, ReplayEngine, ReplayTransport
    from lg_testkit.script import ScriptedRun
    from lg_testkit.session import CassetteSession, RecordMode, use_cassette
    from lg_testkit.sse import SSEBlock, SSEParser
    from lg_testkit.validation import Problem, validate_event, validate_stream
