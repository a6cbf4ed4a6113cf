"""The cassette form of a request, from wherever it arrives: an httpx request (the recorder, the
in-process transports) or an ASGI request (the fake server, the recording proxy). One converter,
so a request is matched the same way whichever way it came in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import httpx

from lg_testkit.cassette import NOT_JSON, RecordedRequest, parse_json
from lg_testkit.redaction import Redaction, mask_query, redact_headers

__all__ = ["from_asgi", "from_httpx", "request_form"]


def request_form(
    method: str,
    path: str,
    query: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    redaction: Redaction | None = None,
) -> RecordedRequest:
    """A request as a cassette holds it: query parsed, credentials (headers, credential-named
    query parameters) masked, JSON body parsed."""
    text = body.decode("utf-8", "surrogateescape")
    parsed = parse_json(text) if text else NOT_JSON
    pairs = [(_text(name), _text(value)) for name, value in headers]
    asked = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return RecordedRequest(
        method=method,
        path=path,
        query=redaction.redact_query(asked) if redaction else mask_query(asked),
        headers=redaction.redact_headers(pairs) if redaction else redact_headers(pairs),
        json=None if parsed is NOT_JSON else parsed,
        body=text if parsed is NOT_JSON and text else None,
    )


def from_httpx(request: httpx.Request, redaction: Redaction | None = None) -> RecordedRequest:
    """The cassette form of an httpx request whose body has been read."""
    url = request.url
    return request_form(
        request.method, url.path, url.query, request.headers.raw, request.content, redaction
    )


def from_asgi(
    scope: dict[str, Any], body: bytes, redaction: Redaction | None = None
) -> RecordedRequest:
    """The cassette form of an ASGI HTTP request."""
    return request_form(
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        scope.get("headers", []),
        body,
        redaction,
    )


def _text(raw: bytes) -> str:
    """A header as text: UTF-8 where it is, else Latin-1 (HTTP's historical charset)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
