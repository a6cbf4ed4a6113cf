"""What a credential looks like: the names that carry one, and masking them in headers, queries
and any JSON value, with the `<redacted>` marker a recording keeps in their place.

- Headers (`is_credential_header`): masked when the name contains `auth`, `key`, `token`,
  `secret`, `cookie`, `session`, `password` or `passwd`, in any case (`Authorization`,
  `X-Api-Key`, `Cookie`, `Set-Cookie`, `api-key`, `X-OpenAI-Api-Key`, ...).
- Query parameters and JSON fields (`is_credential_name`): a stricter rule on the name's last
  word, so `openai_api_key`, `token`, `client_secret` are credentials and LangGraph's counts and
  ids (`input_tokens`, `max_tokens`, `token_usage`, `checkpoint_ns`, `session_id`, `key`) are not.

For replay and its messages: `is_redacted` / `matches_redacted` (a recorded value that was
masked matches any live value), `mask_query` and `masked_copy` (texts that show a request), and
`locate`, the JSON path syntax shared by `--lg-redact-json` and `ignore=`. lg_testkit.redaction
applies all this to recordings and re-exports it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "is_credential_header",
    "is_credential_name",
    "is_redacted",
    "locate",
    "mask_query",
    "masked_copy",
    "matches_redacted",
    "redact_headers",
    "remember",
]

REDACTED = "<redacted>"

# Masked whatever their name says (kept for callers of 0.1.0; all are caught by the rule too).
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
_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie", "session", "password", "passwd")

# Framing headers describe the bytes on this connection, not the recording: replay recomputes them.
_DROPPED = frozenset({"content-length", "transfer-encoding", "connection", "host", "keep-alive"})

# Masked values shorter than this are not looked for elsewhere (too likely to match by chance).
_MIN_SEEN_SECRET = 8

# -- names ---------------------------------------------------------------------------------------

# A field or parameter is a credential when its last word is one of these...
_SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "cookie",
        "cookies",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "apikey",
        "apikeys",
        "bearer",
        "jwt",
    }
)
# ... or `key`/`keys` after one of these (`api_key`, `secret_key`; not `key`, `cache_key`) ...
_KEY_KINDS = frozenset(
    {"api", "secret", "private", "access", "auth", "session", "signing", "client", "subscription"}
)
# ... or one word ending so (`accesstoken`, `clientsecret`, `openaiapikey`).
_SECRET_ENDINGS = ("token", "secret", "password", "apikey")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)
def is_credential_name(name: str) -> bool:
    """Whether a JSON field or query parameter of this name holds a credential.

    The rule is on the name's last word (split at `_`, `-`, `.` and camelCase): `token`,
    `secret(s)`, `password(s)`, `passwd`, `passphrase`, `cookie(s)`, `authorization`, `auth`,
    `credential(s)`, `apikey`, `bearer`, `jwt`; or `key(s)` after `api`, `secret`, `private`,
    `access`, `auth`, `session`, `signing`, `client`, `subscription`; or a single word ending in
    `token`, `secret`, `password`, `apikey`. So `openai_api_key`, `x-api-key`, `apiKey`,
    `access_token`, `metadata.token`, `client_secret` are credentials, and counts and ids are
    not: `input_tokens`, `total_tokens`, `max_tokens`, `token_usage`, `usage_metadata`, `key`,
    `session_id`, `checkpoint_ns`, `langgraph_auth_user`, `__pregel_task_id`, `run_id`.
    """
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_WORDS:
        return True
    if last in ("key", "keys"):
        return len(words) > 1 and words[-2] in _KEY_KINDS
    return len(words) == 1 and last.endswith(_SECRET_ENDINGS)


@functools.lru_cache(maxsize=1024)
def is_credential_header(name: str) -> bool:
    """Whether a header of this name is masked: its name contains `auth`, `key`, `token`,
    `secret`, `cookie`, `session`, `password` or `passwd` (any case). Wider than
    `is_credential_name`: header names are few, and a masked header never breaks replay."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in _HEADER_WORDS)


# -- what the matcher uses -------------------------------------------------------------------------


def is_redacted(value: Any) -> bool:
    """Whether a recorded value is the redaction marker itself (it stands for any live value)."""
    return isinstance(value, str) and value == REDACTED


