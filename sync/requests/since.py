"""`since` for sweeps, shared by the request body and the command line: RFC 3339 or 7d / 12h / 30m ago."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# At most ten years back: OCI keeps no volume group backup older than its retention allows, and
# a bigger number is a typo (or an attempt to overflow datetime), not a sweep anyone meant.
MAX_RELATIVE = {"d": 3660, "h": 3660 * 24, "m": 3660 * 24 * 60}
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before OCI existed: nothing to sweep
FUTURE_SLACK = timedelta(days=1)  # clock skew; further ahead is a mistake that matches nothing
MAX_TEXT = 64
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_RELATIVE = re.compile(r"([0-9]{1,12})([dhm])")

HINT = "use RFC 3339 (2026-11-01T00:00:00Z) or a duration ago (7d, 12h, 30m)"


class SinceError(ValueError):
    """A `since` value that cannot be used; the message says why and what to write instead."""


def parse_since(
    value: str, now: datetime | None = None, *, allow_date: bool = True, assume_utc: bool = True
) -> datetime:
    """An aware UTC-comparable time from RFC 3339 (or a date), or `<n>d|<n>h|<n>m` before `now`.

    assume_utc: a time without zone is UTC (command line); False refuses it (request bodies,
    where the sender's zone is unknown). Raises SinceError, never OverflowError.
    """
    if not isinstance(value, str):
        raise SinceError(f"since must be a string; {HINT}")
    text = value.strip()
    if not text or len(text) > MAX_TEXT:
        raise SinceError(f"since {value[:MAX_TEXT]!r}: {HINT}")
    now = now or datetime.now(UTC)
    m = _RELATIVE.fullmatch(text)
    if m:
        amount, unit = int(m.group(1)), m.group(2)
        if amount > MAX_RELATIVE[unit]:
            raise SinceError(f"since {text!r}: at most {MAX_RELATIVE[unit]}{unit} (ten years)")
        return now - timedelta(**{_UNITS[unit]: amount})
    if not allow_date and "T" not in text.upper():
        raise SinceError(f"since {text!r}: {HINT}")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SinceError(f"since {text!r}: {HINT}") from None
    if when.tzinfo is None:
        if not assume_utc:
            raise SinceError(f"since {text!r}: give a time zone, e.g. 2026-11-01T00:00:00Z")
        when = when.replace(tzinfo=UTC)
    if when < EARLIEST or when > now + FUTURE_SLACK:
        raise SinceError(f"since {text!r}: must be between {EARLIEST:%Y-%m-%d} and now")
    return when


def rfc3339(when: datetime) -> str:
    """The form a continuation carries, so every link of a chain sweeps the same window."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
