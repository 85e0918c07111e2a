"""Sweep: apply the policy to every volume group backup in a compartment (tree), page by page.

How a sweep runs
- Compartments: the given one, and with `recursive` its ACTIVE subcompartments (ListCompartments
  with compartmentIdInSubtree on a tenancy, else a walk over the children), root first.
- Each compartment is listed with ListVolumeGroupBackups sorted TIMECREATED DESC. The list API
  has no time filter, so with `since` older backups are skipped as they are listed. Paging goes
  on to the end: Oracle does not promise one strict time order across a compartment (some list
  operations group by availability domain first), and a missed backup costs more than a list call.
- Every listed backup is planned from the listed data (the list returns whole backups with
  tags). A compliant backup costs nothing more. Each distinct volume group is fetched at most
  once per sweep (a thread-safe cache). A backup that needs a change goes through
  Engine.sync_backup, the function's own path: GET for the etag, re-plan, PUT with if-match,
  412 -> read again. A dry run reports `planned` from the listed data and sends nothing else.
- Backups run on a thread pool (default 8) whose calls share one AdaptiveLimiter: it slows
  down on 429 (honouring Retry-After) and speeds back up gradually.
- The sweep stops starting new work shortly before its deadline and waits for the work in
  flight (bounded by the same deadline).

Resume tokens
A sweep that did not cover everything returns a resume token: an opaque string naming the
compartment and the ListVolumeGroupBackups page to start from. Every backup listed before
that page (in sweep order: compartment by compartment, newest first) finished: it got a final
answer (updated, unchanged, planned, ignored, not_found, rejected, or a permanent failure).
Some backups on or after that page may already be done too; resuming lists them again and,
as they are now compliant, spends no call on them. A backup that failed transiently (or was
cut off by the deadline) keeps its page unfinished, so resuming retries it. The token is bound
to the root compartment and the `recursive` flag; OCI page tokens inside it are used as OCI
issued them (how long OCI honours a page token is not documented: a stale token gives 400,
and starting again without a token is always safe, only slower).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.cloud.clients import AuthError
from sync.cloud.engine import SKIPPED_STATES, CallFailed, Engine, Outcome
from sync.cloud.limiter import AdaptiveLimiter
from sync.cloud.retry import Deadline
from sync.policy.loader import Policy, PolicyError
from sync.policy.planner import needs_volume_group, plan
from sync.requests.bodies import SweepRequest, ocid_kind

log = logging.getLogger("sync.sweep.runner")

DEFAULT_CONCURRENCY = 8
PAGE_SIZE = 100
TOKEN_VERSION = 1
# Stop starting new backups when less than this share of the budget (at most STOP_RESERVE_MAX
# seconds) is left, so the work in flight can finish inside the deadline.
STOP_RESERVE_SHARE = 0.1
STOP_RESERVE_MAX = 3.0


class SweepError(Exception):
    """A sweep that cannot start (bad resume token, bad options): answered `rejected`."""


@dataclass(frozen=True)
class SweepOptions:
    compartment_id: str
    recursive: bool = False
    since: datetime | None = None
    dry_run: bool = False
    available_only: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    resume_token: str | None = None
    page_size: int = PAGE_SIZE


@dataclass(frozen=True)
class Position:
    """Where a sweep (re)starts: a compartment and the page token to list it from (None: first page)."""

    compartment_id: str
    page: str | None


def encode_token(options: SweepOptions, position: Position) -> str:
    payload = {
        "v": TOKEN_VERSION,
        "root": options.compartment_id,
        "r": options.recursive,
        "c": position.compartment_id,
        "p": position.page,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, options: SweepOptions) -> Position:
    try:
        raw = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error):
        raise SweepError("the resume token is not one this tool issued") from None
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        raise SweepError("the resume token is not one this tool issued")
    comp, page = payload.get("c"), payload.get("p")
    if not isinstance(comp, str) or not (page is None or isinstance(page, str)):
        raise SweepError("the resume token is not one this tool issued")
    if payload.get("root") != options.compartment_id or bool(payload.get("r")) != options.recursive:
        raise SweepError(
            "the resume token belongs to another sweep (compartment "
            f"{payload.get('root')}, recursive={bool(payload.get('r'))})"
        )
    return Position(comp, page)


@dataclass
class SweepProgress:
    """Passed to the progress callback after each page and each finished backup."""

    scanned: int
    done: int
    counts: dict[str, int]
    pages: int
    elapsed: float
    listing_done: bool


@dataclass
class SweepResult:
    """What a sweep did; status: swept (all done), partial (resume_token set), failed, rejected."""

    status: str
    outcomes: list[Outcome] = field(default_factory=list)
    scanned: int = 0
    resume_token: str | None = None
    compartments: int = 0
    listing_failures: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    dry_run: bool = False
    calls: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    def failures(self) -> list[dict[str, Any]]:
        items = [
            {
                "id": o.backup_id,
                "status": o.status,
                "error": o.error,
                "opcRequestId": o.opc_request_id,
                "transient": o.transient,
            }
            for o in self.outcomes
            if o.status == "failed"
        ]
        return items + self.listing_failures

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "counts": self.counts(),
            "backups": [backup_json(o) for o in self.outcomes],
            "failures": self.failures(),
            "resumeToken": self.resume_token,
            "scanned": self.scanned,
            "compartments": self.compartments,
            "dryRun": self.dry_run,
            "elapsedSeconds": round(self.elapsed, 3),
        }
        if self.error:
            out["error"] = self.error
        return out


def backup_json(o: Outcome) -> dict[str, Any]:
    item: dict[str, Any] = {"id": o.backup_id, "status": o.status}
    if o.changes:
        item["changes"] = o.changes
    if o.opc_request_id:
        item["opcRequestId"] = o.opc_request_id
    if o.error:
        item["error"] = o.error
    return item


@dataclass
class _Entry:
    done: threading.Event = field(default_factory=threading.Event)
    value: dict[str, Any] | None = None
    error: Exception | None = None


class VolumeGroupCache:
    """GetVolumeGroup at most once per volume group (404: None), shared by threads; an Engine lookup."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self.fetches = 0

    def __call__(self, vg_id: str, backup_id: str | None, deadline: Deadline) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(vg_id)
            owner = entry is None
            if entry is None:
                entry = self._entries[vg_id] = _Entry()
                self.fetches += 1
        if owner:
            try:
                entry.value = self.engine.get_volume_group(vg_id, backup_id, deadline)
            except (CallFailed, AuthError) as exc:
                entry.error = exc
            finally:
                entry.done.set()
        elif not entry.done.wait(timeout=max(0.0, deadline.remaining())):
            raise CallFailed("GetVolumeGroup", None, "DeadlineExceeded", "no time left", None, True)
        if entry.error is not None:
            raise entry.error
        return entry.value


