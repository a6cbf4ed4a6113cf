"""lg-testkit's settings, one object for the pytest plugin, the library and the CLI.

    setting        CLI flag / ini key                 marker keyword   default
    record_mode    --lg-record-mode / lg_record_mode  record_mode      none
    cassette_dir   --lg-cassette-dir / lg_cassette_dir                  cassettes
    speed          --lg-speed / lg_speed              speed            (no delays)
    validate       --lg-validate / lg_validate        validate         strict
    live_url       --lg-live-url / lg_live_url                          http://127.0.0.1:2024
    contract       --lg-contract / lg_contract                          off
    match_on                                          match_on         method, path, query, body
    ignore                                            ignore           (none)
    faults                                            faults           (none)
    path                                              path (or 1st arg) <dir>/<module>/<test>.json

Every setting is looked up in one order: command line > closest `lg_cassette` marker > the
`lg_config` fixture (a dict; override it in a conftest) > ini > default. `live_url` is only
where recording and contract tests go: contract mode (tests run against that server, every
stream validated, nothing read or written) is its own switch, never implied by a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["DEFAULT_LIVE_URL", "MATCH_ON", "RECORD_MODES", "VALIDATE_LEVELS", "Options", "marker"]

DEFAULT_LIVE_URL = "http://127.0.0.1:2024"  # `langgraph dev`'s default
MATCH_ON = ("method", "path", "query", "body")
RECORD_MODES = ("none", "once", "new_episodes", "all")
VALIDATE_LEVELS = ("strict", "lenient", "off")


@dataclass(frozen=True)
class Options:
    record_mode: str = "none"
    cassette_dir: str = "cassettes"
    speed: float | None = None
    validate: str = "strict"
    live_url: str = DEFAULT_LIVE_URL
    contract: bool = False
    match_on: tuple[str, ...] = MATCH_ON
    ignore: tuple[str, ...] = ()
    faults: Any = None  # lg_testkit.Faults
    path: str | None = None

    def __post_init__(self) -> None:
        _choice("record_mode", self.record_mode, RECORD_MODES)
        _choice("validate", self.validate, VALIDATE_LEVELS)
        for part in self.match_on:
            _choice("match_on", part, MATCH_ON)

    @classmethod
    def layered(cls, *layers: Mapping[str, Any]) -> Options:
        """Options from layers, the first that sets a value winning (None and "" set nothing)."""
        names = {f.name for f in fields(cls)}
        chosen: dict[str, Any] = {}
        for layer in reversed(layers):
            unknown = set(layer) - names
            if unknown:
                raise TypeError(
                    f"unknown lg-testkit setting(s) {sorted(unknown)}; known: {sorted(names)}"
                )
            chosen.update({k: v for k, v in layer.items() if v is not None and v != ""})
        return cls(**_coerced(chosen))

    def with_(self, **changes: Any) -> Options:
        return replace(self, **_coerced(changes))

    def session(self) -> dict[str, Any]:
        """Keyword arguments for `CassetteSession` / `use_cassette`."""
        return {
            "speed": self.speed,
            "validate": self.validate,
            "match_on": self.match_on,
            "ignore": self.ignore,
            "faults": self.faults,
        }


def marker(
    path: str | None = None,
    *,
    record_mode: str | None = None,
    match_on: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    validate: str | None = None,
    speed: float | None = None,
    faults: Any = None,
) -> dict[str, Any]:
    """`@pytest.mark.lg_cassette(...)`'s signature: a misspelt keyword is a TypeError."""
    given = {
        "path": path,
        "record_mode": record_mode,
        "match_on": match_on,
        "ignore": ignore,
        "validate": validate,
        "speed": speed,
        "faults": faults,
    }
    return {key: value for key, value in given.items() if value is not None}


def _coerced(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "speed" in out and out["speed"] is not None:
        out["speed"] = float(out["speed"])
    if isinstance(out.get("contract"), str):
        out["contract"] = out["contract"].strip().lower() in ("1", "true", "yes", "on")
    for key in ("match_on", "ignore"):
        if key in out and out[key] is not None:
            out[key] = (out[key],) if isinstance(out[key], str) else tuple(out[key])
    return out


def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
