"""Command-line option values for the live commands: --since, --timeout, the resume command."""

from __future__ import annotations

import argparse
import shlex
from datetime import datetime

from sync.cli.errors import CliError
from sync.cli.helptext import prog
from sync.domain.resources import Kind
from sync.printable import escape_controls, quote
from sync.requests import since as since_parser
from sync.sweep.kinds import parse_kinds
from sync.sweep.options import SweepError, SweepOptions
from sync.sweep.runner import DEFAULT_CONCURRENCY, PAGE_SIZE


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """RFC 3339 (a time without zone is UTC), a date (midnight UTC), or 7d / 12h / 30m ago."""
    try:  # the same parser as the function's sweep body (a schedule sends "2d")
        return since_parser.parse_since(value, now)
    except since_parser.SinceError as exc:
        raise CliError(str(exc)) from None


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
    """The sweep command again, as invoked, with every option that shapes what it does (not --resume)."""
    parts = ["sweep", "--compartment", compartment]
    parts += ["--recursive"] if args.recursive else []
    parts += ["--since", since.isoformat()] if since else []  # absolute: "7d" would move
    parts += ["--dry-run"] if args.dry_run else []
    parts += [] if args.available_only else ["--no-available-only"]
    parts += ["--kinds", args.kinds] if getattr(args, "kinds", None) else []
    parts += ["--concurrency", str(args.concurrency)] if args.concurrency != DEFAULT_CONCURRENCY else []
    parts += ["--page-size", str(args.page_size)] if args.page_size != PAGE_SIZE else []
    parts += ["--policy", args.policy] if args.policy else []
    return " ".join([prog(), *(shlex.quote(part) for part in parts)])


def shown(text: str) -> str:
    """Lines for the terminal: control characters in values from OCI escaped, line breaks kept."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))


def kinds_option(value: str | None) -> tuple[Kind, ...] | None:
    """--kinds a,b: those backup kinds (None: all the policy can match); CliError names the valid ones."""
    if value is None:
        return None
    try:
        return parse_kinds(part for part in value.split(",") if part.strip())
    except SweepError as exc:
        raise CliError(f"--kinds: {exc}") from None


def sweep_options(
    args: argparse.Namespace, compartment: str, since: datetime | None, resume_token: str | None = None
) -> SweepOptions:
    """The sweep's options from the command line (one region, or each region of --regions)."""
    return SweepOptions(
        compartment_id=compartment,
        recursive=args.recursive,
        since=since,
        dry_run=args.dry_run,
        available_only=args.available_only,
        concurrency=args.concurrency,
        resume_token=resume_token,
        page_size=args.page_size,
        max_failures=args.max_failures,
        call_budget=args.call_budget,
        kinds=kinds_option(getattr(args, "kinds", None)),
    )
