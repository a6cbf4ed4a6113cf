"""lg-testkit: record, validate and replay LangGraph run streams for offline tests."""

__version__ = "0.1.0"

from lg_testkit.cassette import Cassette, Interaction, RecordedStream
from lg_testkit.errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    CassetteVersionError,
    LgTestkitError,
    SchemaViolationError,
    UnmatchedRequestError,
)
from lg_testkit.fakeserver import FakeServer, Faults
from lg_testkit.normalize import normalize_events
from lg_testkit.recorder import AsyncRecordingTransport, RecordingTransport
from lg_testkit.redaction import Redaction
from lg_testkit.replay import AsyncReplayTransport, ReplayTransport
from lg_testkit.script import ScriptedRun
from lg_testkit.session import CassetteSession, RecordMode, use_cassette
from lg_testkit.sse import SSEBlock, SSEParser
from lg_testkit.validation import Problem, validate_event, validate_stream

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
    "ReplayTransport",
    "SSEBlock",
    "SSEParser",
    "SchemaViolationError",
    "ScriptedRun",
    "UnmatchedRequestError",
    "__version__",
    "normalize_events",
    "use_cassette",
    "validate_event",
    "validate_stream",
]
