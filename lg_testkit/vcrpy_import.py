"""Convert vcrpy cassettes of LangGraph traffic into event-level lg-testkit cassettes.

vcrpy stores each response body as one string; an SSE stream becomes one opaque blob with no
timing. This reads the file with vcrpy's own deserializer and runs each exchange through the
recorder's capture, so redaction, content decoding and SSE parsing are exactly those of a live
recording. vcrpy kept no chunking or timing, so each imported stream is one chunk at t=0.
The result passes the checks of `Cassette.load`, so what is imported can be loaded again.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from vcr.serialize import deserialize
from vcr.serializers import jsonserializer, yamlserializer

from lg_testkit.cassette import Cassette
from lg_testkit.cassette.reader import from_document, read_file
from lg_testkit.errors import CassetteFormatError
from lg_testkit.recorder import Capture
from lg_testkit.redaction import Redaction

__all__ = ["from_vcrpy"]


def from_vcrpy(path: str | os.PathLike[str], redaction: Redaction | None = None) -> Cassette:
    """An lg-testkit cassette with the interactions of vcrpy cassette `path` (YAML or JSON).

    Credential headers and query parameters are masked as they are read; `redaction` collects
    their values, so its `enforce` masks their echoes too before the cassette is saved."""
    path = Path(path)
    try:
        text = read_file(path, "vcrpy cassette").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(f"{path}: cannot read vcrpy cassette: {exc}") from None
    serializer = jsonserializer if path.suffix == ".json" else yamlserializer
    try:
        requests, responses = deserialize(text, serializer)[:2]
    except Exception as exc:  # vcrpy raises many kinds; all mean "not a vcrpy cassette"
        raise CassetteFormatError(f"{path}: not a vcrpy cassette ({exc})") from None
    interactions = []
    for index, (request, response) in enumerate(zip(requests, responses, strict=True)):
        try:
            status = int(response["status"]["code"])
            headers = [(k, v) for k, values in response["headers"].items() for v in values]
            body = response["body"]["string"] or b""
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteFormatError(
                f"{path}: interactions[{index}].response: missing or malformed {exc}"
            ) from None
        capture = Capture(
            httpx.Request(
                request.method, request.uri, headers=request.headers, content=request.body or b""
            ),
            redaction=redaction,
        )
        capture.start_response(httpx.Response(status, headers=headers))
        capture.chunk(body if isinstance(body, bytes) else body.encode(), at=0.0)
        interactions.append(capture.finish(cut_short=False))
    imported = Cassette(interactions, {"imported_from": {"vcrpy": str(path)}})
    checked = from_document(imported.to_dict(), path)  # e.g. a 204 with a body: refused here
    checked.path = None
    return checked
