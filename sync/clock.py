"""The clock the function runs on: the system's, or (tests) a file-backed one that only sleeps move.

With BACKUP_TAG_SYNC_TEST_CLOCK naming a file, the function reads "now" (epoch seconds) from it
and a sleep adds to it instead of waiting, so deadlines and backoff are counted in that time
alone: a test decides how much time passes, whatever the machine's load. The test runner
(sync/function/fnrunner.py) stamps Fn-Deadline from the same file. Unset (as in production):
time.monotonic, time.time and time.sleep.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

CLOCK_FILE_ENV = "BACKUP_TAG_SYNC_TEST_CLOCK"


@dataclass(frozen=True)
class Clock:
    monotonic: Callable[[], float]
    time: Callable[[], float]
    sleep: Callable[[float], None]


SYSTEM = Clock(time.monotonic, time.time, time.sleep)


class FileClock:
    """Epoch seconds in a file, shared by processes; sleep(s) adds s at once."""

    def __init__(self, path: str, start: float | None = None) -> None:
        self.path = path
        if start is not None:
            with open(path, "w", encoding="ascii") as f:
                f.write(repr(float(start)))

    def time(self) -> float:
        with open(self.path, encoding="ascii") as f:
            return float(f.read().strip() or 0.0)

    def sleep(self, seconds: float) -> None:
        with open(self.path, "r+", encoding="ascii") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # two processes (or threads) may sleep at once
            now = float(f.read().strip() or 0.0)
            f.seek(0)
            f.write(repr(now + max(0.0, seconds)))
            f.truncate()

    def clock(self) -> Clock:
        return Clock(self.time, self.time, self.sleep)


def clock_from_env(env: Mapping[str, str] = os.environ) -> Clock:
    path = (env.get(CLOCK_FILE_ENV) or "").strip()
    return FileClock(path).clock() if path else SYSTEM
