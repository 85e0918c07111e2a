"""Deadlines and backoff: every retry fits inside the invocation's time, with a margin."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

# Kept back from the Fn deadline for answering and logging.
DEADLINE_MARGIN_SECONDS = 2.0
DEFAULT_BUDGET_SECONDS = 25.0  # when no deadline is given (command line, tests)
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0


@dataclass
class Deadline:
    """A point on the monotonic clock after which no new attempt starts."""

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def from_fn(
        cls,
        deadline_iso: str | None,
        margin: float = DEADLINE_MARGIN_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> Deadline:
        """From Fn's `Fn-Deadline` (RFC 3339); the FDK does not enforce it, we do."""
        if deadline_iso:
            text = deadline_iso.strip().replace("Z", "+00:00")
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None:
                seconds = when.timestamp() - wall()
                return cls.after(max(0.0, seconds - margin), clock)
        return cls.after(DEFAULT_BUDGET_SECONDS, clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Full-jitter exponential backoff; a server's Retry-After is a floor."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
