"""What a sweep did, in bounded memory: counts, the first N failures, progress snapshots, the answer."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.cloud.logfields import backup_fields
from sync.cloud.outcome import Outcome
from sync.domain.resources import Kind
from sync.domain.status import Status, SweepStatus
from sync.sweep.options import DEFAULT_MAX_FAILURES

log = logging.getLogger("sync.sweep.results")

# Per-backup log line levels: a backup already compliant (or skipped) is routine.
_QUIET = frozenset({Status.UNCHANGED, Status.IGNORED})


@dataclass
class SweepProgress:
    """Passed to the progress callback after each page and each finished backup."""

    scanned: int
    done: int
    counts: dict[str, int]
    pages: int
    elapsed: float
    listing_done: bool


def _kind(o: Outcome) -> Kind | None:
    return Kind.of(o.backup_id) if o.backup_id else None


def _kind_of(backup_id: object) -> str | None:
    kind = Kind.of(backup_id) if isinstance(backup_id, str) else None
    return kind.value if kind else None


def failure_json(o: Outcome) -> dict[str, Any]:
    kind = _kind(o)
    return {
        "id": o.backup_id,
        "kind": kind.value if kind else None,
        "status": o.status.value,
        "error": o.error,
        "opcRequestId": o.opc_request_id,
        "transient": o.transient,
    }


def log_outcome(o: Outcome, region: str | None) -> None:
    """One line per backup: the per-backup detail the answer leaves out.

    `updated` is already logged by the engine (with its opc_request_id and changes).
    """
    if o.status is Status.UPDATED:
        return
    extra = backup_fields(o.backup_id)
    extra["status"] = o.status.value
    if o.changes:
        extra["changes"] = o.changes
    if o.opc_request_id:
        extra["opc_request_id"] = o.opc_request_id
    if o.error:
        extra["error"] = o.error
    if region:
        extra["region"] = region
    level = (
        logging.DEBUG if o.status in _QUIET else logging.ERROR if o.status is Status.FAILED else logging.INFO
    )
    log.log(level, f"swept {o.status}", extra=extra)


class Tally:
    """Counts per status and per kind, the first `max_failures` failures, how many were left out."""

    def __init__(self, max_failures: int = DEFAULT_MAX_FAILURES) -> None:
        self.max_failures = max_failures
        self._lock = threading.Lock()
        self.counts: Counter[Status] = Counter()
        self.by_kind: Counter[tuple[str, Status]] = Counter()
        self.members: Counter[Status] = Counter()  # members reached through their group (members: tags)
        self.failures: list[dict[str, Any]] = []
        self.omitted = 0
        self.permanent = 0
        self.transient_in_a_row = 0

    @property
    def done(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def add(self, o: Outcome) -> None:
        kind = _kind(o)
        with self._lock:
            self.counts[o.status] += 1
            self.by_kind[(kind.value if kind else "unknown", o.status)] += 1
            if o.status is Status.FAILED and o.transient:
                self.transient_in_a_row += 1
            else:
                self.transient_in_a_row = 0
        if o.status is Status.FAILED:
            self.add_failure(failure_json(o))
        if o.members is not None:
            with self._lock:
                self.members.update(o.members.counts)
            for item in o.members.failures:
                self.add_failure({**item, "kind": _kind_of(item.get("id")), "groupBackupId": o.backup_id})
            with self._lock:
                self.omitted += o.members.failures_omitted

    def add_failure(self, item: dict[str, Any]) -> None:
        with self._lock:
            if not item.get("transient"):
                self.permanent += 1
            if len(self.failures) < self.max_failures:
                self.failures.append(item)
            else:
                self.omitted += 1

    def snapshot_counts(self) -> dict[str, int]:
        with self._lock:
            return {status.value: n for status, n in self.counts.items()}

    def member_counts(self) -> dict[str, int]:
        with self._lock:
            return {status.value: n for status, n in sorted(self.members.items()) if n}

    def counts_by_kind(self) -> dict[str, dict[str, int]]:
        """kind -> status -> count (kinds in sweep order, statuses sorted)."""
        with self._lock:
            items = sorted(self.by_kind.items(), key=lambda kv: (_KIND_ORDER.get(kv[0][0], 9), kv[0][1]))
        out: dict[str, dict[str, int]] = {}
        for (kind, status), n in items:
            out.setdefault(kind, {})[status.value] = n
        return out


_KIND_ORDER = {k.value: i for i, k in enumerate(Kind)}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z") if when else None


@dataclass
class SweepResult:
    """What a sweep did; status: swept (all done), partial (resume_token set), failed, rejected.

    Memory does not depend on the number of backups: counts and at most tally.max_failures
    failures. `listing_failures` given here are added to the tally.
    """

    status: SweepStatus
    tally: Tally = field(default_factory=Tally)
    scanned: int = 0
    resume_token: str | None = None
    compartments: int = 0
    listing_failures: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    dry_run: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    region: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    kinds: tuple[Kind, ...] = ()

    def __post_init__(self) -> None:
        for item in self.listing_failures:
            self.tally.add_failure(item)
        self.listing_failures = []

    def counts(self) -> dict[str, int]:
        return self.tally.snapshot_counts()

    def counts_by_kind(self) -> dict[str, dict[str, int]]:
        return self.tally.counts_by_kind()

    def failures(self) -> list[dict[str, Any]]:
        """At most tally.max_failures failures (backups and listings), first come first listed."""
        return list(self.tally.failures)

    @property
    def failures_omitted(self) -> int:
        return self.tally.omitted

    @property
    def permanent_failures(self) -> int:
        return self.tally.permanent

    def finish(self, elapsed: float, dry_run: bool, calls: dict[str, int]) -> None:
        self.elapsed = elapsed
        self.dry_run = dry_run
        self.calls = calls
        self.finished_at = datetime.now(UTC)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value}
        if self.region:
            out["region"] = self.region
        out.update(
            {
                "counts": self.counts(),
                "countsByKind": self.counts_by_kind(),
                "members": self.tally.member_counts(),
                "kinds": [k.value for k in self.kinds],
                "failures": self.failures(),
                "failuresOmitted": self.failures_omitted,
                "resumeToken": self.resume_token,
                "scanned": self.scanned,
                "compartments": self.compartments,
                "dryRun": self.dry_run,
                "calls": dict(sorted(self.calls.items())),
                "startedAt": _iso(self.started_at),
                "finishedAt": _iso(self.finished_at),
                "elapsedSeconds": round(self.elapsed, 3),
            }
        )
        if self.error:
            out["error"] = self.error
        return out


def result_from_json(body: dict[str, Any], permanent: int) -> SweepResult:
    """A SweepResult rebuilt from its answer (a region swept in another process); `permanent` failures."""
    tally = Tally(max(len(body.get("failures") or []), 0))
    for kind, counts in (body.get("countsByKind") or {}).items():
        for status, n in counts.items():
            tally.counts[Status(status)] += n
            tally.by_kind[(kind, Status(status))] += n
    for status, n in (body.get("members") or {}).items():
        tally.members[Status(status)] += n
    tally.failures = list(body.get("failures") or [])
    tally.omitted = int(body.get("failuresOmitted") or 0)
    tally.permanent = permanent
    result = SweepResult(
        SweepStatus(body["status"]),
        tally,
        int(body.get("scanned") or 0),
        body.get("resumeToken"),
        int(body.get("compartments") or 0),
        error=body.get("error"),
        elapsed=float(body.get("elapsedSeconds") or 0.0),
        dry_run=bool(body.get("dryRun")),
        calls=dict(body.get("calls") or {}),
        region=body.get("region"),
        kinds=tuple(Kind(k) for k in body.get("kinds") or ()),
    )
    for name, attr in (("startedAt", "started_at"), ("finishedAt", "finished_at")):
        if body.get(name):
            setattr(result, attr, datetime.fromisoformat(body[name].replace("Z", "+00:00")))
    return result
