"""Ids a replayed conversation hands out, bound to the ids its consumer sends back.

A recorded thread names itself, its runs and its checkpoints by UUID. The first consumer to
replay it gets the recorded ids, so its bytes are the recording's. Every later replay of the
same recording gets ids of its own, derived deterministically from the recorded id and the
replay's number: same length (chunk boundaries stay valid), same leading 24 characters (time
ordering of v7 run ids and v1 checkpoint ids is kept), the last 12 hex digits from a hash.
Responses are rewritten recorded -> live, requests live -> recorded before matching.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lg_testkit.cassette import Interaction

__all__ = [
    "UUID_BYTES",
    "Bindings",
    "bound_ids_in",
    "derive_id",
    "ids_in",
    "ids_in_values",
    "uuids_in",
]

BOUND_KEYS = frozenset({"thread_id", "run_id", "checkpoint_id", "parent_checkpoint_id"})
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_TEXT = re.compile(_UUID)
UUID_BYTES = re.compile(_UUID.encode())
# A UUID after `_id":"` (all bound keys end so; the key itself is looked at for each one found:
# an expression that starts with a literal skips ahead, one that starts with `"` stops at every
# string in the text).
_ID_VALUE = re.compile(b'_id":"(' + _UUID.encode() + b')"')
_BOUND_KEY_BYTES = frozenset(key.encode() for key in BOUND_KEYS)
_UUID_TAIL = re.compile(rb"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_PREFIX = 24  # "xxxxxxxx-xxxx-xxxx-xxxx-": the time and version part of either UUID kind


def derive_id(recorded: str, instance: int) -> str:
    """The id replay number `instance` uses for `recorded` (0 keeps the recorded id)."""
    if instance == 0:
        return recorded
    digest = hashlib.sha256(f"{recorded}/{instance}".encode()).hexdigest()
    return recorded[:_PREFIX] + digest[: len(recorded) - _PREFIX]


def uuids_in(data: bytes) -> list[bytes]:
    """What `UUID_BYTES.findall(data)` finds, found ten times faster: a regular expression that
    starts with `-` skips to the next one (JSON text has few), where one that starts with a hex
    digit is tried at nearly every position."""
    found = []
    taken = 0  # where the last one found ends: the expression's matches do not overlap
    for match in _UUID_TAIL.finditer(data):
        start = match.start() - 8
        if start >= taken and _HEX.issuperset(data[start : match.start()]):
            found.append(data[start : match.end()])
            taken = match.end()
    return found


def ids_in(interactions: Iterable[Interaction]) -> set[str]:
    """Every thread, run and checkpoint id the interactions mention (paths, headers, bodies)."""
    found: set[str] = set()
    for interaction in interactions:
        request, response = interaction.request, interaction.response
        found.update(_UUID_TEXT.findall(request.path))
        for name in ("location", "content-location"):
            found.update(_UUID_TEXT.findall(response.headers.get(name, "")))
        found.update(_bound_values(request.json))
        found.update(_bound_values(response.json))
        if response.stream is not None:  # compact JSON on the wire: one pass over the bytes
            found.update(bound_ids_in(response.stream.blob()))
    return found


def bound_ids_in(data: bytes) -> set[str]:
    """The UUIDs compact JSON text names under a bound key (`"run_id":"<uuid>"`, ...)."""
    found = set()
    for match in _ID_VALUE.finditer(data):
        key = data[data.rfind(b'"', 0, match.start()) + 1 : match.start() + 3]
        if key in _BOUND_KEY_BYTES:
            found.add(match[1].decode())
    return found


def ids_in_values(values: Iterable[Any]) -> set[str]:
    """Every thread, run and checkpoint id named in these JSON values."""
    found: set[str] = set()
    for value in values:
        found.update(_bound_values(value))
    return found


def _bound_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in BOUND_KEYS and isinstance(inner, str) and _UUID_TEXT.fullmatch(inner):
                yield inner
            else:
                yield from _bound_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _bound_values(inner)


class Bindings:
    """One replay's id map. With nothing to rewrite, every method returns its input as is."""

    def __init__(self, forward: Mapping[str, str]) -> None:
        self.forward = {recorded: live for recorded, live in forward.items() if recorded != live}
        self.backward = {live: recorded for recorded, live in self.forward.items()}
        self.forward_bytes = {k.encode(): v.encode() for k, v in self.forward.items()}

    @classmethod
    def for_replay(
        cls, ids: Iterable[str], instance: int, *, thread: tuple[str, str] | None = None
    ) -> Bindings:
        """Ids of replay `instance`; `thread` pins (recorded thread id, live thread id)."""
        forward = {recorded: derive_id(recorded, instance) for recorded in ids}
        if thread is not None:
            forward[thread[0]] = thread[1]
        return cls(forward)

    def bind(self, recorded: str, live: str) -> None:
        """Map one more recorded id to a live one (an id the client minted as it went)."""
        self.forward[recorded] = live
        self.backward[live] = recorded
        self.forward_bytes[recorded.encode()] = live.encode()

    @property
    def identity(self) -> bool:
        return not self.forward

    def live_text(self, text: str) -> str:
        if not self.forward:
            return text
        return _UUID_TEXT.sub(lambda m: self.forward.get(m[0], m[0]), text)

    def live_bytes(self, data: bytes) -> bytes:
        if not self.forward:
            return data
        table = self.forward_bytes
        return UUID_BYTES.sub(lambda m: table.get(m[0], m[0]), data)

    def recorded_text(self, text: str) -> str:
        if not self.backward:
            return text
        return _UUID_TEXT.sub(lambda m: self.backward.get(m[0], m[0]), text)

    def recorded_json(self, value: Any) -> Any:
        """A request body with live ids put back to the recorded ones."""
        if not self.backward:
            return value
        if isinstance(value, str):
            return self.recorded_text(value)
        if isinstance(value, dict):
            return {self.recorded_text(k): self.recorded_json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.recorded_json(v) for v in value]
        return value
