"""The sweep command: every backup in a compartment (tree), its summary and its exit code."""

from __future__ import annotations

import argparse
import json
import shlex
import threading
from collections.abc import Callable
from typing import Any, TextIO

from sync.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    NO_TIMEOUT,
    POLICY_HELP,
    add_common_options,
    build_clients,
    cli_logging,
    env_vars,
    ocid_arg,
    policy_loader,
)
from sync.cli.errors import CliError
from sync.cli.helptext import add_command, prog
from sync.cli.interrupt import stop_on_signals
from sync.cli.options import MAX_CONCURRENCY, parse_since, resume_command, shown, sweep_options
from sync.cli.progress import progress_display
from sync.cli.table import counted, error_text, headline, render_table
from sync.cloud.engine import Engine
from sync.cloud.retry import Deadline
from sync.sweep.kinds import VALID
from sync.sweep.runner import (
    DEFAULT_CONCURRENCY,
    PAGE_SIZE,
    SweepResult,
    run_sweep,
)


def render_summary(result: SweepResult, command_hint: str, interrupted: bool = False) -> str:
    kinds = ", ".join(k.value for k in result.kinds) or "none"
    lines = [
        f"{headline(result.status)}: {counted(result.scanned, 'backup')} in "
        f"{counted(result.compartments, 'compartment')}, "
        f"{result.elapsed:.1f} s{' (dry run)' if result.dry_run else ''}; kinds: {kinds}"
    ]
    if result.error and not result.failures():
        lines.append(f"error: {result.error}")
    by_kind = result.counts_by_kind()
    if by_kind:
        rows: list[tuple[str, str, int]] = [
            (kind, status, n) for kind, counts in by_kind.items() for status, n in counts.items()
        ]
        if len(by_kind) > 1:
            rows += [("all", status, n) for status, n in sorted(result.counts().items())]
        # Members reached through their group backup (members: tags), apart from the listed backups.
        rows += [("members", status, n) for status, n in result.tally.member_counts().items()]
        lines.append(render_table(("KIND", "STATUS", "COUNT"), rows))
    failures = result.failures()
    if failures:
        lines.append("")
        lines.append(f"Failures ({len(failures)}):")
        # One line each, never cut: the opc-request-id is what Oracle support asks for.
        for f in failures:
            rid = f" (opc-request-id {f['opcRequestId']})" if f.get("opcRequestId") else ""
            lines.append(f"  {f.get('id') or f.get('compartmentId')}: {error_text(f)}{rid}")
        if result.failures_omitted:
            lines.append(f"  ... and {result.failures_omitted} more (each is in the logs)")
    if result.resume_token:
        lines.append("")
        token = shlex.quote(result.resume_token)
        why = "Interrupted: the writes in flight finished, nothing else was started." if interrupted else ""
        lines.append(f"{why or 'Stopped before the end.'} Resume with:\n  {command_hint} --resume {token}")
    return shown("\n".join(lines))


def sweep_exit_code(result: SweepResult) -> int:
    if result.status == "rejected":
        return EXIT_USAGE
    if result.permanent_failures or result.status == "failed":
        return EXIT_FAILED
    if result.resume_token:
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Apply the policy to every backup in a compartment (tree); exit 0 only when nothing failed."""
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise CliError(f"--concurrency must be from 1 to {MAX_CONCURRENCY}")
    from sync.cli.sweep_regions import cmd_sweep_regions, wants_regions

    if wants_regions(args):
        return cmd_sweep_regions(args, out, err)
    env = env_vars()
    compartment = ocid_arg(args.compartment, "compartment", "tenancy")
    since = parse_since(args.since) if args.since else None
    options = sweep_options(args, compartment, since, args.resume)
    with cli_logging(args.log_file, env):
        clients = build_clients(env, identity=args.recursive)
        engine = Engine.on(clients, policy_loader(args.policy, env, clients))
        bar = None if args.no_progress else progress_display(err)
        try:
            timeout = NO_TIMEOUT if args.timeout is None else args.timeout
            with stop_on_signals(err) as stop:
                result = run_sweep(engine, options, Deadline.after(timeout), bar, stop=stop)
        finally:
            if bar is not None:
                bar.finish()
    if result.status == "rejected":
        print(shown(f"error: {result.error}"), file=err)
    elif args.output == "json":
        print(json.dumps(result.to_json(), indent=2), file=out)
    else:
        interrupted = stop.is_set() and result.resume_token is not None
        print(render_summary(result, resume_command(args, compartment, since), interrupted), file=out)
    return interrupted_exit(stop, result.resume_token) or sweep_exit_code(result)


def interrupted_exit(stop: threading.Event, token: str | None) -> int:
    """130 when a signal cut the sweep short (a sweep that finished anyway keeps its own code)."""
    return EXIT_INTERRUPTED if stop.is_set() and token is not None else 0


# -- argparse ----------------------------------------------------------------------------------


def add_sweep_command(sub: Any, wrap: Callable[[Callable[..., int]], Callable[..., int]]) -> None:
    """Add sweep to the parser's subcommands; `wrap` turns CliError into one line."""
    p = add_command(
        sub,
        "sweep",
        "apply the policy to every backup in a compartment (tree); exit 0 only when nothing failed",
        f"{prog()} sweep --compartment ocid1.compartment.oc1..aaaa --recursive --since 7d --dry-run\n"
        f"{prog()} sweep --compartment ocid1.compartment.oc1..aaaa --resume TOKEN  # the summary prints it",
    )
    p.add_argument(
        "--compartment",
        required=True,
        metavar="OCID",
        help="the compartment (or tenancy) whose backups to sweep",
    )
    p.add_argument(
        "--recursive",
        action="store_true",
        help="also sweep every active subcompartment, listed through Identity "
        "(default: this compartment only)",
    )
    p.add_argument(
        "--since",
        metavar="T",
        help="only backups created at or after T: RFC 3339 (2026-11-01T00:00:00Z), a date (midnight UTC) "
        "or 7d / 12h / 30m ago (default: all)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="compute and report, send no update (default: send them)"
    )
    p.add_argument(
        "--available-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="defer backups whose state is not AVAILABLE yet: counted as deferred, no update (the"
        " default); --no-available-only tries them too (OCI may answer 409 IncorrectState)",
    )
    p.add_argument(
        "--kinds",
        metavar="K1,K2",
        help=f"only these backup kinds ({VALID}) (default: every kind a rule of the policy can match)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"backups handled at once (1 to {MAX_CONCURRENCY}); they share one limiter that slows on 429",
    )
    p.add_argument("--page-size", type=int, default=PAGE_SIZE, metavar="N", help=argparse.SUPPRESS)
    p.add_argument(
        "--resume",
        metavar="TOKEN",
        help="continue a sweep that stopped early, from the token its summary printed "
        "(default: from the start)",
    )
    p.add_argument("--policy", metavar="P", help=POLICY_HELP)
    p.add_argument(
        "--output",
        choices=("table", "json"),
        default="table",
        help="table: counts per status and the failures (see --max-failures); json: the sweep answer object",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress display on stderr (default: one redrawn line on a terminal, "
        "a plain line every few seconds otherwise)",
    )
    from sync.cli.sweep_regions import add_region_options

    add_region_options(p)
    add_common_options(
        p, None, "stop after this long and print the --resume command that continues (default: no limit)"
    )
    p.set_defaults(func=wrap(cmd_sweep))
