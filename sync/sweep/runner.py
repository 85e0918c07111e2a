"""Sweep: apply the policy to every volume group backup in a compartment (tree), page by page.

How a sweep runs
- Compartments: the given one, and with `recursive` its ACTIVE subcompartments (ListCompartments
  with compartmentIdInSubtree on a tenancy, else a walk over the children), root first.
- Each compartment is listed with ListVolumeGroupBackups sorted TIMECREATED DESC. The list API
  has no time filter, so with `since` older backups are skipped as they are listed. Paging goes
  on to the end: Oracle does not promise one strict time order across a compartment (some list
  operations group by availability domain first), and a missed backup costs more than a list call.
- Every listed backup is decided (sync/policy/decide.py, as on the event path) from the listed
  data (the list returns whole backups with tags). A compliant backup costs nothing more. Each
  distinct volume group is fetched at most once while it stays in a bounded cache
  (sources.py). A backup that needs a change goes through Engine.sync_backup, the function's
  own path: GET for the etag, re-plan, PUT with if-match, 412 -> read again. A dry run reports
  `planned` from the listed data and sends nothing else.
- Backups run on a thread pool (default 8) whose calls share the sweep's limiter (an
  AdaptiveLimiter unless the caller passes one): it slows
  down on 429 (honouring Retry-After) and speeds back up gradually.
- Memory does not grow with the number of backups: pages are streamed (at most twice the
  concurrency of backups are waiting), outcomes are counted (results.Tally keeps the first N
  failures) and each backup's detail is one log line.
- The sweep stops starting new work shortly before its deadline, or after STORM_THRESHOLD
  transient failures in a row, and waits for the work in flight (bounded by the same deadline).

Resume tokens (tokens.py): a sweep that did not cover everything names the compartment and
page to resume from. Every backup listed before that page finished; a backup that failed
transiently (or was cut off) keeps its page unfinished, so resuming retries it.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sync.cloud.calls import Limiter
from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed, Engine, Outcome
from sync.cloud.limiter import AdaptiveLimiter
from sync.cloud.logfields import backup_fields
from sync.cloud.members import read_group_backup
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind, SourceKind
from sync.domain.status import Status, SweepStatus
from sync.policy.loader import Policy, PolicyError, PolicyTimeout
from sync.sweep.item import Reads, process_backup
from sync.sweep.kinds import sweep_kinds
from sync.sweep.listing import Lister, Stop, listing_failure
from sync.sweep.options import (
    DEFAULT_CONCURRENCY,
    PAGE_SIZE,
    STOP_RESERVE_MAX,
    STOP_RESERVE_SHARE,
    STORM_THRESHOLD,
    SweepError,
    SweepOptions,
)
from sync.sweep.results import SweepProgress, SweepResult, Tally, log_outcome
from sync.sweep.sources import GroupBackupCache, SourceCache
from sync.sweep.tokens import Position, decode_token, encode_token

# Names the command line and tests import from here.
__all__ = ["DEFAULT_CONCURRENCY", "PAGE_SIZE", "Position", "SweepError", "SweepOptions"]
__all__ += ["SweepProgress", "SweepResult", "decode_token", "encode_token", "run_sweep"]

log = logging.getLogger("sync.sweep.runner")


@dataclass
class _Page:
    """A listed page, held by its backups while they run; `seq` orders pages in sweep order."""

    position: Position
    seq: int


class Sweep:
    """One sweep run; `run()` never raises (problems end up in the result)."""

    def __init__(
        self,
        engine: Engine,
        options: SweepOptions,
        deadline: Deadline,
        progress: Callable[[SweepProgress], None] | None = None,
        limiter: Limiter | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        options.check()
        self.stop = stop  # set from outside (the command line's Ctrl-C): stop as at the deadline
        self.engine = engine
        # Every call of this sweep shares one pacing, whatever else runs on the engine.
        self.limiter = limiter or AdaptiveLimiter()
        self.options = options
        self.deadline = deadline
        self.progress = progress
        pace = self.limiter
        self.sources = SourceCache(
            lambda kind, sid, bid, d: engine.port.get_source(SourceKind(kind), sid, bid, d, pace),
            options.volume_group_cache,
        )
        self.groups = GroupBackupCache(
            lambda _kind, gid, _bid, d: read_group_backup(engine.port, gid, d, pace),
            options.volume_group_cache,
        )
        self.tally = Tally(options.max_failures)
        self.lister = Lister(engine.port, options, self.call_deadline, self._should_stop, self.limiter)
        self._lock = threading.Lock()
        self._pages = 0
        self._first_unfinished: _Page | None = None
        self._storm: str | None = None
        self._scanned = 0
        self._started = time.monotonic()
        self._started_at = datetime.now(UTC)
        self._listing_done = False
        self.kinds: tuple[Kind, ...] = ()
        budget = deadline.remaining()
        self._stop_at = deadline.at - min(STOP_RESERVE_MAX, STOP_RESERVE_SHARE * budget)

    # -- helpers ---------------------------------------------------------------------------

    def call_deadline(self) -> Deadline:
        """The sweep's deadline, or sooner when one call may only retry for call_budget seconds."""
        budget = self.options.call_budget
        if budget is None:
            return self.deadline
        return Deadline(min(self.deadline.at, self.deadline.clock() + budget), self.deadline.clock)

    def _should_stop(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return self._storm is not None or self.deadline.clock() >= self._stop_at

    def _report(self) -> None:
        if self.progress is None:
            return
        with self._lock:
            scanned, pages = self._scanned, self._pages
        snap = SweepProgress(
            scanned,
            self.tally.done,
            self.tally.snapshot_counts(),
            pages,
            time.monotonic() - self._started,
            self._listing_done,
        )
        try:
            self.progress(snap)
        except Exception:  # a progress display must never break a sweep
            log.debug("progress callback failed", exc_info=True)

    # -- one backup ------------------------------------------------------------------------

    def _run_item(self, policy: Policy, backup: Backup, page: _Page) -> None:
        try:
            reads = Reads(self.sources, self.groups)
            outcome = process_backup(
                self.engine, self.options, policy, backup, reads, self.call_deadline(), self.limiter
            )
        except Exception as exc:  # a bug in one backup must not lose the others
            log.exception("sweep item failed", extra=backup_fields(backup.id))
            outcome = Outcome(Status.FAILED, backup.id, error=f"internal error: {exc!r}"[:300])
        log_outcome(outcome, self.options.region)
        self.tally.add(outcome)
        with self._lock:
            if outcome.status is Status.FAILED and outcome.transient:
                self._unfinished(page)
                if self.tally.transient_in_a_row >= STORM_THRESHOLD and self._storm is None:
                    self._storm = (
                        f"stopped after {STORM_THRESHOLD} transient failures in a row (last: {outcome.error})"
                    )
        self._report()

    def _unfinished(self, page: _Page) -> None:
        """Remember the earliest page (in sweep order) that must be listed again (callers hold the lock)."""
        if self._first_unfinished is None or page.seq < self._first_unfinished.seq:
            self._first_unfinished = page

    # -- the sweep -------------------------------------------------------------------------

    def run(self) -> SweepResult:
        result = self._run()
        result.region = self.options.region
        result.started_at = self._started_at
        calls = dict(self.lister.calls)
        calls.update(self.sources.fetch_calls())
        calls.update(self.groups.fetch_calls())
        result.kinds = self.kinds
        result.finish(time.monotonic() - self._started, self.options.dry_run, calls)
        log.info(
            f"sweep {result.status}",
            extra={
                "compartment_id": self.options.compartment_id,
                "region": self.options.region,
                "counts": result.counts(),
                "scanned": result.scanned,
                "resume_token": result.resume_token,
                "elapsed": round(result.elapsed, 3),
            },
        )
        return result

    def _run(self) -> SweepResult:
        opts = self.options
        try:
            start = decode_token(opts.resume_token, opts) if opts.resume_token else None
        except SweepError as exc:
            return SweepResult(SweepStatus.REJECTED, error=str(exc))
        try:
            policy = self.engine.policy()
        except PolicyError as exc:  # loading that ran out of time is no verdict on the policy: failed
            status = SweepStatus.FAILED if isinstance(exc, PolicyTimeout) else SweepStatus.REJECTED
            return SweepResult(status, error=f"policy {exc.origin}: " + "; ".join(exc.errors))
        kinds = self.kinds = sweep_kinds(policy, opts.kinds)
        if start is not None and start.kind not in kinds:
            return SweepResult(
                SweepStatus.REJECTED,
                error=f"the resume token stopped in {start.kind.value}, which this sweep does not list"
                f" (kinds: {', '.join(k.value for k in kinds) or 'none the policy can match'})",
            )
        try:
            compartments = self.lister.compartments()
        except (CallFailed, AuthError) as exc:
            failure = listing_failure(exc, opts.compartment_id)
            transient = isinstance(exc, CallFailed) and exc.transient
            status = SweepStatus.PARTIAL if transient else SweepStatus.FAILED
            first = Position(opts.compartment_id, None, kinds[0]) if kinds else None
            where = start or first
            token = encode_token(opts, where) if where is not None else None
            return SweepResult(
                status,
                Tally(opts.max_failures),
                resume_token=token if transient else None,
                listing_failures=[failure],
                error=failure["error"],
            )
        if start is not None:
            if start.compartment_id not in compartments:
                return SweepResult(
                    SweepStatus.REJECTED,
                    error=f"resume token names compartment {start.compartment_id}, no longer in the sweep",
                )
            compartments = compartments[compartments.index(start.compartment_id) :]
        stop, first_error = self._submit_all(policy, kinds, compartments, start)
        self._report()
        with self._lock:
            unfinished = self._first_unfinished.position if self._first_unfinished else None
        resume_at = unfinished or stop
        if self._storm and first_error is None:
            first_error = self._storm
        status = (
            SweepStatus.PARTIAL
            if resume_at is not None
            else SweepStatus.FAILED
            if first_error
            else SweepStatus.SWEPT
        )
        return SweepResult(
            status,
            self.tally,
            self._scanned,
            encode_token(opts, resume_at) if resume_at is not None else None,
            len(compartments),
            error=first_error,
        )

    def _submit_all(
        self, policy: Policy, kinds: tuple[Kind, ...], compartments: list[str], start: Position | None
    ) -> tuple[Position | None, str | None]:
        """List each kind in each compartment, run its backups; (where listing stopped, first listing error).

        Kind after kind (sweep order), each over every compartment: the position a token names
        (kind, compartment, page) then orders the whole sweep.
        """
        stop: Position | None = None
        first_error: str | None = None
        in_flight = threading.BoundedSemaphore(self.options.concurrency * 2)
        steps = [(kind, comp) for kind in kinds for comp in compartments]
        if start is not None:
            steps = steps[steps.index((start.kind, start.compartment_id)) :]
        with ThreadPoolExecutor(self.options.concurrency, thread_name_prefix="sweep") as pool:
            for index, (kind, comp) in enumerate(steps):
                page_token = start.page if (start and index == 0) else None
                for position, items, error in self.lister.pages(kind, comp, page_token):
                    if isinstance(error, Stop):
                        stop = position
                        break
                    if error is not None:
                        failure = listing_failure(error, comp)
                        self.tally.add_failure(failure)
                        first_error = first_error or failure["error"]
                        if isinstance(error, CallFailed) and error.transient:
                            stop = position  # retried until the deadline: resume here
                        # A permanent failure (404, 401...) would fail the same way on resume:
                        # it is reported, and the sweep goes on with the next compartment.
                        break
                    with self._lock:
                        page = _Page(position, self._pages)
                        self._pages += 1
                    for backup in items:
                        if not self._acquire_slot(in_flight):
                            with self._lock:
                                self._unfinished(page)
                            stop = position
                            break
                        with self._lock:
                            self._scanned += 1
                        # The worker logs with this call's context (its Fn call id).
                        context = contextvars.copy_context()
                        fut = pool.submit(context.run, self._run_item, policy, backup, page)
                        fut.add_done_callback(lambda _f: in_flight.release())
                    if stop is not None:
                        break
                    self._report()
                if stop is not None:
                    break
            self._listing_done = stop is None  # stopped early: the total is not known (no "100%")
        return stop, first_error

    def _acquire_slot(self, sem: threading.BoundedSemaphore) -> bool:
        while not self._should_stop():
            if sem.acquire(timeout=0.05):
                return True
        return False


def run_sweep(
    engine: Engine,
    options: SweepOptions,
    deadline: Deadline,
    progress: Callable[[SweepProgress], None] | None = None,
    limiter: Limiter | None = None,
    stop: threading.Event | None = None,
) -> SweepResult:
    """Run one sweep; never raises (a bad token or option comes back as status `rejected`).

    limiter: the sweep's pacing (default: a new AdaptiveLimiter for this sweep).
    `stop`, once set, ends the sweep as its deadline would: no new backup starts, the ones in
    flight finish, and the result carries the resume token.
    """
    try:
        sweep = Sweep(engine, options, deadline, progress, limiter, stop)
    except SweepError as exc:
        return SweepResult(SweepStatus.REJECTED, error=str(exc))
    return sweep.run()
