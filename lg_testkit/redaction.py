"""What never reaches a cassette: credentials in headers.

Applied to every recorded request and response before it is kept in memory, so no save path
can write a secret. Header names are matched case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["REDACTED", "SECRET_HEADERS", "redact_headers"]

REDACTED = "<redacted>"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-langsmith-api-key",
        "langsmith-api-key",
        "x-auth-token",
        "cookie",
        "set-cookie",
    }
)

# Framing headers describe the bytes on this connection, not the recording: replay recomputes them.
_DROPPED = frozenset({"content-length", "transfer-encoding", "connection", "host", "keep-alive"})


def redact_headers(
    headers: Iterable[tuple[str, str]], extra_secrets: Iterable[str] = ()
) -> dict[str, str]:
    """Lower-cased headers with secrets masked and connection framing left out."""
    secret = SECRET_HEADERS | {name.lower() for name in extra_secrets}
    kept: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in _DROPPED:
            continue
        value = REDACTED if name in secret else value
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept
