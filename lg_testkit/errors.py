"""Every error lg-testkit raises, under one root.

LgTestkitError
├── CassetteError            a cassette file cannot be used
│   ├── CassetteNotFoundError    replay asked for a cassette that does not exist
│   ├── CassetteFormatError      the file is not a cassette, or is malformed
│   └── CassetteVersionError     written by a format version this release cannot read
├── UnmatchedRequestError    replay got a request the cassette has no answer for (also AssertionError)
├── SecretLeakError          a configured secret would have been written to disk
└── DevServerError           the embedded `langgraph dev` server failed to start

Messages say what was expected, what was found and where (file, interaction, event index).
"""

from __future__ import annotations


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


class SecretLeakError(LgTestkitError):
    """A value configured as secret was found in what would be written."""


class DevServerError(LgTestkitError):
    """The embedded `langgraph dev` server did not start or stopped unexpectedly."""
