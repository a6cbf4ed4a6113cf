"""What never reaches a cassette: credentials, configured fields, secret values, and their echoes.

By default, with nothing configured:

- Headers whose name says they carry a credential (it contains `auth`, `key`, `token`, `secret`,
  `cookie`, `session`, `password` or `passwd`, in any case: `Authorization`, `X-Api-Key`,
  `Cookie`, `Set-Cookie`, `api-key`, `X-OpenAI-Api-Key`, ...) are masked as each request and
  response is recorded, before it is kept in memory (`is_credential_header`).
- Query parameters and JSON fields whose name is a credential (`is_credential_name`: `api_key`,
  `openai_api_key`, `token`, `access_token`, `password`, `client_secret`, `x-api-key`, `apiKey`,
  `authorization`, `cookie`, ...; not `input_tokens`, `max_tokens`, `token_usage`, `key`,
  `session_id`, `checkpoint_ns`, `langgraph_auth_user`) are masked: query parameters as the
  request is recorded, JSON fields of request bodies, response bodies and every stream event
  when the cassette is written. Only string values are masked (a number is never a credential).
  `Redaction(mask_credential_fields=False)` keeps the JSON fields.
- Echoes: every value masked above (8 characters or more) and every configured secret is masked
  wherever else it appears in the recording (stream events, bodies, headers, raw text), as is or
  split across the token events of one streamed message (`messages` chunks, `messages/partial`,
  `on_chat_model_stream`): the first piece holding part of it becomes `<redacted>`, the others
  lose their part, so the message folds to the same text as the masked whole.

Configured on top: extra header names; JSON paths (`input.messages.*.content` names a field of
every body and event, `request:`/`response:` in front limits it to one side, `*` matches any key
or index, `**` any depth); secret values (`env:NAME` reads a variable). A configured secret left
where it cannot be masked (a request path, a JSON key, an event name) stops the write with
`SecretLeakError` naming the file, the interaction and the JSON location.

The rules (which names are credentials, the marker, the helpers replay uses: `matches_redacted`,
`mask_query`, `masked_copy`, `locate`) live in lg_testkit.credentials and are re-exported here;
this module applies them to recordings (`Redaction`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lg_testkit.credentials import (
    REDACTED,
    SECRET_HEADERS,
    is_credential_header,
    is_credential_name,
    is_redacted,
    locate,
    mask_query,
    masked_copy,
    matches_redacted,
    redact_headers,
    remember,
)
from lg_testkit.errors import SecretLeakError

if TYPE_CHECKING:
    from lg_testkit.cassette import Cassette, Interaction, RecordedStream, StreamItem
    from lg_testkit.threadlog import ProtocolThread

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "Redaction",
    "is_credential_header",
    "is_credential_name",
    "is_redacted",
    "locate",
    "mask_query",
    "masked_copy",
    "matches_redacted",
    "redact_headers",
]

_SIDES = ("request", "response")


# -- the policy -----------------------------------------------------------------------------------


@dataclass
class Redaction:
    """What to mask and what to refuse to write (see the module doc for the defaults).

    `headers`: extra header names to mask. `json_paths`: fields to mask. `secrets`: values that
    must never be written (masked wherever they can be; `env:NAME` stands for the value of the
    variable NAME, skipped when unset). `mask_credential_fields`: mask JSON fields named as
    credentials (default True). `seen` collects the credential values masked so far, whose
    echoes are masked too. One `Redaction` per recording: `seen` grows with it.
    """

    headers: list[str] = field(default_factory=list)
    json_paths: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    mask_credential_fields: bool = True
    seen: set[str] = field(default_factory=set)

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return redact_headers(headers, self.headers, self.seen)

    def redact_query(self, pairs: Iterable[Sequence[str]]) -> list[list[str]]:
        return mask_query(pairs, self.seen)

    def configured_secrets(self) -> list[str]:
        values: set[str] = set()
        for secret in self.secrets:
            if secret.startswith("env:"):
                secret = os.environ.get(secret[4:], "")
            if secret:
                values.add(secret)
        return sorted(values, key=len, reverse=True)

    def secret_values(self) -> list[str]:
        """Every value masked wherever it appears: configured secrets and credentials seen,
        longest first (a value inside the marker itself is left alone)."""
        values = {*self.seen, *self.configured_secrets()}
        return sorted((v for v in values if v not in REDACTED), key=len, reverse=True)

    # -- masking -------------------------------------------------------------------------------

    def apply(self, interaction: Interaction) -> None:
        """Mask one interaction in place with what is known so far: credential fields and
        configured headers and paths, then every secret value wherever it appears."""
        self.conceal(interaction)
        self.mask_echoes(interaction, self.secret_values())

    def apply_thread(self, thread: ProtocolThread) -> None:
        """`apply` for a thread-protocol event log (its commands, replies and events)."""
        self._thread(thread, self._credential_edits)
        if secrets := self.secret_values():
            self._thread(thread, functools.partial(_echo_edits, secrets=secrets), secrets)

    def enforce(self, cassette: Cassette, where: str | None = None) -> None:
        """What runs before a cassette is written: mask credentials and configured fields
        everywhere (collecting their values), then every echo of them, then refuse with
        `SecretLeakError` if a configured secret is left where it cannot be masked."""
        for interaction in cassette.interactions:
            self.conceal(interaction)
        for thread in cassette.threads:
            self._thread(thread, self._credential_edits)
        self._value_in(cassette.meta, self._credential_edits)
        secrets = self.secret_values()
        if secrets:
            for interaction in cassette.interactions:
                self.mask_echoes(interaction, secrets)
            echo = functools.partial(_echo_edits, secrets=secrets)
            for thread in cassette.threads:
                self._thread(thread, echo, secrets)
            self._value_in(cassette.meta, echo)
        self.scan(cassette, where)

    def conceal(self, interaction: Interaction) -> None:
        """Mask configured headers and paths, and credential fields (their values are kept in
        `seen`), in place."""
        request, response = interaction.request, interaction.response
        request.headers = redact_headers(request.headers.items(), self.headers, self.seen)
        response.headers = redact_headers(response.headers.items(), self.headers, self.seen)
        request.query = mask_query(request.query, self.seen)
        paths = list(self._paths())
        mine = [keys for side, keys in paths if side == "request"]
        theirs = [keys for side, keys in paths if side == "response"]
        if _edited(request, "json", self._field_edits(request.json, mine)):
            request.body = None
        if response.stream is None:
            if _edited(response, "json", self._field_edits(response.json, theirs)):
                response.body = None
            return

        def plan(item: StreamItem) -> list[Edit]:
            if not theirs and not (self.mask_credential_fields and _names_one(item.data_json())):
                return []  # the quick look at the item's JSON text found nothing to mask
            return self._field_edits(item.data, theirs)

        _edit_stream(response.stream, plan)

    def mask_echoes(self, interaction: Interaction, secrets: list[str]) -> None:
        """Replace every secret value wherever it appears in one interaction, in place."""
        if not secrets:
            return
        request, response = interaction.request, interaction.response
        request.headers = {k: _replace(v, secrets) for k, v in request.headers.items()}
        response.headers = {k: _replace(v, secrets) for k, v in response.headers.items()}
        request.query = [[k, _replace(v, secrets)] for k, v in request.query]
        if _edited(request, "json", _echo_edits(request.json, secrets)):
            request.body = None
        if request.body is not None:
            request.body = _replace(request.body, secrets)
        stream = response.stream
        if stream is None:
            if _edited(response, "json", _echo_edits(response.json, secrets)):
                response.body = None
            if response.body is not None:
                response.body = _replace(response.body, secrets, escaped=True)
            return
        from lg_testkit.message_pieces import split_secret_edits

        pieces = split_secret_edits(stream.items, secrets)
        forms = _forms(secrets)

        def plan(item: StreamItem) -> list[Edit]:
            blob = item.data_json()
            if not any(form in blob for form in forms):
                return []  # the quick look at the item's JSON text found none
            return _echo_edits(item.data, secrets)

        _edit_stream(stream, plan, pieces, secrets)
        if stream.dropped:
            stream.dropped = _replace(stream.dropped, secrets)

    def _field_edits(self, value: Any, paths: list[list[str]]) -> list[Edit]:
        edits = [(parent, key, REDACTED) for keys in paths for parent, key in locate(value, keys)]
        if self.mask_credential_fields:
            edits.extend(self._credential_edits(value))
        return [(parent, key, new) for parent, key, new in edits if parent[key] != new]

    def _credential_edits(self, value: Any) -> list[Edit]:
        return _credential_edits(value, self.seen) if self.mask_credential_fields else []

    def _paths(self) -> Iterator[tuple[str, list[str]]]:
        for path in self.json_paths:
            side, colon, rest = path.partition(":")
            if colon and side in _SIDES:
                yield side, rest.split(".")
            else:
                for both in _SIDES:
                    yield both, path.split(".")

    def _thread(self, thread: ProtocolThread, edits: Any, secrets: Sequence[str] = ()) -> None:
        headers = redact_headers(thread.stream_headers.items(), self.headers, self.seen)
        thread.stream_headers = {k: _replace(v, secrets) for k, v in headers.items()}
        for command in thread.commands:
            self._value_in(command, edits, "command")
            self._value_in(command, edits, "reply")
        for event in thread.events:
            self._value_in(event, edits, "event")

    @staticmethod
    def _value_in(owner: Any, edits: Any, name: str | None = None) -> None:
        if name is None:
            _apply(edits(owner))
        else:
            _edited(owner, name, edits(getattr(owner, name)))

    def mask_text(self, text: str) -> str:
        """`text` (a log line, a message) with every secret value known so far masked."""
        return _replace(text, self.secret_values())

    # -- the scan ------------------------------------------------------------------------------

    def appears_in(self, text: str) -> bool:
        """Whether any secret value (configured or seen) occurs in `text`, as is or JSON-escaped.

        A quick check of a cassette's text about to be written; `enforce` then masks it and
        `scan` names what cannot be masked."""
        return any(secret in text or _escaped(secret) in text for secret in self.secret_values())

    def scan(self, cassette: Cassette, where: str | None = None) -> None:
        """Raise `SecretLeakError` if a configured secret appears anywhere in `cassette`, in any
        string or key, or in the text of a streamed message folded from its token events."""
        secrets = self.configured_secrets()
        if not secrets:
            return
        from lg_testkit.message_pieces import folded_texts

        source = where or str(cassette.path or "the cassette")
        found: list[str] = []
        document = cassette.to_dict()
        for location, text in _strings(document["meta"], "meta"):
            found.extend(_hits(secrets, text, location))
        for number, raw in enumerate(document["interactions"]):
            label = f"interaction #{number} ({raw['request']['method']} {raw['request']['path']})"
            text = json.dumps(raw, ensure_ascii=False)  # a quick look first, then where
            mentioned = any(s in text or _escaped(s) in text for s in secrets)
            places = list(_strings(raw, f"interactions[{number}]")) if mentioned else []
            stream = cassette.interactions[number].response.stream
            for (first, last), text in folded_texts(stream.items if stream else []):
                location = (
                    f"interactions[{number}].response.stream.items[{first}..{last}] "
                    "(a message folded from its token events)"
                )
                places.append((location, text))
            for location, text in places:
                found.extend(f"{label}: {hit}" for hit in _hits(secrets, text, location))
        for number, thread in enumerate(document.get("threads", [])):
            found.extend(_hits_in(secrets, thread, f"threads[{number}]"))
        if found:  # the secret masked in the lines too (it may be in a path or a key)
            shown = "\n".join(f"  {_replace(line, secrets)}" for line in found[:20])
            more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
            raise SecretLeakError(
                f"{source}: refusing to write a cassette containing a secret value "
                f"({len(found)} place{'s' if len(found) != 1 else ''}):\n{shown}{more}\n"
                "It is where it cannot be masked (a path, a JSON key, an event name): keep the "
                "secret out of those, then record again."
            )


# -- edits: (container, key or index, new value), applied after planning -------------------------

Edit = tuple[Any, Any, Any]


def _apply(edits: list[Edit]) -> bool:
    for parent, key, new in edits:
        parent[key] = new
    return bool(edits)


def _edited(owner: Any, name: str, edits: list[Edit]) -> bool:
    """Apply edits planned on `owner.<name>` (wrapped in a list, so a bare string can change)."""
    if not edits:
        return False
    box = [getattr(owner, name)]
    _apply([(box, 0, new) if parent is _BOX else (parent, key, new) for parent, key, new in edits])
    setattr(owner, name, box[0])
    return True


_BOX: list[Any] = []  # stands for the owner's attribute in an edit of a bare string


def _credential_edits(value: Any, seen: set[str]) -> list[Edit]:
    """Edits masking every credential-named field's string values (and lists of strings)."""
    edits: list[Edit] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            logprob = "logprob" in node  # an OpenAI logprob entry: its `token` is text
            for key, inner in node.items():
                named = isinstance(key, str) and is_credential_name(key)
                if named and not (logprob and key == "token"):
                    _conceal(node, key, inner, edits, seen, stack)
                elif isinstance(inner, dict | list):
                    stack.append(inner)
        elif isinstance(node, list):
            stack.extend(inner for inner in node if isinstance(inner, dict | list))
    return edits


