"""The sweep's progress display on stderr: one redrawn line on a terminal, plain lines otherwise."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from sync.sweep.runner import SweepProgress


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; plain lines every few seconds otherwise.

    The total is unknown while pages are still being listed, so the bar shows finished
    backups against those listed so far.
    """

    WIDTH = 24

    def __init__(self, stream: TextIO, tty: bool | None = None, every: float | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every if every is not None else (0.1 if self.tty else 2.0)
        self._last = float("-inf")
        self._drawn = False
        self._lock = threading.Lock()  # called from the sweep's worker threads

    def line(self, p: SweepProgress) -> str:
        c = p.counts
        rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
        listed = f"{p.scanned}" if p.listing_done else f"{p.scanned}+"
        parts = [f"{p.done}/{listed}"]
        parts += [f"{s} {c[s]}" for s in ("updated", "planned", "unchanged", "failed") if c.get(s)]
        parts.append(f"{rate:.0f}/s {p.elapsed:.1f}s")
        return "  ".join(parts)

    def __call__(self, p: SweepProgress) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last = now
            self._draw(p)

    def _draw(self, p: SweepProgress) -> None:
        if self.tty:
            filled = int(self.WIDTH * p.done / p.scanned) if p.scanned else 0
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.line(p)}\x1b[K")
            self._drawn = True
        else:
            self.stream.write(f"progress: {self.line(p)}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
