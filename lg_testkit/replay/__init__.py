"""Replay: one engine answers every replayed request, whichever way it comes in.

matching.py    does a recorded request answer a live one (server defaults, ignored paths)
bindings.py    ids handed out per replayed thread, mapped back in later requests
engine.py      `ReplayEngine`: which recording answers, validated once, as a `Reply`
threads.py     the thread protocol: commands in order, subscriptions fed from the event log
faults.py      drops, stalls, heartbeats, re-chunking
tape.py        a recorded stream cut into pieces, with times and faults: a `Plan`
playing.py     the one loop that plays a `Plan`, to httpx (in-process) or to ASGI (HTTP)
transports.py  httpx transports over the engine: `ReplayTransport`, `EngineTransport`

Names load on first use, so importing `lg_testkit.replay.faults` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AsyncReplayTransport": "lg_testkit.replay.transports",
    "EngineTransport": "lg_testkit.replay.transports",
    "Faults": "lg_testkit.replay.faults",
    "ReplayEngine": "lg_testkit.replay.engine",
    "ReplayTransport": "lg_testkit.replay.transports",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lg_testkit.replay' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