def _conceal(
    parent: Any, key: Any, value: Any, edits: list[Edit], seen: set[str], stack: list[Any]
) -> None:
    if isinstance(value, str):
        if value and value != REDACTED:
            remember(seen, value)
            edits.append((parent, key, REDACTED))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _conceal(value, index, inner, edits, seen, stack)
    elif isinstance(value, dict):
        stack.append(value)  # a dict's own fields are judged by their names


def _echo_edits(value: Any, secrets: list[str]) -> list[Edit]:
    """Edits replacing each secret inside every string value (a bare string: a `_BOX` edit)."""
    if isinstance(value, str):
        replaced = _replace(value, secrets)
        return [(_BOX, 0, replaced)] if replaced != value else []
    edits: list[Edit] = []
    stack = [value] if isinstance(value, dict | list) else []
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, inner in pairs:
            if isinstance(inner, str):
                if any(secret in inner for secret in secrets):
                    edits.append((node, key, _replace(inner, secrets)))
            elif isinstance(inner, dict | list):
                stack.append(inner)
    return edits


def _replace(text: str, secrets: Sequence[str], *, escaped: bool = False) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
        if escaped and (form := _escaped(secret)) != secret and form in text:
            text = text.replace(form, REDACTED)
    return text


def _escaped(secret: str) -> str:
    return json.dumps(secret, ensure_ascii=False)[1:-1]


