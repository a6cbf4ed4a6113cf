"""Does a recorded request answer a live one, and if not, how do they differ.

A request matches by method, path, query and body, compared by meaning rather than bytes:
JSON by value (key order is irrelevant), and a field the client left out counts as the value
the server would have used (`normalize`: `stream_mode: "values"` is `["values"]`, an absent
`stream_subgraphs` is false, an absent `metadata` is `{}`, ...). That is what lets a cassette
recorded with the Python SDK answer the JS SDK or curl. Scheme, host and port are ignored
because test servers move between ports; `ignore` names further body paths to leave out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from lg_testkit.cassette import RecordedRequest
from lg_testkit.protocol import query_defaults, server_defaults
from lg_testkit.redaction import (
    REDACTED,
    is_credential_name,
    is_redacted,
    locate,
    mask_query,
    masked_copy,
    matches_redacted,
)

__all__ = ["MATCH_ON", "differences", "normalize"]

_MAX_LISTED = 5
# The thread a path is on: `/threads/{uuid}`, at the start of the path.
_THREAD_IN_PATH = re.compile(
    r"^/threads/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/|$)"
)
MATCH_ON = ("method", "path", "query", "body")  # what a request is matched on, by default all


def normalize(request: RecordedRequest, ignore: Iterable[str] = ()) -> RecordedRequest:
    """The request as the server understands it: left-out fields set to their defaults.

    `stream_mode` given as one string becomes a one-item list. `ignore` lists body paths
    removed before comparing, in `--lg-redact-json`'s syntax (`config.configurable.user_id`;
    `*` any key or index, `**` any depth; a `json.` or `request:` prefix is allowed).
    """
    request = _with_query_defaults(request)
    body = request.json
    if not isinstance(body, dict):
        return request
    defaults = server_defaults(request.method, request.path)
    ignore = list(ignore)
    if not defaults and not ignore and all(value is not None for value in body.values()):
        return request
    body = {key: value for key, value in body.items() if value is not None}
    if ignore:
        body = copy.deepcopy(body)
    for key, value in defaults.items():
        body.setdefault(key, value)
    if isinstance(body.get("stream_mode"), str):
        body["stream_mode"] = [body["stream_mode"]]
    for path in ignore:
        keys = path.removeprefix("request:").removeprefix("json.").split(".")
        for parent, key in reversed(locate(body, keys)):  # reversed: list indexes stay valid
            del parent[key]
    return replace(request, json=body)


def _with_query_defaults(request: RecordedRequest) -> RecordedRequest:
    defaults = query_defaults(request.method, request.path)
    given = {key for key, _ in request.query}
    missing = [[key, value] for key, value in defaults.items() if key not in given]
    return replace(request, query=[*request.query, *missing]) if missing else request


def differences(
    recorded: RecordedRequest,
    request: RecordedRequest,
    ignore: Iterable[str] = (),
    match_on: Iterable[str] = MATCH_ON,
) -> list[str]:
    """Human-readable differences, empty when the request matches the recording.

    Both sides are compared as `normalize` leaves them, so server defaults and `ignore`d
    paths never count as differences. The thread a path is on is listed only when nothing
    else differs: a consumer's thread is bound to the recorded thread it replays, so next to
    real differences, another recording's thread id is noise (a request on a thread that
    nothing bound still differs: its thread is then the one difference).
    """
    ignore = tuple(ignore)
    return compare(normalize(recorded, ignore), normalize(request, ignore), match_on)


def compare(
    recorded: RecordedRequest, request: RecordedRequest, match_on: Iterable[str] = MATCH_ON
) -> list[str]:
    """`differences` of two requests `normalize` has already left as the server reads them."""
    parts = set(match_on)
    if unknown := parts - set(MATCH_ON):
        raise ValueError(f"match_on takes parts of {MATCH_ON}, not {sorted(unknown)}")
    found: list[str] = []
    if "method" in parts and recorded.method != request.method:
        found.append(f"method: recorded {recorded.method}, got {request.method}")
    other_thread = "path" in parts and _other_thread(recorded.path, request.path)
    if "path" in parts and recorded.path != request.path and not other_thread:
        found.append(f"path: recorded {recorded.path}, got {request.path}")
    if "query" in parts and not _same_query(recorded.query, request.query):
        found.append(
            f"query: recorded {mask_query(recorded.query)}, got {mask_query(request.query)}"
        )
    if "body" in parts:
        if recorded.body != request.body and not matches_redacted(recorded.body, request.body):
            found.append(f"body: recorded {recorded.body!r}, got {request.body!r}")
        found.extend(_json_differences(recorded.json, request.json, "json"))
    if other_thread and not found:
        found.append(f"path: recorded {recorded.path}, got {request.path}")
    return found


def _other_thread(recorded: str, got: str) -> bool:
    """The paths differ only in the thread (`/threads/{id}/...`) each is on."""
    if recorded == got:
        return False
    return _THREAD_IN_PATH.sub("/threads/{id}", recorded) == _THREAD_IN_PATH.sub(
        "/threads/{id}", got
    )


def _same_query(recorded: list[list[str]], got: list[list[str]]) -> bool:
    """Equal as multisets of pairs; a recorded value masked at recording matches any value."""
    masked = {key for key, value in recorded if is_redacted(value)}
    got = [[key, REDACTED if key in masked else value] for key, value in got]
    return sorted(map(tuple, recorded)) == sorted(map(tuple, got))


def _json_differences(recorded: Any, got: Any, path: str, hidden: bool = False) -> Iterator[str]:
    """The differences, a masked recorded value matching anything; values of credential-named
    fields are shown masked (`hidden`)."""
    if matches_redacted(recorded, got):
        return
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key in sorted(recorded.keys() | got.keys()):
            secret = hidden or is_credential_name(str(key))
            if key not in got:
                shown = _short(recorded[key], secret)
                yield f"{path}.{key}: recorded {shown}, missing from the request"
            elif key not in recorded:
                yield f"{path}.{key}: not recorded, got {_short(got[key], secret)}"
            else:
                yield from _json_differences(recorded[key], got[key], f"{path}.{key}", secret)
    elif isinstance(recorded, list) and isinstance(got, list) and len(recorded) == len(got):
        for index, (mine, theirs) in enumerate(zip(recorded, got, strict=True)):
            yield from _json_differences(mine, theirs, f"{path}[{index}]", hidden)
    elif recorded != got or type(recorded) is not type(got):
        yield f"{path}: recorded {_short(recorded, hidden)}, got {_short(got, hidden)}"


def _short(value: Any, hidden: bool = False, limit: int = 80) -> str:
    """A value for a message: short, credentials masked."""
    text = repr(masked_copy(value, credential=hidden))
    return text if len(text) <= limit else text[: limit - 3] + "..."
