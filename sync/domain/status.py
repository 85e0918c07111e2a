"""What one backup's sync answers (Status) and what a sweep ends as (SweepStatus), as enums.

Both are `str` enums whose values are the answer's strings, so they compare equal to them and
serialize as them.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # already compliant: no PUT sent
    PLANNED = "planned"  # dry run
    IGNORED = "ignored"  # not something this function handles (or a backup it must not touch)
    NOT_FOUND = "not_found"
    DEFERRED = "deferred"  # a sweep left it for later: not AVAILABLE yet (its own event or the next run)
    REJECTED = "rejected"  # bad input or policy
    FAILED = "failed"  # an OCI call failed for good


class SweepStatus(StrEnum):
    SWEPT = "swept"  # everything covered
    PARTIAL = "partial"  # stopped early; a resume token says where to go on
    FAILED = "failed"
    REJECTED = "rejected"  # could not start (bad token, option or policy)