def _forms(secrets: Sequence[str]) -> list[bytes]:
    """The secrets as they can appear in compact JSON text, as bytes."""
    forms = {form.encode("utf-8", "surrogateescape") for s in secrets for form in (s, _escaped(s))}
    return sorted(forms)


# A key naming a credential ends with one of these words (the last word of every name that
# `is_credential_name` accepts) right before its closing quote: a quick look at JSON text.
_KEY_ENDINGS = tuple(
    f'{word}":'.encode()
    for word in (
        *("token", "secret", "password", "passwd", "passphrase", "cookie", "auth"),
        *("authorization", "credential", "apikey", "bearer", "jwt", "key"),
        *("secrets", "passwords", "cookies", "credentials", "apikeys", "keys"),
    )
)


def _names_one(blob: bytes) -> bool:
    """Whether a compact JSON text may have a key naming a credential (the walk decides)."""
    lowered = blob.lower()
    return any(ending in lowered for ending in _KEY_ENDINGS)


# -- streams: items edited, chunk sizes kept adding up --------------------------------------------


def _edit_stream(
    stream: RecordedStream,
    plan: Any,
    planned: dict[int, list[Edit]] | None = None,
    secrets: list[str] | None = None,
) -> None:
    """Apply `planned` edits (by item index), then `plan(item)`'s, to every item's data, and
    mask its texts when `secrets` are given. Chunk sizes are refitted to the new lengths."""
    from lg_testkit.cassette import NO_DATA

    before: dict[int, int] = {}
    newline = stream.newline
    for index, item in enumerate(stream.items):
        first = (planned or {}).get(index)
        if first:
            before[index] = len(item.wire(newline))
            _edit_item(item, first)
        if item.data is not NO_DATA and (edits := plan(item)):  # after the first edits
            if index not in before:
                before[index] = len(item.wire(newline))
            _edit_item(item, edits)
        texts = _text_edits(item, secrets) if secrets else []
        if texts:
            if index not in before:
                before[index] = len(item.wire(newline))
            for name, new in texts:
                setattr(item, name, new)
    if before:
        _refit(stream, before)


