"""A one-line progress display for long commands, drawn only on a terminal.

    with Progress(len(files), "diffing") as progress:
        for path in files:
            progress.step(path.name)

On anything but a terminal (CI logs, pipes) it draws nothing, so output stays clean.
`status(text)` replaces the line with free text (the proxy's live counters).
"""

from __future__ import annotations

import shutil
import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]

_MIN_INTERVAL = 0.05  # seconds between redraws


class Progress:
    def __init__(self, total: int | None, label: str, stream: TextIO | None = None) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = 0.0
        self._shown = False

    def step(self, what: str = "") -> None:
        self.done += 1
        of = f"/{self.total}" if self.total else ""
        self.status(f"{self.label} {self.done}{of} {what}", force=self.done == self.total)

    def status(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < _MIN_INTERVAL:
            return
        self._drawn = now
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.stream.write("\r\x1b[2K" + text[:width])
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Remove the line, e.g. before printing a normal line."""
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.clear()
