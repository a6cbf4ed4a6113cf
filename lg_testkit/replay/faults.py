"""What can go wrong on the wire, on purpose: for consumers' resilience tests.

    Faults(drop_after=3)           close the connection after the 3rd event of each run stream;
                                   the client's reconnect gets the rest (it recovers)
    Faults(drop_after=3, recover=False)
                                   ... and its reconnect finds the run gone (HTTP 404), so the
                                   client sees the error, as after a server restart
    Faults(stall=(2, 6.0))         pause 6 s after the 2nd event
    Faults(heartbeat=0.5)          send `: heartbeat` comments in every gap longer than 0.5 s
    chunking="byte"                re-chunk every stream into single bytes

Chunking decides where the bytes of a stream are split, never what they are:

    recorded       as the network delivered them when recording (the default)
    event          one chunk per event (or comment)
    byte           one byte per chunk
    random:SEED    random cuts, the same for the same SEED

Faults apply to the responses of run creation (`POST .../runs/stream`) and to thread-protocol
subscriptions. A reconnecting join (`GET .../runs/{id}/stream`) is answered as the recorded
server would: after its `Last-Event-ID`, or, for a run that sent no ids, from where the
connection dropped (the run went on; a client reattaching sees what comes next); without
faults, so a client's resume path can be tested end to end. A thread-protocol client
reconnects with `since`, and gets every later event once.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

__all__ = ["CHUNKINGS", "Faults", "check_chunking", "cut_points"]

CHUNKINGS = ("recorded", "event", "byte", "random:SEED")
_RANDOM = re.compile(r"random:(\d+)")
_MAX_RANDOM_CHUNK = 64


@dataclass(frozen=True)
class Faults:
    drop_after: int | None = None
    """Close the connection, mid-stream, once this many events were sent."""
    stall: tuple[int, float] | None = None
    """(after this many events, pause this many seconds)."""
    heartbeat: float | None = None
    """Seconds of silence after which a `: heartbeat` comment is sent, as real servers do."""
    recover: bool = True
    """After a drop, a reconnect gets the rest of the run; False: it gets HTTP 404."""


def check_chunking(chunking: str) -> str:
    """`chunking` itself, or ValueError naming the accepted forms."""
    if chunking in ("recorded", "event", "byte") or _RANDOM.fullmatch(chunking):
        return chunking
    raise ValueError(f"chunking must be one of {', '.join(CHUNKINGS)}; got {chunking!r}")


def cut_points(chunking: str, size: int, recorded: list[int], items: list[int]) -> list[int]:
    """Offsets (ascending, ending at `size`) where a stream of `size` bytes is cut into chunks.

    `recorded` and `items` are the end offsets of the recorded chunks and of the stream items.
    """
    if chunking == "recorded":
        return recorded
    if chunking == "event":
        return items
    if chunking == "byte":
        return list(range(1, size + 1))
    match = _RANDOM.fullmatch(chunking)
    if match is None:
        raise ValueError(f"unknown chunking {chunking!r}")
    rng = random.Random(int(match[1]))
    cuts: list[int] = []
    offset = 0
    while offset < size:
        offset = min(size, offset + rng.randint(1, _MAX_RANDOM_CHUNK))
        cuts.append(offset)
    return cuts