def _edit_item(item: Any, edits: list[Edit]) -> None:
    _edited(item, "data", edits)
    item.changed()  # the data changed in place: its kept encoding is stale
    item.raw = None  # and so is its exact text


def _text_edits(item: Any, secrets: list[str]) -> list[tuple[str, Any]]:
    changes: list[tuple[str, Any]] = []
    for name in ("text", "comment", "raw"):
        value = getattr(item, name)
        if value is not None and (new := _replace(value, secrets, escaped=name == "raw")) != value:
            changes.append((name, new))
    if item.comments:
        comments = tuple(_replace(line, secrets) for line in item.comments)
        if comments != item.comments:
            changes.append(("comments", comments))
    return changes


def _refit(stream: RecordedStream, before: dict[int, int]) -> None:
    """Chunk sizes moved to the items' new lengths, so replay keeps the recorded chunking.

    A chunk boundary inside an item that changed stays at the same offset in the item (or at
    its end, if the item got shorter); chunks left empty are dropped."""
    sizes = [int(size) for _, size in stream.chunks]
    new = [len(item.wire(stream.newline)) for item in stream.items]
    old = [before.get(index, length) for index, length in enumerate(new)]
    if sum(sizes) != sum(old):
        return  # the chunks did not add up before: replay sends one chunk per item anyway
    ends: list[int] = []
    index = old_start = new_start = position = 0
    for size in sizes:
        position += size
        while index < len(old) and old_start + old[index] < position:
            old_start += old[index]
            new_start += new[index]
            index += 1
        if index == len(old):
            ends.append(new_start)
            continue
        offset = position - old_start
        ends.append(new_start + (new[index] if offset == old[index] else min(offset, new[index])))
    chunks: list[list[float]] = []
    previous = 0
    for (t, recorded), end in zip(stream.chunks, ends, strict=True):
        if end - previous or not recorded:
            chunks.append([t, end - previous])
        previous = end
    stream.chunks = chunks


# -- the scan's helpers ---------------------------------------------------------------------------


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


def _hits_in(secrets: list[str], value: Any, path: str) -> Iterator[str]:
    for location, text in _strings(value, path):
        yield from _hits(secrets, text, location)


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
