"""What one backup's sync answers (Outcome) and how an OCI call failed for good (CallFailed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.domain.resources import Kind
from sync.domain.status import Status
from sync.policy.errors import PolicyError, PolicyTimeout

STATUSES = tuple(s.value for s in Status)
# A group backup's answer lists at most this many member failures (counts cover them all).
MAX_MEMBER_FAILURES = 20


@dataclass(frozen=True)
class Members:
    """What happened to a group backup's members: counts per status and the first failures."""

    counts: Mapping[Status, int]
    failures: tuple[Mapping[str, Any], ...] = ()
    failures_omitted: int = 0

    @classmethod
    def of(cls, outcomes: list[Outcome], max_failures: int = MAX_MEMBER_FAILURES) -> Members:
        failed = [o for o in outcomes if o.status in (Status.FAILED, Status.NOT_FOUND, Status.REJECTED)]
        shown = tuple(
            {
                "id": o.backup_id,
                "status": o.status.value,
                "error": o.error,
                "opcRequestId": o.opc_request_id,
                "transient": o.transient,
            }
            for o in failed[:max_failures]
        )
        return cls(Counter(o.status for o in outcomes), shown, max(0, len(failed) - max_failures))

    @property
    def transient(self) -> bool:
        """A member failed in a way worth retrying (the whole delivery may be retried: it is idempotent)."""
        return any(f.get("transient") for f in self.failures)

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {s.value: n for s, n in self.counts.items() if n},
            "failures": [dict(f) for f in self.failures],
            "failuresOmitted": self.failures_omitted,
        }


@dataclass(frozen=True)
class Outcome:
    """The answer for one backup, in the shape the README's "What it returns" gives."""

    status: Status
    backup_id: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    opc_request_id: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    matched_rules: tuple[str, ...] = ()
    transient: bool = False  # a failure worth retrying later (answered as 502 by the function)
    members: Members | None = None  # a group backup whose rules tag its members

    @property
    def kind(self) -> Kind | None:
        return Kind.of(self.backup_id) if self.backup_id else None

    def to_json(self) -> dict[str, Any]:
        kind = self.kind
        out: dict[str, Any] = {"status": self.status.value}
        if kind in (Kind.VOLUME_GROUP_BACKUP, None):
            out["volumeGroupBackupId"] = self.backup_id  # the answer's name before every kind
        out.update(
            {
                "backupId": self.backup_id,
                "kind": kind.value if kind else None,
                "changes": self.changes,
                "opcRequestId": self.opc_request_id,
            }
        )
        if self.members is not None:
            out["members"] = self.members.to_json()
        if self.error:
            out["error"] = self.error
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.matched_rules:
            out["matchedRules"] = list(self.matched_rules)
        return out

    @classmethod
    def of_failure(cls, backup_id: str | None, failure: CallFailed) -> Outcome:
        """A call that failed for good: not_found for a 404, else failed (transient when worth a retry)."""
        status = Status.NOT_FOUND if failure.status == 404 else Status.FAILED
        return cls(
            status,
            backup_id,
            opc_request_id=failure.opc_request_id,
            error=str(failure),
            transient=failure.transient and status is Status.FAILED,
        )

    @classmethod
    def of_policy_error(cls, backup_id: str | None, exc: PolicyError) -> Outcome:
        """A policy that does not load: rejected. One whose loading ran out of time is no verdict on
        the policy: failed and transient (the platform counts it; the next call loads it again)."""
        error = f"policy {exc.origin}: " + "; ".join(exc.errors)
        if isinstance(exc, PolicyTimeout):
            error += " (at the invocation's deadline; nothing was sent, the next call loads it again)"
            return cls(Status.FAILED, backup_id, error=error, transient=True)
        return cls(Status.REJECTED, backup_id, error=error)


class CallFailed(Exception):
    """An OCI call that failed for good (or ran out of time while it kept failing).

    connect_failed: no connection was made (refused, unreachable, connect timeout), so nothing
    reached OCI. outcome_unknown: a write was sent but no answer came (timeout, dropped
    connection): it may or may not have been applied.
    """

    def __init__(
        self,
        operation: str,
        status: int | None,
        code: str,
        message: str,
        opc_request_id: str | None,
        transient: bool,
        retry_after: float | None = None,
        *,
        connect_failed: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(f"{operation}: {status} {code}: {message}")
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.opc_request_id = opc_request_id
        self.transient = transient
        self.retry_after = retry_after
        self.connect_failed = connect_failed
        self.outcome_unknown = outcome_unknown
