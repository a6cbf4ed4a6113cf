"""What never reaches a cassette: credentials in headers, configured JSON fields, secret values.

Three layers, all matched case-insensitively for header names:

- Headers: `authorization`, `x-api-key`, LangSmith key headers and cookies (plus any configured
  extra) are masked as each request and response is recorded, before it is kept in memory.
- JSON paths: configured fields of request bodies, response bodies and stream event data are
  masked when a cassette is written. `input.messages.*.content` names a field of every body and
  event; `request:` or `response:` in front limits it to one side; `*` matches any key or index,
  `**` any depth (`**.api_key`: every `api_key` field anywhere).
- Secret values: just before a cassette is written, every string in it (headers, bodies, event
  data, raw text) is scanned for each configured secret; one found stops the write with
  `SecretLeakError` naming the file, the interaction and the JSON location. The values of masked
  credential headers seen while recording are scanned for too, so a key a graph echoes into its
  stream is caught even when nobody configured it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lg_testkit.errors import SecretLeakError

if TYPE_CHECKING:
    from lg_testkit.cassette import Cassette, Interaction

__all__ = ["REDACTED", "SECRET_HEADERS", "Redaction", "redact_headers"]

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

# Masked header values shorter than this are not scanned for (too likely to match by chance).
_MIN_SEEN_SECRET = 8
_SIDES = ("request", "response")


def redact_headers(
    headers: Iterable[tuple[str, str]],
    extra_secrets: Iterable[str] = (),
    seen: set[str] | None = None,
) -> dict[str, str]:
    """Lower-cased headers with secrets masked and connection framing left out.

    `seen`, when given, collects the credential values that were masked (a bearer token without
    its scheme, each cookie's value), so a later scan can look for them elsewhere.
    """
    secret = SECRET_HEADERS | {name.lower() for name in extra_secrets}
    kept: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in _DROPPED:
            continue
        if name in secret:
            if seen is not None:
                seen.update(v for v in _credential_parts(name, value) if len(v) >= _MIN_SEEN_SECRET)
            value = REDACTED
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _credential_parts(name: str, value: str) -> Iterator[str]:
    yield value.strip()
    if name in ("cookie", "set-cookie"):
        for pair in value.split(";"):
            yield pair.partition("=")[2].strip()
    elif " " in value.strip():  # "Bearer abc", "Basic abc"
        yield value.strip().split(None, 1)[1]


@dataclass
class Redaction:
    """What to mask and what to refuse to write, beyond the built-in credential headers.

    `headers`: extra header names to mask. `json_paths`: fields to mask (see the module doc).
    `secrets`: values that must never be written; `env:NAME` stands for the value of the
    environment variable NAME (skipped when unset). `seen` collects masked credential values.
    """

    headers: list[str] = field(default_factory=list)
    json_paths: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return redact_headers(headers, self.headers, self.seen)

    def secret_values(self) -> list[str]:
        values: set[str] = set(self.seen)
        for secret in self.secrets:
            if secret.startswith("env:"):
                secret = os.environ.get(secret[4:], "")
            if secret:
                values.add(secret)
        return sorted(values, key=len, reverse=True)

    # -- masking -------------------------------------------------------------------------------

    def apply(self, interaction: Interaction) -> None:
        """Mask configured headers and JSON paths of one interaction, in place."""
        request, response = interaction.request, interaction.response
        if self.headers:
            request.headers = redact_headers(request.headers.items(), self.headers)
            response.headers = redact_headers(response.headers.items(), self.headers)
        for side, path in self._paths():
            if side == "request" and _mask(request.json, path):
                request.body = None
            if side != "response":
                continue
            if _mask(response.json, path):
                response.body = None
            for item in response.stream.items if response.stream else ():
                if _mask(item.get("data"), path):
                    item.pop("raw", None)

    def _paths(self) -> Iterator[tuple[str, list[str]]]:
        for path in self.json_paths:
            side, colon, rest = path.partition(":")
            if colon and side in _SIDES:
                yield side, rest.split(".")
            else:
                for both in _SIDES:
                    yield both, path.split(".")

    # -- the scan ------------------------------------------------------------------------------

    def appears_in(self, text: str) -> bool:
        """Whether any secret value occurs in `text` (a cassette's JSON), as is or JSON-escaped.

        A quick check of the text about to be written; `scan` then says where.
        """
        return any(
            secret in text or json.dumps(secret, ensure_ascii=False)[1:-1] in text
            for secret in self.secret_values()
        )

    def scan(self, cassette: Cassette, where: str | None = None) -> None:
        """Raise `SecretLeakError` if any secret value appears anywhere in `cassette`."""
        secrets = self.secret_values()
        if not secrets:
            return
        source = where or str(cassette.path or "the cassette")
        found: list[str] = []
        document = cassette.to_dict()
        for location, text in _strings(document["meta"], "meta"):
            found.extend(_hits(secrets, text, location))
        for number, raw in enumerate(document["interactions"]):
            label = f"interaction #{number} ({raw['request']['method']} {raw['request']['path']})"
            for location, text in _strings(raw, f"interactions[{number}]"):
                found.extend(f"{label}: {hit}" for hit in _hits(secrets, text, location))
        if found:
            shown = "\n".join(f"  {line}" for line in found[:20])
            more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
            raise SecretLeakError(
                f"{source}: refusing to write a cassette containing a secret value "
                f"({len(found)} place{'s' if len(found) != 1 else ''}):\n{shown}{more}\n"
                "Mask the field (--redact-json / --lg-redact-json PATH) or keep the secret out "
                "of the graph's output, then record again."
            )

    def enforce(self, cassette: Cassette, where: str | None = None) -> None:
        """What runs before a cassette is written: mask, then scan."""
        for interaction in cassette.interactions:
            self.apply(interaction)
        self.scan(cassette, where)


def _mask(value: Any, keys: list[str]) -> bool:
    """Replace the values at `keys` (with `*` wildcards) by REDACTED; True if any was."""
    if not keys:
        return False
    head, rest = keys[0], keys[1:]
    if head == "**":  # any depth, including none
        if not rest:
            return False
        masked = _mask(value, rest)
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        )
        for child in list(children):
            masked = _mask(child, keys) or masked
        return masked
    if isinstance(value, dict):
        names = list(value) if head == "*" else [head] if head in value else []
    elif isinstance(value, list):
        indexes = range(len(value)) if head == "*" else [int(head)] if head.isdigit() else []
        names = [i for i in indexes if i < len(value)]
    else:
        return False
    masked = False
    for name in names:
        if rest:
            masked = _mask(value[name], rest) or masked
        elif value[name] != REDACTED:
            value[name] = REDACTED
            masked = True
    return masked


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string (keys included) in a JSON value, with its JSON path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key} (key)", str(key)
            yield from _strings(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{index}]")


def _hits(secrets: list[str], text: str, location: str) -> Iterator[str]:
    for secret in secrets:
        if secret in text:
            yield f"{location}: contains {_hint(secret)}"
            return


def _hint(secret: str) -> str:
    """Enough of a secret to recognise it, not enough to use it."""
    if len(secret) <= 8:
        return f"a secret of {len(secret)} characters"
    return f"the secret {secret[:3]}... ({len(secret)} characters)"
