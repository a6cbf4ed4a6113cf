"""Every error lg-testkit raises, under one root.

LgTestkitError
├── CassetteError            a cassette file cannot be used
│   ├── CassetteNotFoundError    replay asked for a cassette that does not exist
│   ├── CassetteFormatError      the file is not a cassette, or is malformed
│   └── CassetteVersionError     written by a format version this release cannot read
├── UnmatchedRequestError    a replayed request has no recorded answer (also AssertionError)
├── SchemaViolationError     a run stream breaks the event schemas (also AssertionError)
├── SecretLeakError          a configured secret would have been written to disk
└── DevServerError           the embedded `langgraph dev` server failed to start

SchemaWarning (a UserWarning) reports what lenient validation lets through, e.g. unknown events.

Messages say what was expected, what was found and where (file, interaction, event index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SHOWN_PROBLEMS = 20


class LgTestkitError(Exception):
    """Root of every lg-testkit error."""


class CassetteError(LgTestkitError):
    """A cassette file cannot be used."""


class CassetteNotFoundError(CassetteError):
    """Replay needs a cassette that is not on disk."""


class CassetteFormatError(CassetteError):
    """The file is not a cassette, or a required field is missing or malformed."""


class CassetteVersionError(CassetteError):
    """The cassette was written in a format version this release cannot read."""


class UnmatchedRequestError(LgTestkitError, AssertionError):
    """A request reached replay that no recorded interaction answers.

    An AssertionError too, so pytest reports a failed test rather than an error.
    """


class SchemaViolationError(LgTestkitError, AssertionError):
    """A run stream has events that do not match the event schemas or the stream rules.

    `problems` lists each finding (`lg_testkit.validation.Problem`: source, event index, event
    name, JSON path, message). An AssertionError too, so pytest reports a failed test.
    """

    def __init__(self, problems: Sequence[Any], where: str) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:_SHOWN_PROBLEMS])
        more = len(self.problems) - _SHOWN_PROBLEMS
        if more > 0:
            shown += f"\n  ... and {more} more"
        count = len(self.problems)
        super().__init__(
            f"{where}: {count} schema problem{'s' if count != 1 else ''} in the event stream "
            f"(source:event-index: event: JSON path: problem):\n{shown}\n"
            "Fix the server or graph, or record with validation off (--lg-validate=off) "
            "to keep the stream as it is."
        )


class SchemaWarning(UserWarning):
    """Something lenient validation lets through, such as an event name it does not know."""


class SecretLeakError(LgTestkitError):
    """A value configured as secret was found in what would be written."""


class DevServerError(LgTestkitError):
    """The embedded `langgraph dev` server did not start or stopped unexpectedly."""
