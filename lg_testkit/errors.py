"""Every error lg-testkit raises, under one root.

LgTestkitError
├── CassetteError            a cassette file cannot be used
│   ├── CassetteNotFoundError    replay asked for a cassette that does not exist
│   ├── CassetteFormatError      the file is not a cassette, or is malformed
│   ├── CassetteVersionError     written by a format version this release cannot read
│   └── CassetteWriteError       a cassette could not be written (the old file is left intact)
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


class CassetteWriteError(CassetteError):
    """A cassette could not be written (disk full, no permission); the old file is intact."""


class UnmatchedRequestError(LgTestkitError, AssertionError):
    """A request reached replay that no recorded interaction answers.

    An AssertionError too, so pytest reports a failed test rather than an error. `request` is
    the request as the cassette would hold it; `closest` lists the nearest recordings, each a
    dict of `cassette`, `interaction` (index), `request` (label) and `differences`.
    """

    def __init__(
        self, message: str, *, request: Any = None, closest: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.request = request
        self.closest = list(closest)


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
            "A recording keeps the stream as the server sent it, valid or not: the cassette is "
            "written all the same. Fix the server or graph; or, to accept such streams, validate "
            "leniently (--lg-validate=lenient: unknown events only warn) or not at all "
            "(--lg-validate=off; marker: validate=...)."
        )


class SchemaWarning(UserWarning):
    """Something lenient validation lets through, such as an event name it does not know."""


class SecretLeakError(LgTestkitError):
    """A value configured as secret was found in what would be written."""


class DevServerError(LgTestkitError):
    """The embedded `langgraph dev` server did not start or stopped unexpectedly."""
