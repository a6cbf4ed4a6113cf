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
from lg_testkit.recorder import AsyncRecordingTransport, RecordingTransport
from lg_testkit.replay import AsyncReplayTransport, ReplayTransport
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
    "Interaction",
    "LgTestkitError",
    "Problem",
    "RecordMode",
    "RecordedStream",
    "RecordingTransport",
    "ReplayTransport",
    "SSEBlock",
    "SSEParser",
    "SchemaViolationError",
    "UnmatchedRequestError",
    "__version__",
    "use_cassette",
    "validate_event",
    "validate_stream",
]
