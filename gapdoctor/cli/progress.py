"""A dependency-free progress bar on stderr.

On a terminal it redraws one line (at most 10 times a second); in a log (stderr not a
TTY) it prints a line at every tenth of the way, so CI logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count finished items out of ``total`` and show the rate and time left.

    Example:
        >>> bar = Progress(3, "runs", stream=None)
        >>> bar.update(3); bar.close()
    """

    def __init__(self, total: int, unit: str = "items", stream: TextIO | None = sys.stderr,
                 width: int = 30) -> None:
        self.total, self.unit, self.stream, self.width = max(0, total), unit, stream, width
        self.done = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._last_tenth = -1
        self._tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.started
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"{self.unit}  {elapsed:5.1f} s  {rate:6.1f}/s  ~{left:4.0f} s left")

    def update(self, n: int = 1) -> None:
        """Mark ``n`` more items done."""
        self.done = min(self.total, self.done + n)
        if self.stream is None:
            return
        now = time.perf_counter()
        if self._tty:
            if now - self._last_draw >= 0.1 or self.done == self.total:
                self.stream.write("\r" + self._line())
                self.stream.flush()
                self._last_draw = now
            return
        tenth = int(10 * self.done / self.total) if self.total else 10
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Finish the bar's line."""
        if self.stream is not None and self._tty:
            self.stream.write("\r" + self._line() + "\n")
            self.stream.flush()
