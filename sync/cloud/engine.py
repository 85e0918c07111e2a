"""One backup, end to end: GET, plan, GET the volume group if needed, PUT with if-match, retry."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.cloud.clients import AuthError, Clients
from sync.cloud.retry import Deadline, backoff_delay, parse_retry_after
from sync.cloud.tagcache import cache_for
from sync.policy.loader import Policy, PolicyError
from sync.policy.planner import Plan, needs_volume_group, plan
from sync.requests.bodies import EventInfo

log = logging.getLogger("sync.cloud.engine")

MAX_ETAG_RETRIES = 4
SKIPPED_STATES = frozenset({"TERMINATING", "TERMINATED", "FAULTY"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_409_CODES = frozenset({"IncorrectState", "Conflict"})

STATUSES = ("updated", "unchanged", "planned", "ignored", "not_found", "rejected", "failed")


@dataclass
class Outcome:
    """The answer for one backup, in the shape PRODUCT.md gives."""

    status: str
    backup_id: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    opc_request_id: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    transient: bool = False  # a failure worth retrying later (answered as 502 by the function)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "volumeGroupBackupId": self.backup_id,
            "changes": self.changes,
            "opcRequestId": self.opc_request_id,
        }
        if self.error:
            out["error"] = self.error
        if self.warnings:
            out["warnings"] = self.warnings
        if self.matched_rules:
            out["matchedRules"] = self.matched_rules
        return out


class CallFailed(Exception):
    """An OCI call that failed for good (or ran out of time while it kept failing)."""

    def __init__(
        self,
        operation: str,
        status: int | None,
        code: str,
        message: str,
        opc_request_id: str | None,
        transient: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{operation}: {status} {code}: {message}")
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.opc_request_id = opc_request_id
        self.transient = transient
        self.retry_after = retry_after


VolumeGroupLookup = Callable[[str, str | None, Deadline], dict[str, Any] | None]
"""(volume_group_id, backup_id, deadline) -> the volume group (snake_case) or None; e.g. a sweep's cache."""


class Limiter(Protocol):
    """Shared pacing for many concurrent calls (the sweep); the single-event path has none."""

    def acquire(self, deadline: Deadline) -> bool: ...

    def throttled(self, retry_after: float | None) -> None: ...


def _failure_from(operation: str, exc: BaseException) -> CallFailed:
    from oci.exceptions import ServiceError

    if isinstance(exc, ServiceError):
        headers = exc.headers or {}
        status = int(exc.status) if exc.status is not None else None
        code = str(exc.code or "")
        transient = status in TRANSIENT_STATUSES or (status == 409 and code in TRANSIENT_409_CODES)
        return CallFailed(
            operation,
            status,
            code,
            str(exc.message or "")[:500],
            exc.request_id,
            transient,
            parse_retry_after(headers.get("retry-after") or headers.get("Retry-After")),
        )
    # Connection errors and timeouts (requests/urllib3 underneath the SDK): no response, no
    # request id, safe to retry because our only write is guarded by if-match.
    return CallFailed(operation, None, type(exc).__name__, str(exc)[:300], None, transient=True)


