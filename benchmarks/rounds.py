"""Alternating rounds against a floor, as the replay benchmarks measure.

Every round runs the floor and then each case, one after another, from a collected heap (the
SDK leaves garbage in reference cycles: the full collection that frees one round's would land
on whichever case runs next). A case's ratio is taken within its round, against the floor of
that round, and the median over rounds is reported: this machine (a shared 2-core VM) runs in
phases several seconds long at speeds up to 1.7x apart, which a ratio of two medians mixes,
and a ratio within one round (a second or so) does not.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any


def alternate(
    cases: dict[str, Callable[[], Awaitable[Any]]],
    rounds: int,
    check: Callable[[str, Any], None],
    repeat: int = 1,
) -> list[tuple[str, float, float]]:
    """(name, median seconds, median ratio to the first case within a round) of each case;
    a case runs `repeat` times in its round (in a fresh event loop each time, as a test does)
    and `check` sees every result."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            gc.collect()
            started = time.perf_counter()
            for _ in range(repeat):
                check(name, asyncio.run(case()))
            times[name].append((time.perf_counter() - started) / repeat)
    floor = times[next(iter(cases))]
    return [
        (
            name,
            statistics.median(seconds),
            statistics.median(a / b for a, b in zip(seconds, floor, strict=True)),
        )
        for name, seconds in times.items()
    ]
