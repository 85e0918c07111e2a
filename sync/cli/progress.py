"""The sweep's progress display on stderr: one redrawn line on a terminal, plain lines otherwise.

The text is the same in both: done/total (`120/300+` while pages are still being listed, so
the total is not known yet), the percentage and the time left once it is, the rate and the
counts per status. On a terminal, rich (the command line's optional `cli` extra) draws it
beside a bar; without rich, or when stderr is not a terminal, the line is hand-drawn.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol, TextIO

from sync.cloud.engine import STATUSES
from sync.sweep.runner import SweepProgress


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_text(p: SweepProgress) -> str:
    """`120/300 backups  40%  59/s  3s left  updated 10  unchanged 30` (no total yet: `120/300+`)."""
    rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
    if p.listing_done:
        parts = [f"{p.done}/{p.scanned} backups"]
        if p.scanned:
            parts.append(f"{100 * p.done // p.scanned}%")
        parts.append(f"{rate:.0f}/s")
        if rate > 0 and p.done < p.scanned:
            parts.append(f"{_duration((p.scanned - p.done) / rate)} left")
    else:
        parts = [f"{p.done}/{p.scanned}+ backups (listing)", f"{rate:.0f}/s"]
    parts += [f"{s} {p.counts[s]}" for s in STATUSES if p.counts.get(s)]
    parts += [f"{s} {n}" for s, n in sorted(p.counts.items()) if n and s not in STATUSES]
    parts.append(f"elapsed {_duration(p.elapsed)}")
    return "  ".join(parts)


class Display(Protocol):
    def __call__(self, p: SweepProgress) -> None: ...

    def finish(self) -> None: ...


class ProgressBar:
    """Hand-drawn: a bar redrawn in place on a terminal; `progress: ...` lines every few seconds otherwise."""

    WIDTH = 24

    def __init__(self, stream: TextIO, tty: bool | None = None, every: float | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every if every is not None else (0.1 if self.tty else 2.0)
        self._last = float("-inf")
        self._drawn = False
        self._pending: SweepProgress | None = None  # skipped by the throttle, shown by finish()
        self._lock = threading.Lock()  # called from the sweep's worker threads

    def line(self, p: SweepProgress) -> str:
        return progress_text(p)

    def __call__(self, p: SweepProgress) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                self._pending = p
                return
            self._last = now
            self._pending = None
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
        with self._lock:
            if self._pending is not None:  # the last state, so the display ends where the sweep did
                self._draw(self._pending)
                self._pending = None
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()


class RichProgress:
    """rich's live display: a bar (pulsing while the total is unknown) and the same text, redrawn in place."""

    def __init__(self, stream: TextIO, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.console = console or Console(file=stream, highlight=False)
        self.progress = Progress(
            BarColumn(bar_width=24),
            TextColumn("{task.fields[text]}"),
            console=self.console,
            transient=False,
            refresh_per_second=8,
        )
        self.task = self.progress.add_task("sweep", total=None, text="listing backups")
        self.progress.start()

    def __call__(self, p: SweepProgress) -> None:
        total = p.scanned if p.listing_done else None
        self.progress.update(self.task, total=total, completed=p.done, text=progress_text(p))

    def finish(self) -> None:
        self.progress.stop()


def progress_display(stream: TextIO, tty: bool | None = None) -> Display:
    """rich on a terminal when it is installed; the hand-drawn display otherwise."""
    tty = stream.isatty() if tty is None else tty
    if tty:
        try:
            return RichProgress(stream)
        except ImportError:  # the `cli` extra is not installed (the function image never has it)
            pass
    return ProgressBar(stream, tty=tty)
