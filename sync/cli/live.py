"""Command-line commands against a live (or emulated) endpoint: plan --backup, apply, sweep."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

from sync import logs
from sync.cli.options import (
    MAX_CONCURRENCY,
    LiveError,
    parse_since,
    resume_command,
    seconds_arg,
    shown,
)
from sync.cli.table import change_rows, render_plan, render_table
from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.cloud.engine import CallFailed, Engine, Outcome
from sync.cloud.limiter import AdaptiveLimiter
from sync.cloud.retry import Deadline
from sync.policy.loader import Policy
from sync.policy.planner import needs_volume_group
from sync.policy.planner import plan as make_plan
from sync.requests.bodies import check_ocid
from sync.sources.select import load_policy_from, source_from_env
from sync.sweep.runner import (
    DEFAULT_CONCURRENCY,
    PAGE_SIZE,
    SweepOptions,
    SweepProgress,
    SweepResult,
    run_sweep,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
NO_TIMEOUT = 7 * 24 * 3600.0
BAD_OUTCOMES = frozenset({"failed", "not_found", "rejected"})


def _env() -> Mapping[str, str]:
    return os.environ


# -- shared setup ----------------------------------------------------------------------------


def build_clients(env: Mapping[str, str], *, identity: bool = False) -> Clients:
    """Clients from the function's settings (OCI_AUTH, OCI_CONFIG_FILE, OCI_CORE_ENDPOINT...)."""
    try:
        clients = Clients(OciSettings.from_env(env))
        clients.blockstorage()  # authenticate now, so a bad setup is one line before any work
        if identity:
            clients.identity()
    except AuthError as exc:
        raise LiveError(str(exc)) from None
    except Exception as exc:  # the SDK's InvalidConfig and friends, raised when a client is built
        raise LiveError(f"OCI client setup failed: {type(exc).__name__}: {exc}") from None
    return clients


def policy_loader(policy_arg: str | None, env: Mapping[str, str], clients: Clients) -> Callable[[], Policy]:
    """--policy (path, file://, oci://, s3://) loaded once; else the function's TAG_POLICY rules."""
    if policy_arg:
        policy = load_policy_from(policy_arg, env)  # PolicyError: printed by main, exit 1
        return lambda: policy
    from sync.function.handler import DEFAULT_POLICY

    source = source_from_env(env, lambda: clients, DEFAULT_POLICY)
    source.load()  # fail now, with the validation message, rather than once per backup
    return source.load


@contextlib.contextmanager
def cli_logging(log_file: str | None, env: Mapping[str, str]) -> Iterator[None]:
    """JSON logs to --log-file, or to stderr when LOG_LEVEL is set; else silent (the summary says it).

    The `sync` logger's previous state is restored afterwards (main() also runs inside tests).
    """
    logger = logging.getLogger("sync")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    stream: TextIO | None = None
    try:
        if log_file:
            try:
                stream = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise LiveError(f"cannot open log file {log_file}: {exc.strerror}") from None
            logs.setup(env.get("LOG_LEVEL", "info"), stream)
        elif env.get("LOG_LEVEL"):
            logs.setup(env["LOG_LEVEL"])
        else:
            logger.setLevel(logging.CRITICAL + 1)
            logger.propagate = False
        yield
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]
        if stream is not None:
            stream.close()


def _ocid(value: str, *kinds: str) -> str:
    try:
        return check_ocid(value.strip(), *kinds)
    except ValueError as exc:
        raise LiveError(str(exc)) from None


def _failure_line(failure: CallFailed) -> str:
    rid = f" (opc-request-id {failure.opc_request_id})" if failure.opc_request_id else ""
    return f"{failure}{rid}"


# -- plan --backup -----------------------------------------------------------------------------


