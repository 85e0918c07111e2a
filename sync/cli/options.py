"""Command-line option values for the live commands: --since, --timeout, the resume command."""

from __future__ import annotations

import argparse
import re
import shlex
from datetime import UTC, datetime, timedelta

from sync.printable import escape_controls, quote
from sync.sweep.runner import DEFAULT_CONCURRENCY, PAGE_SIZE


class LiveError(Exception):
    """One line for the user (configuration, authentication, input); never a traceback."""


_RELATIVE = re.compile(r"(\d+)([dhm])")


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """RFC 3339 (a time without zone is UTC), a date (midnight UTC), or 7d / 12h / 30m ago."""
    text = value.strip()
    given = quote(value, 60)
    m = _RELATIVE.fullmatch(text)
    if m:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]
        try:
            return (now or datetime.now(UTC)) - timedelta(**{unit: int(m.group(1))})
        except (OverflowError, ValueError):  # 999999999d: before the year 1
            raise LiveError(f"--since {given}: too far back; give a time after 0001-01-01") from None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        forms = "RFC 3339 (2026-11-01T00:00:00Z), a date, or 7d/12h/30m"
        raise LiveError(f"--since {given}: use {forms}") from None
    try:
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0
        raise LiveError(f"--since {given}: out of range once in UTC") from None


MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
MAX_CONCURRENCY = 64


def seconds_arg(text: str) -> float:
    """--timeout: a finite number of seconds from 0 to 30 days (argparse: exit 2 otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quote(text, 60)} is not a number of seconds") from None
    if not 0 <= value <= MAX_TIMEOUT_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{quote(text, 60)}: give a number of seconds from 0 to {MAX_TIMEOUT_SECONDS} (30 days)"
        )
    return value


def resume_command(args: argparse.Namespace, compartment: str, since: datetime | None) -> str:
    """The sweep command again, with every option that shapes what it does (not --resume)."""
    parts = ["python", "-m", "sync", "sweep", "--compartment", compartment]
    parts += ["--recursive"] if args.recursive else []
    parts += ["--since", since.isoformat()] if since else []  # absolute: "7d" would move
    parts += ["--dry-run"] if args.dry_run else []
    parts += ["--available-only"] if args.available_only else []
    parts += ["--concurrency", str(args.concurrency)] if args.concurrency != DEFAULT_CONCURRENCY else []
    parts += ["--page-size", str(args.page_size)] if args.page_size != PAGE_SIZE else []
    parts += ["--policy", args.policy] if args.policy else []
    return " ".join(shlex.quote(part) for part in parts)


def shown(text: str) -> str:
    """Lines for the terminal: control characters in values from OCI escaped, line breaks kept."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))