class Engine:
    """Shared by every invocation in a container (and by sweep threads): holds no per-call state."""

    def __init__(
        self,
        clients: Clients,
        policy: Callable[[], Policy],
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.clients = clients
        self.policy = policy
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self.limiter = limiter
        self.tag_schema = cache_for(clients)  # shared by every engine on these clients

    # -- calls ---------------------------------------------------------------------------

    def call(
        self,
        operation: str,
        fn: Callable[..., Any],
        backup_id: str | None,
        deadline: Deadline,
        **kwargs: Any,
    ) -> Any:
        """Run one SDK call, retrying transient failures with backoff inside the deadline."""
        attempt = 0
        while True:
            if self.limiter is not None and not self.limiter.acquire(deadline):
                raise CallFailed(operation, None, "DeadlineExceeded", "no time left for the call", None, True)
            try:
                return fn(**kwargs)
            except Exception as exc:
                failure = _failure_from(operation, exc)
            if failure.status == 429 and self.limiter is not None:
                self.limiter.throttled(failure.retry_after)
            with self._rng_lock:
                delay = backoff_delay(attempt, failure.retry_after, self.rng)
            will_retry = failure.transient and delay < deadline.remaining()
            self._log_failure(failure, backup_id, attempt, will_retry)
            if not will_retry:
                raise failure
            self.sleep(delay)
            attempt += 1

    def _log_failure(
        self, failure: CallFailed, backup_id: str | None, attempt: int, will_retry: bool
    ) -> None:
        # The line's "message" is OCI's own message, as PRODUCT.md's log contract says.
        log.error(
            failure.message or f"{failure.operation} failed",
            extra={
                "operation": failure.operation,
                "status": failure.status,
                "code": failure.code,
                "opc_request_id": failure.opc_request_id,
                "volume_group_backup_id": backup_id,
                "attempt": attempt + 1,
                "will_retry": will_retry,
            },
        )

    # -- one backup ----------------------------------------------------------------------

    def sync_backup(
        self,
        backup_id: str,
        *,
        dry_run: bool,
        deadline: Deadline,
        event: EventInfo | None = None,
        volume_groups: VolumeGroupLookup | None = None,
    ) -> Outcome:
        """Bring one backup in line with the policy. Never raises.

        volume_groups, when given, replaces GetVolumeGroup (a sweep shares one cache).
        """
        try:
            policy = self.policy()
        except PolicyError as exc:
            return Outcome("rejected", backup_id, error=f"policy {exc.origin}: " + "; ".join(exc.errors))
        try:
            return self._sync(policy, backup_id, dry_run, deadline, event, volume_groups)
        except CallFailed as failure:
            status = "not_found" if failure.status == 404 else "failed"
            return Outcome(
                status,
                backup_id,
                opc_request_id=failure.opc_request_id,
                error=str(failure),
                transient=failure.transient and status == "failed",
            )
        except AuthError as exc:
            log.error("authentication failed", extra={"error": str(exc)})
            return Outcome("failed", backup_id, error=str(exc))

    def _sync(
        self,
        policy: Policy,
        backup_id: str,
        dry_run: bool,
        deadline: Deadline,
        event: EventInfo | None,
        volume_groups: VolumeGroupLookup | None = None,
    ) -> Outcome:
        client = self.clients.blockstorage()
        event_ctx = event.as_context() if event else None
        for round_ in range(MAX_ETAG_RETRIES + 1):
            got = self.call(
                "GetVolumeGroupBackup",
                client.get_volume_group_backup,
                backup_id,
                deadline,
                volume_group_backup_id=backup_id,
            )
            backup = _to_dict(got.data)
            state = backup.get("lifecycle_state")
            if state in SKIPPED_STATES:
                return Outcome(
                    "ignored", backup_id, opc_request_id=got.request_id, error=f"backup is {state}"
                )
            result = self._plan(policy, backup, deadline, event_ctx, volume_groups)
            base = _Extras(list(result.warnings), list(result.matched_rules))
            if result.error:
                return Outcome(
                    "rejected",
                    backup_id,
                    opc_request_id=got.request_id,
                    error=result.error,
                    warnings=base.warnings,
                    matched_rules=base.matched_rules,
                )
            if not result.changed:
                return Outcome(
                    "unchanged",
                    backup_id,
                    opc_request_id=got.request_id,
                    warnings=base.warnings,
                    matched_rules=base.matched_rules,
                )
            if dry_run:
                log.info(
                    "planned (dry run)",
                    extra={"volume_group_backup_id": backup_id, "changes": result.changes()},
                )
                return Outcome(
                    "planned",
                    backup_id,
                    result.changes(),
                    opc_request_id=got.request_id,
                    warnings=base.warnings,
                    matched_rules=base.matched_rules,
                )
            etag = got.headers.get("etag")
            if not etag:
                # Without an etag the write could undo someone else's change: refuse it.
                return Outcome(
                    "failed",
                    backup_id,
                    opc_request_id=got.request_id,
                    error="GetVolumeGroupBackup returned no etag; refusing an unguarded update",
                    warnings=base.warnings,
                    matched_rules=base.matched_rules,
                )
            try:
                put = self._put(client, backup_id, result, etag, deadline)
            except CallFailed as failure:
                if failure.status == 412 and round_ < MAX_ETAG_RETRIES and not deadline.expired():
                    continue  # someone else wrote in between: read again and re-plan
                if failure.status == 412:
                    failure.transient = True
                if failure.status == 404:
                    # The GET just found it, so this is far more likely a missing permission
                    # than a deletion: say so rather than answer `not_found`.
                    return Outcome(
                        "failed",
                        backup_id,
                        opc_request_id=failure.opc_request_id,
                        error=f"{failure}: the backup was readable a moment ago, so the function"
                        " most likely lacks VOLUME_GROUP_BACKUP_UPDATE on it (or it was just deleted)",
                        warnings=base.warnings,
                        matched_rules=base.matched_rules,
                    )
                raise
            log.info(
                "updated",
                extra={
                    "operation": "UpdateVolumeGroupBackup",
                    "volume_group_backup_id": backup_id,
                    "opc_request_id": put.request_id,
                    "changes": result.changes(),
                },
            )
            return Outcome(
                "updated",
                backup_id,
                result.changes(),
                put.request_id,
                warnings=base.warnings,
                matched_rules=base.matched_rules,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _plan(
        self,
        policy: Policy,
        backup: dict[str, Any],
        deadline: Deadline,
        event_ctx: dict[str, Any] | None,
        volume_groups: VolumeGroupLookup | None = None,
    ) -> Plan:
        volume_group = None
        vg_id = backup.get("volume_group_id")
        if vg_id and needs_volume_group(policy, backup):
            lookup = volume_groups or self.get_volume_group
            volume_group = lookup(vg_id, backup.get("id"), deadline)
        return self.tag_schema.review(plan(policy, backup, volume_group, event_ctx), deadline)

    def get_volume_group(
        self, vg_id: str, backup_id: str | None, deadline: Deadline
    ) -> dict[str, Any] | None:
        client = self.clients.blockstorage()
        try:
            got = self.call(
                "GetVolumeGroup", client.get_volume_group, backup_id, deadline, volume_group_id=vg_id
            )
        except CallFailed as failure:
            if failure.status == 404:
                # The volume group may be gone while its backups live on: plan without it.
                return None
            raise
        return _to_dict(got.data)

    def _put(self, client: Any, backup_id: str, result: Plan, etag: str, deadline: Deadline) -> Any:
        from oci.core.models import UpdateVolumeGroupBackupDetails

        body = result.update_body()
        details = UpdateVolumeGroupBackupDetails(
            display_name=body.get("displayName"),
            freeform_tags=body.get("freeformTags"),
            defined_tags=body.get("definedTags"),
        )
        return self.call(
            "UpdateVolumeGroupBackup",
            client.update_volume_group_backup,
            backup_id,
            deadline,
            volume_group_backup_id=backup_id,
            update_volume_group_backup_details=details,
            if_match=etag,
        )


@dataclass(frozen=True)
class _Extras:
    warnings: list[str]
    matched_rules: list[str]


def _to_dict(model: Any) -> dict[str, Any]:
    from oci.util import to_dict

    data = to_dict(model)
    return data if isinstance(data, dict) else {}
