"""Which recorded interaction answers a request, and why none does.

A request matches by method, path, query and body (JSON compared by value, so key order is
irrelevant); scheme, host and port are ignored because test servers move between ports.
Each recorded answer plays once, in recorded order, so a repeated request (polling, a second
turn) walks through its answers instead of repeating the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lg_testkit.cassette import Interaction, RecordedRequest
from lg_testkit.errors import UnmatchedRequestError

__all__ = ["Playlist", "differences"]

_MAX_LISTED = 5


def differences(recorded: RecordedRequest, request: RecordedRequest) -> list[str]:
    """Human-readable differences, empty when the request matches the recording."""
    found: list[str] = []
    for name in ("method", "path"):
        mine, theirs = getattr(recorded, name), getattr(request, name)
        if mine != theirs:
            found.append(f"{name}: recorded {mine}, got {theirs}")
    if sorted(map(tuple, recorded.query)) != sorted(map(tuple, request.query)):
        found.append(f"query: recorded {recorded.query}, got {request.query}")
    if recorded.body != request.body:
        found.append(f"body: recorded {recorded.body!r}, got {request.body!r}")
    found.extend(_json_differences(recorded.json, request.json, "json"))
    return found


def _json_differences(recorded: Any, got: Any, path: str) -> Iterator[str]:
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key in sorted(recorded.keys() | got.keys()):
            if key not in got:
                yield f"{path}.{key}: recorded {_short(recorded[key])}, missing from the request"
            elif key not in recorded:
                yield f"{path}.{key}: not recorded, got {_short(got[key])}"
            else:
                yield from _json_differences(recorded[key], got[key], f"{path}.{key}")
    elif isinstance(recorded, list) and isinstance(got, list) and len(recorded) == len(got):
        for index, (mine, theirs) in enumerate(zip(recorded, got, strict=True)):
            yield from _json_differences(mine, theirs, f"{path}[{index}]")
    elif recorded != got or type(recorded) is not type(got):
        yield f"{path}: recorded {_short(recorded)}, got {_short(got)}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Playlist:
    """The interactions of one cassette, each played at most once, in recorded order."""

    def __init__(self, interactions: list[Interaction], source: str = "the cassette") -> None:
        self.interactions = interactions
        self.source = source
        self.played = [False] * len(interactions)

    def add(self, interaction: Interaction) -> None:
        """A newly recorded interaction; it has been answered live, so it counts as played."""
        self.interactions.append(interaction)
        self.played.append(True)

    def take(self, request: RecordedRequest) -> Interaction | None:
        """The first unplayed interaction matching `request`, now marked played."""
        for index, interaction in enumerate(self.interactions):
            if not self.played[index] and not differences(interaction.request, request):
                self.played[index] = True
                return interaction
        return None

    def unmatched(self, request: RecordedRequest, hint: str = "") -> UnmatchedRequestError:
        """The error for a request `take` found no answer for, naming the closest recording."""
        lines = [f"No recorded interaction in {self.source} matches {request.label}."]
        if not self.interactions:
            lines.append("The cassette has no interactions.")
        else:
            scored = sorted(
                (len(differences(i.request, request)), self.played[n], n)
                for n, i in enumerate(self.interactions)
            )
            count, played, index = scored[0]
            closest = self.interactions[index]
            if count == 0:
                lines.append(
                    f"Interaction #{index} ({closest.request.label}) matches but was already "
                    "played; each recorded answer plays once, in order."
                )
            else:
                lines.append(f"Closest recorded: #{index} {closest.request.label}")
                listed = differences(closest.request, request)
                lines.extend(f"  {line}" for line in listed[:_MAX_LISTED])
                if len(listed) > _MAX_LISTED:
                    lines.append(f"  ... and {len(listed) - _MAX_LISTED} more differences")
        if hint:
            lines.append(hint)
        return UnmatchedRequestError("\n".join(lines))