def cmd_plan_live(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """What the policy would change on a live backup (GET, and the volume group when a rule needs it)."""
    env = _env()
    backup_id = _ocid(args.backup, "volumegroupbackup")
    with cli_logging(getattr(args, "log_file", None), env):
        clients = build_clients(env)
        policy = policy_loader(args.policy, env, clients)()
        engine = Engine(clients, lambda: policy)
        deadline = Deadline.after(args.timeout)
        client = clients.blockstorage()
        try:
            got = engine.call(
                "GetVolumeGroupBackup",
                client.get_volume_group_backup,
                backup_id,
                deadline,
                volume_group_backup_id=backup_id,
            )
            from oci.util import to_dict

            backup = to_dict(got.data)
            vg = None
            if backup.get("volume_group_id") and needs_volume_group(policy, backup):
                vg = engine.get_volume_group(backup["volume_group_id"], backup_id, deadline)
        except CallFailed as failure:
            print(shown(f"error: {_failure_line(failure)}"), file=err)
            return EXIT_FAILED
        result = make_plan(policy, backup, vg, None)
        if getattr(args, "tag_schema", None):  # a schema file instead of the tenancy's
            from sync.cli.lint_live import SchemaFileError, load_schema_file
            from sync.policy.tagcheck import apply_schema

            try:
                result = apply_schema(result, load_schema_file(args.tag_schema))
            except SchemaFileError as exc:
                raise LiveError(str(exc)) from None
        else:
            result = engine.tag_schema.review(result, deadline)
        print(render_plan(result), file=out)
        state = backup.get("lifecycle_state")
        if state != "AVAILABLE":
            print(shown(f"note: the backup is {state}"), file=out)
    return EXIT_OK


# -- apply -------------------------------------------------------------------------------------


def render_outcome(o: Outcome) -> str:
    lines = [f"Backup {o.backup_id}: {o.status}"]
    rows = change_rows(o.changes)
    if rows:
        lines.append(render_table(("FIELD", "KEY", "OLD", "NEW"), rows))
    if o.matched_rules:
        lines.append(f"Matched rules: {', '.join(o.matched_rules)}")
    if o.error:
        lines.append(f"error: {o.error}")
    if o.opc_request_id:
        lines.append(f"opc-request-id: {o.opc_request_id}")
    lines += [f"warning: {w}" for w in o.warnings]
    return shown("\n".join(lines))


def cmd_apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Bring one backup in line with the policy, as the function does for an event."""
    env = _env()
    backup_id = _ocid(args.backup, "volumegroupbackup")
    with cli_logging(args.log_file, env):
        clients = build_clients(env)
        engine = Engine(clients, policy_loader(args.policy, env, clients))
        outcome = engine.sync_backup(backup_id, dry_run=args.dry_run, deadline=Deadline.after(args.timeout))
    if args.output == "json":
        print(json.dumps(outcome.to_json(), indent=2), file=out)
    else:
        print(render_outcome(outcome), file=out)
    return EXIT_FAILED if outcome.status in BAD_OUTCOMES else EXIT_OK


# -- sweep -------------------------------------------------------------------------------------


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; plain lines every few seconds otherwise.

    The total is unknown while pages are still being listed, so the bar shows finished
    backups against those listed so far.
    """

    WIDTH = 24

    def __init__(self, stream: TextIO, tty: bool | None = None, every: float | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every if every is not None else (0.1 if self.tty else 2.0)
        self._last = float("-inf")
        self._drawn = False
        self._lock = threading.Lock()  # called from the sweep's worker threads

    def line(self, p: SweepProgress) -> str:
        c = p.counts
        rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
        listed = f"{p.scanned}" if p.listing_done else f"{p.scanned}+"
        parts = [f"{p.done}/{listed}"]
        parts += [f"{s} {c[s]}" for s in ("updated", "planned", "unchanged", "failed") if c.get(s)]
        parts.append(f"{rate:.0f}/s {p.elapsed:.1f}s")
        return "  ".join(parts)

    def __call__(self, p: SweepProgress) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last = now
            self._draw(p)

    def _draw(self, p: SweepProgress) -> None:
        if self.tty:
            filled = int(self.WIDTH * p.done / p.scanned) if p.scanned else 0
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.line(p)}\x1b[K")
            self._drawn = True
        else:
            self.stream.write(f"progress: {self.line(p)}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def render_summary(result: SweepResult, command_hint: str) -> str:
    lines = [
        f"Sweep {result.status}: {result.scanned} backup(s) in {result.compartments} compartment(s), "
        f"{result.elapsed:.1f} s{' (dry run)' if result.dry_run else ''}"
    ]
    if result.error and not result.failures():
        lines.append(f"error: {result.error}")
    counts = result.counts()
    if counts:
        lines.append(render_table(("STATUS", "COUNT"), sorted(counts.items())))
    failures = result.failures()
    if failures:
        lines.append("")
        lines.append(f"Failures ({len(failures)}):")
        # One line each, never cut: the opc-request-id is what Oracle support asks for.
        for f in failures:
            rid = f" (opc-request-id {f['opcRequestId']})" if f.get("opcRequestId") else ""
            lines.append(f"  {f.get('id') or f.get('compartmentId')}: {f.get('error')}{rid}")
    if result.resume_token:
        lines.append("")
        token = shlex.quote(result.resume_token)
        lines.append(f"Stopped before the end. Resume with:\n  {command_hint} --resume {token}")
    return shown("\n".join(lines))


def sweep_exit_code(result: SweepResult) -> int:
    if result.status == "rejected":
        return EXIT_USAGE
    permanent = [f for f in result.failures() if not f.get("transient")]
    if permanent or result.status == "failed":
        return EXIT_FAILED
    if result.resume_token:
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Apply the policy to every backup in a compartment (tree); exit 0 only when nothing failed."""
    env = _env()
    compartment = _ocid(args.compartment, "compartment", "tenancy")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise LiveError(f"--concurrency must be from 1 to {MAX_CONCURRENCY}")
    since = parse_since(args.since) if args.since else None
    options = SweepOptions(
        compartment_id=compartment,
        recursive=args.recursive,
        since=since,
        dry_run=args.dry_run,
        available_only=args.available_only,
        concurrency=args.concurrency,
        resume_token=args.resume,
        page_size=args.page_size,
    )
    with cli_logging(args.log_file, env):
        clients = build_clients(env, identity=args.recursive)
        engine = Engine(clients, policy_loader(args.policy, env, clients), limiter=AdaptiveLimiter())
        bar = None if args.no_progress else ProgressBar(err)
        try:
            timeout = NO_TIMEOUT if args.timeout is None else args.timeout
            result = run_sweep(engine, options, Deadline.after(timeout), bar)
        finally:
            if bar is not None:
                bar.finish()
    if result.status == "rejected":
        print(shown(f"error: {result.error}"), file=err)
    elif args.output == "json":
        print(json.dumps(result.to_json(), indent=2), file=out)
    else:
        print(render_summary(result, resume_command(args, compartment, since)), file=out)
    return sweep_exit_code(result)


# -- argparse ----------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, timeout: float | None) -> None:
    p.add_argument("--log-file", metavar="FILE", help="append JSON log lines here (else LOG_LEVEL -> stderr)")
    p.add_argument(
        "--timeout",
        type=seconds_arg,
        default=timeout,
        metavar="SECONDS",
        help="give up (and, for sweep, report where to resume) after this long",
    )


def add_live_commands(sub: Any, wrap: Callable[[Callable[..., int]], Callable[..., int]]) -> None:
    """Add apply and sweep to the parser's subcommands; `wrap` turns LiveError into one line."""
    p = sub.add_parser("apply", help="bring one backup in line with the policy (GET, PUT with if-match)")
    p.add_argument("--backup", required=True, metavar="OCID", help="volume group backup OCID")
    p.add_argument("--dry-run", action="store_true", help="compute and show, never write")
    p.add_argument("--policy", metavar="P", help="path, file://, oci:// or s3:// (default: as the function)")
    p.add_argument("--output", choices=("table", "json"), default="table")
    _common(p, 60.0)
    p.set_defaults(func=wrap(cmd_apply))

    p = sub.add_parser("sweep", help="apply the policy to every backup in a compartment")
    p.add_argument("--compartment", required=True, metavar="OCID", help="compartment (or tenancy) OCID")
    p.add_argument("--recursive", action="store_true", help="include subcompartments")
    p.add_argument("--since", metavar="T", help="only backups created at or after T (RFC 3339, date, 7d)")
    p.add_argument("--dry-run", action="store_true", help="compute and report, never write")
    p.add_argument("--available-only", action="store_true", help="skip backups not AVAILABLE")
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help="parallel backups (default 8)",
    )
    p.add_argument("--page-size", type=int, default=PAGE_SIZE, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--resume", metavar="TOKEN", help="continue a sweep that stopped (token it printed)")
    p.add_argument("--policy", metavar="P", help="path, file://, oci:// or s3:// (default: as the function)")
    p.add_argument("--output", choices=("table", "json"), default="table")
    p.add_argument("--no-progress", action="store_true", help="no progress display on stderr")
    _common(p, None)
    p.set_defaults(func=wrap(cmd_sweep))


def add_plan_live_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backup", metavar="OCID", help="plan a live backup (GET from the endpoint)")
    _common(p, 60.0)


def guarded(func: Callable[[argparse.Namespace, TextIO, TextIO], int]) -> Callable[..., int]:
    """LiveError (and stray SDK setup errors) become `error: ...` and exit 2, never a traceback."""

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        try:
            return func(args, out, err)
        except LiveError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_USAGE

    return run
