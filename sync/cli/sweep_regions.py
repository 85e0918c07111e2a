"""`sweep --regions r1,r2|subscribed`: several regions at once, a summary row per region and a total."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from sync.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    NO_TIMEOUT,
    build_clients,
    cli_logging,
    env_vars,
    failure_line,
    ocid_arg,
    policy_loader,
)
from sync.cli.errors import CliError
from sync.cli.interrupt import stop_on_signals
from sync.cli.options import parse_since, resume_command, seconds_arg, sweep_options
from sync.cli.progress import progress_display
from sync.cli.table import counted, error_text, headline, render_table
from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.cloud.engine import CallFailed, Engine
from sync.cloud.leanport import LeanPort
from sync.cloud.regions import REGION_RE, RegionError, parse_regions, region_settings, subscribed_regions
from sync.cloud.retry import Deadline
from sync.domain.ocid import ocid_kind, tenancy_of
from sync.policy.loader import Policy
from sync.sweep.options import DEFAULT_MAX_FAILURES, SweepError
from sync.sweep.regions import RegionsResult, RegionSweep, sweep_regions
from sync.sweep.results import SweepProgress, result_from_json
from sync.sweep.tokens import decode_regions_token, token_region

# How long one OCI call may keep retrying in a command-line sweep before its region (or
# compartment) is reported as stopped, with a resume token: a 5xx storm must not hang the run.
CLI_CALL_BUDGET = 120.0
SHOWN = ("updated", "planned", "unchanged", "failed")


def add_region_options(p: argparse.ArgumentParser) -> None:
    """--regions, --max-failures and --call-budget for the sweep command."""
    p.add_argument(
        "--regions",
        metavar="R1,R2|subscribed",
        help="sweep these regions at once (subscribed: every region the tenancy subscribes to) "
        "(default: the configured region only)",
    )
    p.add_argument(
        "--max-failures",
        type=int,
        default=DEFAULT_MAX_FAILURES,
        metavar="N",
        help=f"failures listed in the summary per region (default {DEFAULT_MAX_FAILURES}; all are logged)",
    )
    p.add_argument(
        "--processes",
        default="1",
        metavar="N|auto",
        help="with several regions, sweep them in N worker processes (auto: one per region when there is "
        "more than one CPU) rather than a thread per region in this process (the default, 1): one "
        "process is bound to one core, so use this when the CPU, not OCI's rate limits, holds a sweep back",
    )
    p.add_argument(
        "--call-budget",
        type=call_budget_arg,
        default=CLI_CALL_BUDGET,
        metavar="SECONDS",
        help="how long one call may keep retrying before the sweep stops there, with a resume token",
    )


def call_budget_arg(text: str) -> float:
    """--call-budget: a number of seconds above 0 (nan, inf, 0 and negatives: exit 2)."""
    value = seconds_arg(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text[:60]!r}: give a number of seconds above 0")
    return value


def wants_regions(args: argparse.Namespace) -> bool:
    """--regions given, or --resume holds a several-regions token."""
    if getattr(args, "regions", None):
        return True
    if not getattr(args, "resume", None):
        return False
    try:
        return decode_regions_token(args.resume) is not None
    except SweepError:
        return False  # the one-region path reports it


def resume_map(token: str, asked: list[str] | None) -> dict[str, str | None]:
    """region -> its token, from a several-regions token or a one-region token naming its region."""

    try:
        regions = decode_regions_token(token)
        if regions is None:
            region = token_region(token)
            if region is None:
                raise CliError("this resume token is from a one-region sweep: resume it without --regions")
            regions = {region: token}
    except SweepError as exc:
        raise CliError(str(exc)) from None
    bad = [r for r in regions if not REGION_RE.match(r)]
    if bad:  # a region name becomes part of an endpoint's host name: only real-looking names
        raise CliError("the resume token is not one this tool issued (bad region name)")
    extra = sorted(set(regions) - set(asked)) if asked is not None else []
    if extra:
        raise CliError(f"the resume token names region(s) {', '.join(extra)}, not in --regions")
    return regions


def subscriptions_tenancy(compartment: str, clients: Clients) -> str:
    """The tenancy to ask for subscriptions: --compartment when it is one, else the credentials' own."""
    if ocid_kind(compartment) == "tenancy":
        return compartment
    try:
        return tenancy_of(clients.tenancy_id())
    except ValueError as exc:
        raise CliError(f"--regions subscribed: {exc}; give the tenancy OCID as --compartment") from None


class RegionsProgress:
    """Adds up each region's latest progress and hands the sum to one progress display."""

    def __init__(self, display: Callable[[SweepProgress], None]) -> None:
        self.display = display
        self._lock = threading.Lock()
        self._latest: dict[str, SweepProgress] = {}

    def __call__(self, region: str, p: SweepProgress) -> None:
        with self._lock:
            self._latest[region] = p
            parts = list(self._latest.values())
        counts: Counter[str] = Counter()
        for part in parts:
            counts.update(part.counts)
        self.display(
            SweepProgress(
                sum(x.scanned for x in parts),
                sum(x.done for x in parts),
                dict(counts),
                sum(x.pages for x in parts),
                max(x.elapsed for x in parts),
                all(x.listing_done for x in parts),
            )
        )


