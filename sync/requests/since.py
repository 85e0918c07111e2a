"""`since` for sweeps, one parser for request bodies and the command line: RFC 3339 or 7d / 12h / 30m ago."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sync.printable import quote

_RELATIVE = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
HINT = "RFC 3339 (2026-11-01T00:00:00Z) or 7d/12h/30m"


class SinceError(ValueError):
    """A `since` that cannot be used; the message names it (`label`) and says what to write."""


def parse_since(
    value: str,
    now: datetime | None = None,
    *,
    label: str = "--since",
    allow_date: bool = True,
    assume_utc: bool = True,
) -> datetime:
    """An aware time: RFC 3339 (or a date), or `<n>d|<n>h|<n>m` before `now`. Raises SinceError only.

    assume_utc: a time without zone is UTC (command line); False refuses it (request bodies,
    whose sender's zone is unknown). allow_date: a bare date means its midnight UTC.
    """
    text = value.strip()
    given = quote(value, 60)
    m = _RELATIVE.fullmatch(text)
    if m:
        try:
            return (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        except (OverflowError, ValueError):  # 999999999d: before the year 1 (or too many digits)
            raise SinceError(f"{label} {given}: too far back; give a time after 0001-01-01") from None
    forms = "RFC 3339 (2026-11-01T00:00:00Z), a date, or 7d/12h/30m" if allow_date else HINT
    if not allow_date and "T" not in text.upper():
        raise SinceError(f"{label} {given}: use {forms}")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SinceError(f"{label} {given}: use {forms}") from None
    if when.tzinfo is None and not assume_utc:
        raise SinceError(f"{label} {given}: give a time zone, e.g. 2026-11-01T00:00:00Z")
    try:
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0
        raise SinceError(f"{label} {given}: out of range once in UTC") from None


def rfc3339(when: datetime) -> str:
    """The form a continuation carries, so every link of a chain sweeps the same window."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
