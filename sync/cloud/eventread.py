"""A backup read right after its create event: a 404 is read again, with backoff, for a few seconds.

Why: Oracle's API errors page lists 404 NotAuthorizedOrNotFound as retryable with backoff, and a
GET made at the create event can miss a backup that exists. A manual request keeps its quick
answer (it names a backup that should already be there); the sweep reads what a list returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sync.cloud.calls import MIN_CALL_SECONDS
from sync.cloud.outcome import CallFailed
from sync.cloud.retry import Deadline

log = logging.getLogger("sync.cloud.eventread")

T = TypeVar("T")

# Waits between reads; 3.5 s in all at most, and never past the deadline.
NOT_FOUND_DELAYS = (0.5, 1.0, 2.0)


def read_after_event(
    read: Callable[[], T], deadline: Deadline, sleep: Callable[[float], None] = time.sleep
) -> T:
    """read(), again after each delay while it answers 404 and the deadline leaves room for one more."""
    for delay in (*NOT_FOUND_DELAYS, None):
        try:
            return read()
        except CallFailed as failure:
            if failure.status != 404 or delay is None or deadline.remaining() < delay + MIN_CALL_SECONDS:
                raise
            log.info(
                f"not found right after its create event; reading it again in {delay} s",
                extra={"operation": failure.operation, "opc_request_id": failure.opc_request_id},
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