def render_regions(result: RegionsResult, command_hint: str) -> str:
    header = ("REGION", "STATUS", "SCANNED", *(s.upper() for s in SHOWN), "OTHER", "SECONDS", "REASON")
    rows: list[list[Any]] = []
    for r in result.regions:
        counts = r.result.counts() if r.result is not None else {}
        other = sum(v for k, v in counts.items() if k not in SHOWN)
        seconds = f"{r.result.elapsed:.1f}" if r.result is not None else "-"
        scanned = r.result.scanned if r.result is not None else 0
        shown = [counts.get(s, 0) for s in SHOWN]
        rows.append([r.region, r.status, scanned, *shown, other, seconds, r.reason])
    total = result.counts()
    rows.append(
        [
            "TOTAL",
            result.status,
            result.scanned,
            *(total.get(s, 0) for s in SHOWN),
            sum(v for k, v in total.items() if k not in SHOWN),
            f"{result.elapsed:.1f}",
            None,
        ]
    )
    lines = [
        f"{headline(result.status)}: {counted(len(result.regions), 'region')}, "
        f"{counted(result.scanned, 'backup')}, "
        f"{result.elapsed:.1f} s{' (dry run)' if result.dry_run else ''}",
        "",
        render_table(header, rows),
    ]
    for r in result.regions:
        if r.reason:
            lines.append(f"{r.region}: {r.reason}")
        failures = r.result.failures() if r.result is not None else []
        for f in failures:
            rid = f" (opc-request-id {f['opcRequestId']})" if f.get("opcRequestId") else ""
            lines.append(f"  {r.region} {f.get('id') or f.get('compartmentId')}: {error_text(f)}{rid}")
        if r.result is not None and r.result.failures_omitted:
            lines.append(f"  {r.region}: {r.result.failures_omitted} more failure(s) in the logs")
    token = result.resume_token
    if token:
        left = ",".join(result.unfinished())
        lines.append("")
        lines.append(
            f"Not finished: {left}. Resume them with:\n  {command_hint} --regions {left} --resume {token}"
        )
    return "\n".join(lines)


def regions_exit_code(result: RegionsResult) -> int:
    statuses = {r.status for r in result.regions}
    if statuses == {"rejected"}:
        return EXIT_USAGE
    if result.permanent_failures or statuses & {"failed", "rejected"}:
        return EXIT_FAILED
    return EXIT_PARTIAL if result.resume_token else EXIT_OK


def _engine_factory(
    base: OciSettings, env: Mapping[str, str], policy: Callable[[], Policy], identity: bool
) -> Callable[[str], Engine]:
    def engine_for(region: str) -> Engine:
        clients = Clients(region_settings(base, env, region))
        try:
            clients.blockstorage()
            if identity:
                clients.identity()
        except AuthError:
            raise
        except Exception as exc:  # the SDK's setup errors, as one line
            raise AuthError(f"OCI client setup failed: {type(exc).__name__}: {exc}") from None
        return Engine.on(clients, policy)

    return engine_for


