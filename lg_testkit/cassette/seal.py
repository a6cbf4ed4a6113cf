"""A cassette's seal: proof that a file is byte for byte what lg-testkit wrote.

The writer ends a file with one more key, `"sealed": {"sha256", "checks", "valid"}`: the digest
of everything before it, the version of the reader's rules the items were written under, and the
digest of the schemas and stream rules every stream passed when it was written (null when one
did not, or was not checked). It seals only a file whose every item has plain heads (`plain_heads`:
a time in range, and an event name and id that cannot break an SSE line); anything a program
put into a cassette that is not sendable stays unsealed, so that loading it says what and where.

A file whose seal verifies needs no second look: its items are not even read until someone uses
them (replay sends the bytes of their lines as they stand), and replay skips validating streams
the current schemas already passed. Any edit breaks the seal, and the file is then read and
checked the slow way, as every unsealed file is; nothing is refused for a broken seal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from lg_testkit.cassette.model import MAX_OFFSET

__all__ = ["Seal", "plain_heads", "sealed_text", "verified"]

# The reader's rules for items; bump when reader.py refuses more than it did. 2: the writer
# seals only plain heads, and a sealed file's items are not checked when it is loaded.
CHECKS = 2
_OPEN = b',\n  "sealed": '
_CLOSE = b"\n}\n"


@dataclass(frozen=True)
class Seal:
    """A verified seal. `valid`: the schemas digest the file's streams passed, or None."""

    valid: str | None


def plain_heads(ts: list[Any], events: list[Any], ids: list[Any], *, escaped: bool = True) -> bool:
    """What a seal promises of every item besides its bytes (checked with C loops): times are
    seconds in range, event names and ids are strings, and printable (a line break in one would
    add lines to the stream). `escaped=False`: their JSON text has no escape, so no character
    that is not printable (JSON has none raw), and the last look is not needed."""
    return (
        set(map(type, ts)) <= {float, int}
        and min(ts, default=0) >= 0
        and max(ts, default=0) <= MAX_OFFSET
        and set(map(type, events)) | set(map(type, ids)) <= {str, type(None)}
        and (not escaped or all(map(str.isprintable, (set(events) | set(ids)) - {None})))
    )


def sealed_text(body: str, valid: str | None) -> str:
    """The file's text: `body` (the document without its closing brace), then the seal."""
    digest = _digest(body.encode("utf-8"), valid)
    seal = orjson.dumps({"sha256": digest, "checks": CHECKS, "valid": valid}).decode()
    return f"{body}{_OPEN.decode()}{seal}{_CLOSE.decode()}"


def verified(content: bytes) -> Seal | None:
    """The seal of a file's content if it verifies, else None (unsealed, or edited)."""
    if not content.endswith(_CLOSE):
        return None
    at = content.rfind(_OPEN, max(0, len(content) - 512))
    if at == -1:
        return None
    try:
        seal = orjson.loads(content[at + len(_OPEN) : -len(_CLOSE)])
    except orjson.JSONDecodeError:
        return None
    if type(seal) is not dict or seal.get("checks") != CHECKS:
        return None
    valid = seal.get("valid")
    if valid is not None and type(valid) is not str:
        return None
    if seal.get("sha256") != _digest(memoryview(content)[:at], valid):
        return None
    return Seal(valid)


def _digest(body: bytes | memoryview, valid: str | None) -> str:
    digest = hashlib.sha256(body)
    digest.update(b"\0" + (valid or "").encode())  # the claim is sealed with the bytes
    return digest.hexdigest()
