"""What a sweep is asked to do (SweepOptions), its limits, and the error for a sweep that cannot start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.domain.resources import Kind

DEFAULT_CONCURRENCY = 8
PAGE_SIZE = 100
# Failures listed in an answer; the rest are counted (and each is in the logs).
DEFAULT_MAX_FAILURES = 50
MAX_FAILURES_LIMIT = 1000
# Volume groups remembered by one sweep (least recently used dropped first): bounds memory
# whatever the tenancy's size, while a tenancy with fewer groups fetches each one once.
VOLUME_GROUP_CACHE_SIZE = 4096
# A sweep stops starting new backups after this many transient failures in a row (a 5xx
# storm, an endpoint down): it reports where to resume instead of failing every backup.
STORM_THRESHOLD = 25
# Stop starting new backups when less than this share of the budget (at most STOP_RESERVE_MAX
# seconds) is left, so the work in flight can finish inside the deadline.
STOP_RESERVE_SHARE = 0.1
STOP_RESERVE_MAX = 3.0


class SweepError(Exception):
    """A sweep that cannot start (bad resume token, bad options): answered `rejected`."""


@dataclass(frozen=True)
class SweepOptions:
    """compartment_id: the root; region: the region this sweep covers (None: the configured one).

    call_budget: seconds one OCI call may keep retrying transient failures (None: until the
    sweep's deadline); a call that runs out of it ends the sweep `partial`, with a resume token.
    kinds: the backup kinds to list, among those the policy can match (None: all of those).
    """

    compartment_id: str
    recursive: bool = False
    since: datetime | None = None
    dry_run: bool = False
    # A backup not AVAILABLE yet is deferred (counted, no PUT): an update would get 409
    # IncorrectState and retry until the deadline. Its own create event, or the next run, covers it.
    available_only: bool = True
    concurrency: int = DEFAULT_CONCURRENCY
    resume_token: str | None = None
    page_size: int = PAGE_SIZE
    max_failures: int = DEFAULT_MAX_FAILURES
    region: str | None = None
    call_budget: float | None = None
    volume_group_cache: int = VOLUME_GROUP_CACHE_SIZE
    kinds: tuple[Kind, ...] | None = None

    def check(self) -> None:
        """SweepError when an option is out of range."""
        if self.concurrency < 1:
            raise SweepError("concurrency must be at least 1")
        if not 1 <= self.page_size <= 1000:
            raise SweepError("page size must be between 1 and 1000")
        if not 0 <= self.max_failures <= MAX_FAILURES_LIMIT:
            raise SweepError(f"max failures must be between 0 and {MAX_FAILURES_LIMIT}")
        if self.call_budget is not None and not 0 < self.call_budget < float("inf"):  # nan too
            raise SweepError("the call budget must be a positive number of seconds")
        if self.kinds is not None and not self.kinds:
            raise SweepError("kinds is empty: name at least one backup kind")
        if self.volume_group_cache < 1:
            raise SweepError("the volume group cache must hold at least one entry")