def matches_redacted(recorded: Any, live: Any) -> bool:
    """Whether a recorded value that was masked matches a live one: the marker as the whole
    value matches anything; inside a string each marker stands for any text
    (`"my key is <redacted>"` matches `"my key is sk-123"`). False when nothing was masked."""
    if is_redacted(recorded):
        return True
    if not (isinstance(recorded, str) and isinstance(live, str) and REDACTED in recorded):
        return False
    first, *middle, last = recorded.split(REDACTED)
    end = len(live) - len(last)
    if end < len(first) or not live.startswith(first) or not live.endswith(last):
        return False
    position = len(first)
    for part in middle:
        found = live.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def mask_query(pairs: Iterable[Sequence[str]], seen: set[str] | None = None) -> list[list[str]]:
    """Query pairs with credential-named parameters' values masked (`?api_key=...`).

    For the cassette form of a request, and for any text showing a query. `seen`, when given,
    collects the values masked."""
    masked: list[list[str]] = []
    for name, value in pairs:
        if value and is_credential_name(name) and value != REDACTED:
            remember(seen, value)
            value = REDACTED
        masked.append([name, value])
    return masked


def masked_copy(value: Any, *, credential: bool = False) -> Any:
    """A copy of a JSON value with every credential field's strings masked, for messages.
    `credential`: the value is itself a credential field's (its strings are masked too)."""
    if credential:
        return _concealed(value)
    if isinstance(value, dict):
        return {
            key: _concealed(inner)
            if isinstance(key, str) and is_credential_name(key)
            else masked_copy(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [masked_copy(inner) for inner in value]
    return value


def _concealed(value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED if value else value
    if isinstance(value, list):
        return [_concealed(inner) for inner in value]
    return masked_copy(value)


def locate(value: Any, keys: Sequence[str]) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) a path names in a JSON value, in document order.

    `keys` is a path split at dots (`"input.messages.*.content".split(".")`): `*` is any key
    or index, `**` any depth including none, a number an index. Delete in reverse order
    (`for parent, key in reversed(locate(...)): del parent[key]`) to keep list indexes valid.
    """
    found: list[tuple[Any, Any]] = []
    _locate(value, list(keys), found)
    return found


def _locate(value: Any, keys: list[str], found: list[tuple[Any, Any]]) -> None:
    if not keys:
        return
    head, rest = keys[0], keys[1:]
    if head == "**":
        if not rest:
            return
        _locate(value, rest, found)
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        )
        for child in list(children):
            _locate(child, keys, found)
        return
    if isinstance(value, dict):
        names: list[Any] = list(value) if head == "*" else [head] if head in value else []
    elif isinstance(value, list):
        indexes = range(len(value)) if head == "*" else [int(head)] if head.isdigit() else []
        names = [i for i in indexes if i < len(value)]
    else:
        return
    for name in names:
        if rest:
            _locate(value[name], rest, found)
        elif (value, name) not in found:
            found.append((value, name))


# -- headers --------------------------------------------------------------------------------------


def redact_headers(
    headers: Iterable[tuple[str, str]],
    extra_secrets: Iterable[str] = (),
    seen: set[str] | None = None,
) -> dict[str, str]:
    """Lower-cased headers with credentials masked and connection framing left out.

    `extra_secrets` names more headers to mask. `seen`, when given, collects the credential
    values that were masked (a bearer token without its scheme, each cookie's value), so they
    can be masked wherever the server echoes them.
    """
    extra = {name.lower() for name in extra_secrets}
    kept: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in _DROPPED:
            continue
        if (name in extra or is_credential_header(name)) and value != REDACTED:
            for part in _credential_parts(name, value):
                remember(seen, part)
            value = REDACTED
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _credential_parts(name: str, value: str) -> Iterator[str]:
    yield value.strip()
    if name == "cookie":
        for pair in value.split(";"):
            yield pair.partition("=")[2].strip()
    elif name == "set-cookie":  # the cookie's value; Path, Domain, Expires are not secret
        yield value.split(";", 1)[0].partition("=")[2].strip()
    elif " " in value.strip():  # "Bearer abc", "Basic abc"
        yield value.strip().split(None, 1)[1]


def remember(seen: set[str] | None, value: str) -> None:
    """Add a masked value to `seen` (when given), unless too short to look for safely."""
    if seen is not None and len(value) >= _MIN_SEEN_SECRET and value != REDACTED:
        seen.add(value)
