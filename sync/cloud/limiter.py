"""Adaptive client-side rate limiter (AIMD pacing) shared by a sweep's worker threads."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sync.cloud.retry import Deadline

# After a 429 the rate is multiplied by this.
DECREASE_FACTOR = 0.8
# While nothing is throttled the rate grows by this fraction of itself per second.
GROWTH_PER_SECOND = 0.10
# Several threads see the same overload at once: one decrease per this many seconds at most.
DECREASE_COOLDOWN = 1.0
MIN_RATE = 1.0
WINDOW = 1.0  # seconds over which the achieved rate is measured


class AdaptiveLimiter:
    """Paces calls (one slot every 1/rate seconds) and adapts the rate to the server's 429s.

    `rate=None` starts unpaced (only the caller's concurrency bounds it) until the first 429.
    `throttled(retry_after)`: every caller waits until Retry-After has passed, and the rate
    drops to DECREASE_FACTOR times the current rate (the first time: the rate achieved so
    far), once per DECREASE_COOLDOWN, since calls already in flight report the same overload. Without
    429s the rate grows by GROWTH_PER_SECOND of itself per second, up to max_rate.
    `acquire(deadline)` returns False, without waiting, when its slot would come after the
    deadline. Thread-safe; clock and sleep are injectable for tests.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        min_rate: float = MIN_RATE,
        max_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.min_rate = min_rate
        self.max_rate = max_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._last_decrease = float("-inf")
        self._last_growth: float | None = None
        self._grants: deque[float] = deque()
        self.granted = 0
        self.throttle_count = 0
        self.decreases = 0

    def _grow(self, now: float) -> None:
        if self.rate is None:
            return
        if self._last_growth is not None and now > self._paused_until:
            dt = now - max(self._last_growth, self._paused_until)
            if dt > 0:
                self.rate *= 1.0 + GROWTH_PER_SECOND * dt
                if self.max_rate is not None:
                    self.rate = min(self.rate, self.max_rate)
        self._last_growth = now

    def acquire(self, deadline: Deadline) -> bool:
        with self._lock:
            now = self._clock()
            self._grow(now)
            slot = max(now, self._paused_until)
            if self.rate is not None:
                # A small tolerance (a tenth of a second's worth of calls) avoids idling on jitter.
                slot = max(slot, self._next_slot, now - 0.1)
            if slot - now > deadline.remaining():
                return False
            if self.rate is not None:
                self._next_slot = max(slot, self._next_slot) + 1.0 / self.rate
            self._grants.append(slot)
            while self._grants and self._grants[0] < slot - WINDOW:
                self._grants.popleft()
            self.granted += 1
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return True

    def throttled(self, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            self.throttle_count += 1
            if retry_after:
                self._paused_until = max(self._paused_until, now + retry_after)
            if now - self._last_decrease < DECREASE_COOLDOWN:
                return
            self._last_decrease = now
            self.decreases += 1
            if self.rate is None:
                # First 429 of an unpaced run: start from the rate achieved until now.
                recent = [t for t in self._grants if t >= now - WINDOW]
                span = max(0.05, min(WINDOW, now - recent[0])) if recent else WINDOW
                base = len(recent) / span
            else:
                base = self.rate
            self.rate = max(self.min_rate, base * DECREASE_FACTOR)
            if self.max_rate is not None:
                self.rate = min(self.rate, self.max_rate)
            self._next_slot = max(self._next_slot, self._paused_until)
            self._last_growth = now

    def snapshot(self) -> dict[str, float | int | None]:
        with self._lock:
            return {
                "rate": self.rate,
                "granted": self.granted,
                "throttled": self.throttle_count,
                "decreases": self.decreases,
            }