def cmd_sweep_regions(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The sweep command with --regions (or a several-regions --resume token)."""

    try:
        return _sweep_regions(args, out, err)
    except RegionError as exc:
        raise CliError(str(exc)) from None


def _sweep_regions(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    env = env_vars()
    compartment = ocid_arg(args.compartment, "compartment", "tenancy")
    since = parse_since(args.since) if args.since else None
    asked = parse_regions(args.regions) if args.regions else None
    resume = resume_map(args.resume, asked) if args.resume else None
    options = sweep_options(args, compartment, since)
    try:
        options.check()
        base = OciSettings.from_env(env)
    except (SweepError, AuthError) as exc:
        raise CliError(str(exc)) from None
    with cli_logging(args.log_file, env):
        clients = build_clients(env)
        policy = policy_loader(args.policy, env, clients)
        timeout = NO_TIMEOUT if args.timeout is None else args.timeout
        deadline = Deadline.after(timeout)
        if resume is not None:
            regions = list(resume)
        elif asked is not None:
            regions = asked
        else:
            try:
                ask = Deadline.after(min(timeout, args.call_budget))  # a 5xx storm must not hang here
                tenancy = subscriptions_tenancy(compartment, clients)
                regions = subscribed_regions(LeanPort(clients), tenancy, ask)
            except CallFailed as failure:
                raise CliError(f"ListRegionSubscriptions: {failure_line(failure)}") from None
            if not regions:
                raise CliError("ListRegionSubscriptions returned no READY region")
        for region in regions:  # a setting that cannot work for any region: one line, before any call
            region_settings(base, env, region)
        processes = process_count(args.processes, len(regions))
        bar = None if args.no_progress else progress_display(err)
        try:
            with stop_on_signals(err) as stop:
                if processes > 1:
                    shown = RegionsProgress(bar) if bar is not None else None
                    result = sweep_in_processes(args, env, regions, resume or {}, deadline, processes, shown)
                else:
                    result = sweep_regions(
                        regions,
                        _engine_factory(base, env, policy, args.recursive),
                        options,
                        deadline,
                        resume,
                        RegionsProgress(bar) if bar is not None else None,
                        stop=stop,
                    )
        finally:
            if bar is not None:
                bar.finish()
    if args.output == "json":
        print(json.dumps(result.to_json(), indent=2), file=out)
    else:
        print(render_regions(result, resume_command(args, compartment, since)), file=out)
    if stop.is_set() and result.resume_token is not None:
        return EXIT_INTERRUPTED
    return regions_exit_code(result)


# -- regions in separate processes -------------------------------------------------------------


def process_count(value: str, regions: int) -> int:
    """--processes: a number (1: threads in this process), or auto: one per region (at most AUTO_PROCESSES).

    A region is mostly waiting on the network and its rate limit, so a region left waiting for a
    free process costs far more than a few processes sharing the CPUs.
    """
    if value == "auto":
        return max(1, min(regions, AUTO_PROCESSES)) if (os.cpu_count() or 1) > 1 else 1
    try:
        count = int(value)
    except ValueError:
        raise CliError(f"--processes must be a number from 1 to {MAX_PROCESSES} or auto") from None
    if not 1 <= count <= MAX_PROCESSES:
        raise CliError(f"--processes must be a number from 1 to {MAX_PROCESSES} or auto")
    return min(count, max(1, regions))


MAX_PROCESSES = 64
AUTO_PROCESSES = 16


def sweep_in_processes(
    args: argparse.Namespace,
    env: Mapping[str, str],
    regions: list[str],
    resume: Mapping[str, str | None],
    deadline: Deadline,
    processes: int,
    progress: Callable[[str, SweepProgress], None] | None = None,
) -> RegionsResult:
    """Each region swept in a worker process (spawned: nothing of this process is shared), rows merged.

    Why: a region's sweep spends its CPU signing requests and in HTTP; with several regions one
    process is bound to one core (the GIL), so regions wait on each other when the CPU is the limit.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    started = time.monotonic()
    plain = {k: v for k, v in vars(args).items() if k != "func"}  # the handler is not picklable
    jobs = [(plain, dict(env), region, resume.get(region), deadline.remaining()) for region in regions]
    context = multiprocessing.get_context("spawn")
    rows: list[RegionSweep] = []
    with contextlib.ExitStack() as stack:
        queue = None
        if progress is not None:  # the workers' progress, shown here as one line
            queue = stack.enter_context(context.Manager()).Queue()
            reader = threading.Thread(target=_read_progress, args=(queue, progress), daemon=True)
            reader.start()
            stack.callback(reader.join, 5.0)
            stack.callback(queue.put, None)
        pool = stack.enter_context(ProcessPoolExecutor(processes, mp_context=context))
        futures = [pool.submit(region_worker, *job, queue) for job in jobs]
        for region, future in zip(regions, futures, strict=True):
            try:
                row = future.result()
            except Exception as exc:  # a worker that died: that region's reason, not a crash
                rows.append(RegionSweep(region, error=f"worker process failed: {exc!r}"[:300]))
                continue
            if row.get("answer") is None:
                rows.append(RegionSweep(region, error=row.get("error") or "no answer"))
            else:
                rows.append(RegionSweep(region, result_from_json(row["answer"], int(row["permanent"]))))
    return RegionsResult(rows, time.monotonic() - started, bool(args.dry_run))


def _read_progress(queue: Any, progress: Callable[[str, SweepProgress], None]) -> None:
    while (item := queue.get()) is not None:
        region, fields = item
        progress(region, SweepProgress(**fields))


def region_worker(
    plain: dict[str, Any],
    env: dict[str, str],
    region: str,
    token: str | None,
    seconds: float,
    queue: Any = None,
) -> dict[str, Any]:
    """One region's sweep in a worker process: its answer and permanent failure count, or its error."""
    args = argparse.Namespace(**plain)
    report = _progress_sender(queue) if queue is not None else None
    try:
        compartment = ocid_arg(args.compartment, "compartment", "tenancy")
        since = parse_since(args.since) if args.since else None
        options = sweep_options(args, compartment, since)
        with cli_logging(args.log_file, env):
            base = OciSettings.from_env(env)
            clients = build_clients(env)
            policy = policy_loader(args.policy, env, clients)
            result = sweep_regions(
                [region],
                _engine_factory(base, env, policy, args.recursive),
                options,
                Deadline.after(seconds),
                {region: token} if token else None,
                report,
            )
    except (CliError, AuthError, SweepError, RegionError) as exc:
        return {"answer": None, "error": str(exc)}
    row = result.regions[0]
    if row.result is None:
        return {"answer": None, "error": row.error}
    return {"answer": row.result.to_json(), "permanent": row.result.permanent_failures}


def _progress_sender(queue: Any) -> Callable[[str, SweepProgress], None]:
    """Progress to the parent, at most every PROGRESS_EVERY seconds (and when listing is done)."""
    last = [0.0]

    def send(region: str, p: SweepProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or (p.listing_done and p.done >= p.scanned):
            last[0] = now
            queue.put((region, dataclasses.asdict(p)))

    return send


PROGRESS_EVERY = 0.5