class _Stop:
    """The deadline is near: stop listing here."""


@dataclass
class _Page:
    position: Position
    pending: int = 0
    unfinished: bool = False  # an item ended transiently, or the page was not fully submitted


def _to_dict(model: Any) -> dict[str, Any]:
    from oci.util import to_dict

    data = to_dict(model)
    return data if isinstance(data, dict) else {}


def _compartment_ids(found: list[Any]) -> list[str]:
    """Ids of listed compartments that are compartment OCIDs (others never become a path)."""
    ids = [str(_to_dict(c).get("id")) for c in found]
    for bad in (i for i in ids if ocid_kind(i) != "compartment"):
        log.warning(f"skipped a listed compartment whose id {bad[:80]!r} is not a compartment OCID")
    return [i for i in ids if ocid_kind(i) == "compartment"]


def _created(backup: dict[str, Any]) -> datetime | None:
    value = backup.get("time_created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def with_limiter(engine: Engine, limiter: AdaptiveLimiter | None = None) -> Engine:
    """The engine itself when it has a limiter; else a twin sharing clients and policy, with one."""
    if engine.limiter is not None:
        return engine
    return Engine(
        engine.clients,
        engine.policy,
        sleep=engine.sleep,
        rng=engine.rng,
        limiter=limiter or AdaptiveLimiter(),
    )


class Sweep:
    """One sweep run; `run()` never raises (problems end up in the result)."""

    def __init__(
        self,
        engine: Engine,
        options: SweepOptions,
        deadline: Deadline,
        progress: Callable[[SweepProgress], None] | None = None,
    ) -> None:
        if options.concurrency < 1:
            raise SweepError("concurrency must be at least 1")
        if not 1 <= options.page_size <= 1000:
            raise SweepError("page size must be between 1 and 1000")
        self.engine = with_limiter(engine)
        self.options = options
        self.deadline = deadline
        self.progress = progress
        self.volume_groups = VolumeGroupCache(self.engine)
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self._pages: list[_Page] = []
        self._scanned = 0
        self._started = time.monotonic()
        self._listing_done = False
        self._calls: Counter[str] = Counter()
        budget = deadline.remaining()
        self._stop_at = deadline.at - min(STOP_RESERVE_MAX, STOP_RESERVE_SHARE * budget)

    # -- helpers ---------------------------------------------------------------------------

    def _should_stop(self) -> bool:
        return self.deadline.clock() >= self._stop_at

    def _report(self) -> None:
        if self.progress is None:
            return
        with self._lock:
            snap = SweepProgress(
                self._scanned,
                len(self._outcomes),
                dict(Counter(o.status for o in self._outcomes)),
                len(self._pages),
                time.monotonic() - self._started,
                self._listing_done,
            )
        try:
            self.progress(snap)
        except Exception:  # a progress display must never break a sweep
            log.debug("progress callback failed", exc_info=True)

    def _listing_failure(self, failure: CallFailed | AuthError, compartment_id: str) -> dict[str, Any]:
        if isinstance(failure, AuthError):
            return {"operation": "authentication", "compartmentId": compartment_id, "error": str(failure)}
        return {
            "operation": failure.operation,
            "compartmentId": compartment_id,
            "status": failure.status,
            "error": str(failure),
            "opcRequestId": failure.opc_request_id,
            "transient": failure.transient,
        }

    def _list_all(self, fn: Callable[..., Any], operation: str, **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        page: str | None = None
        while True:
            resp = self.engine.call(operation, fn, None, self.deadline, page=page, **kwargs)
            self._calls[operation] += 1
            items.extend(resp.data or [])
            page = resp.next_page
            if not page:
                return items

    def compartments(self) -> list[str]:
        """The root, then (recursive) its ACTIVE descendants, in a stable order."""
        root = self.options.compartment_id
        if not self.options.recursive:
            return [root]
        identity = self.engine.clients.identity()
        if ocid_kind(root) == "tenancy":
            found = self._list_all(
                identity.list_compartments,
                "ListCompartments",
                compartment_id=root,
                compartment_id_in_subtree=True,
                access_level="ACCESSIBLE",
                lifecycle_state="ACTIVE",
            )
            return [root, *sorted(i for i in _compartment_ids(found) if i != root)]
        ordered = [root]
        queue = [root]
        while queue:
            parent = queue.pop(0)
            children = self._list_all(
                identity.list_compartments,
                "ListCompartments",
                compartment_id=parent,
                lifecycle_state="ACTIVE",
            )
            for child in sorted(_compartment_ids(children)):
                if child not in ordered:
                    ordered.append(child)
                    queue.append(child)
        return ordered

    # -- one backup ------------------------------------------------------------------------

    def _process(self, policy: Policy, backup: dict[str, Any]) -> Outcome:
        backup_id = str(backup.get("id"))
        state = backup.get("lifecycle_state")
        if state in SKIPPED_STATES:
            return Outcome("ignored", backup_id, error=f"backup is {state}")
        if self.options.available_only and state != "AVAILABLE":
            return Outcome("ignored", backup_id, error=f"backup is {state} (available only)")
        try:
            vg = None
            vg_id = backup.get("volume_group_id")
            if vg_id and needs_volume_group(policy, backup):
                vg = self.volume_groups(vg_id, backup_id, self.deadline)
        except CallFailed as failure:
            return Outcome(
                "failed",
                backup_id,
                opc_request_id=failure.opc_request_id,
                error=str(failure),
                transient=failure.transient,
            )
        except AuthError as exc:
            return Outcome("failed", backup_id, error=str(exc))
        # Checked against the tag schema (cached) so a dry run shows what would be rejected.
        result = self.engine.tag_schema.review(plan(policy, backup, vg, None), self.deadline)
        warnings, rules = list(result.warnings), list(result.matched_rules)
        if result.error:
            return Outcome("rejected", backup_id, error=result.error, warnings=warnings, matched_rules=rules)
        if not result.changed:
            return Outcome("unchanged", backup_id, warnings=warnings, matched_rules=rules)
        if self.options.dry_run:
            return Outcome("planned", backup_id, result.changes(), warnings=warnings, matched_rules=rules)
        return self.engine.sync_backup(
            backup_id, dry_run=False, deadline=self.deadline, volume_groups=self.volume_groups
        )

    def _run_item(self, policy: Policy, backup: dict[str, Any], page: _Page) -> None:
        try:
            outcome = self._process(policy, backup)
        except Exception as exc:  # a bug in one backup must not lose the others
            log.exception("sweep item failed", extra={"volume_group_backup_id": backup.get("id")})
            outcome = Outcome("failed", str(backup.get("id")), error=f"internal error: {exc!r}"[:300])
        with self._lock:
            self._outcomes.append(outcome)
            page.pending -= 1
            if outcome.status == "failed" and outcome.transient:
                page.unfinished = True
        self._report()

    # -- the sweep -------------------------------------------------------------------------

    def run(self) -> SweepResult:
        result = self._run()
        result.elapsed = time.monotonic() - self._started
        result.dry_run = self.options.dry_run
        result.calls = dict(self._calls)
        log.info(
            f"sweep {result.status}",
            extra={
                "compartment_id": self.options.compartment_id,
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
            return SweepResult("rejected", error=str(exc))
        try:
            policy = self.engine.policy()
        except PolicyError as exc:
            return SweepResult("rejected", error=f"policy {exc.origin}: " + "; ".join(exc.errors))
        try:
            compartments = self.compartments()
        except (CallFailed, AuthError) as exc:
            failure = self._listing_failure(exc, opts.compartment_id)
            status = "partial" if isinstance(exc, CallFailed) and exc.transient else "failed"
            token = encode_token(opts, start or Position(opts.compartment_id, None))
            return SweepResult(
                status,
                resume_token=token if status == "partial" else None,
                listing_failures=[failure],
                error=failure["error"],
            )
        if start is not None:
            if start.compartment_id not in compartments:
                return SweepResult(
                    "rejected",
                    error=f"resume token names compartment {start.compartment_id}, no longer in the sweep",
                )
            compartments = compartments[compartments.index(start.compartment_id) :]
        stop: Position | None = None
        listing_failures: list[dict[str, Any]] = []
        in_flight = threading.BoundedSemaphore(opts.concurrency * 2)
        futures: list[Future[None]] = []
        with ThreadPoolExecutor(opts.concurrency, thread_name_prefix="sweep") as pool:
            for index, comp in enumerate(compartments):
                page_token = start.page if (start and index == 0) else None
                for position, items, error in self._pages_of(comp, page_token):
                    if isinstance(error, _Stop):
                        stop = position
                        break
                    if error is not None:
                        listing_failures.append(self._listing_failure(error, comp))
                        if isinstance(error, CallFailed) and error.transient:
                            stop = position  # retried until the deadline: resume here
                        # A permanent failure (404, 401...) would fail the same way on resume:
                        # it is reported, and the sweep goes on with the next compartment.
                        break
                    page = _Page(position)
                    with self._lock:
                        self._pages.append(page)
                    for backup in items:
                        if not self._acquire_slot(in_flight):
                            page.unfinished = True
                            stop = position
                            break
                        with self._lock:
                            self._scanned += 1
                            page.pending += 1
                        fut = pool.submit(self._run_item, policy, backup, page)
                        fut.add_done_callback(lambda _f: in_flight.release())
                        futures.append(fut)
                    if stop is not None:
                        break
                    self._report()
                if stop is not None:
                    break
            self._listing_done = True
        for fut in futures:
            fut.result()
        self._report()
        with self._lock:
            outcomes = list(self._outcomes)
            first_unfinished = next((p.position for p in self._pages if p.unfinished), None)
        resume_at = first_unfinished or stop
        status = "partial" if resume_at is not None else "failed" if listing_failures else "swept"
        return SweepResult(
            status,
            outcomes,
            self._scanned,
            encode_token(opts, resume_at) if resume_at is not None else None,
            len(compartments),
            listing_failures,
            listing_failures[0]["error"] if listing_failures else None,
        )

    def _acquire_slot(self, sem: threading.BoundedSemaphore) -> bool:
        while not self._should_stop():
            if sem.acquire(timeout=0.05):
                return True
        return False

    def _pages_of(
        self, compartment_id: str, page_token: str | None
    ) -> Iterator[tuple[Position, list[dict[str, Any]], CallFailed | AuthError | _Stop | None]]:
        """(position, backups in range, None) per page; (position, [], error or _Stop) ends it."""
        client = None
        since = self.options.since
        while True:
            position = Position(compartment_id, page_token)
            if self._should_stop():
                yield position, [], _Stop()
                return
            try:
                client = client or self.engine.clients.blockstorage()
                resp = self.engine.call(
                    "ListVolumeGroupBackups",
                    client.list_volume_group_backups,
                    None,
                    self.deadline,
                    compartment_id=compartment_id,
                    limit=self.options.page_size,
                    page=page_token,
                    sort_by="TIMECREATED",
                    sort_order="DESC",
                )
            except CallFailed as exc:
                # The limiter refused the call for lack of time: a stop, not a failure.
                yield position, [], _Stop() if exc.code == "DeadlineExceeded" else exc
                return
            except AuthError as exc:
                yield position, [], exc
                return
            self._calls["ListVolumeGroupBackups"] += 1
            items: list[dict[str, Any]] = []
            for model in resp.data or []:
                backup = _to_dict(model)
                created = _created(backup)
                if since is not None and created is not None and created < since:
                    continue
                items.append(backup)
            yield position, items, None
            page_token = resp.next_page
            if not page_token:
                return


def run_sweep(
    engine: Engine,
    options: SweepOptions,
    deadline: Deadline,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepResult:
    """Run one sweep; never raises (a bad token or option comes back as status `rejected`)."""
    try:
        sweep = Sweep(engine, options, deadline, progress)
    except SweepError as exc:
        return SweepResult("rejected", error=str(exc))
    return sweep.run()


def sweep_for_function(
    engine: Engine, request: SweepRequest, deadline: Deadline, dry_run_config: bool
) -> dict[str, Any]:
    """The function's answer to {"sweep": {...}}: what it did, and where to resume (HTTP 200)."""
    options = SweepOptions(
        compartment_id=request.compartment_id,
        recursive=request.recursive,
        since=request.since,
        dry_run=request.dry_run or dry_run_config,
        resume_token=request.page,
    )
    return run_sweep(engine, options, deadline).to_json()
