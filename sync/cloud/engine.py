"""One backup, end to end: GET, read the source if a rule needs it, decide, PUT with if-match, 412 retry.

The engine does the I/O only, through the port (sync/cloud/port.py); what to do with a backup is
sync/policy/decide.py's `decide`, which the sweep calls too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from sync.cloud.calls import Limiter, Retries
from sync.cloud.clients import AuthError, Clients
from sync.cloud.eventread import read_after_event
from sync.cloud.leanport import LeanPort, operation_names, source_operation
from sync.cloud.logfields import backup_fields
from sync.cloud.members import MemberSync, read_group_backup, update_of
from sync.cloud.outcome import STATUSES, CallFailed, Outcome
from sync.cloud.port import OciPort
from sync.cloud.retry import Deadline
from sync.cloud.tagcache import TagSchemaCache
from sync.domain.resources import Backup, Kind, Source, SourceKind
from sync.domain.status import Status
from sync.policy.decide import (
    SKIPPED_STATES,
    Action,
    Decision,
    decide,
    group_backup_to_read,
    source_to_read,
)
from sync.policy.loader import Policy, PolicyError
from sync.policy.planner import Plan
from sync.requests.bodies import EventInfo

__all__ = [
    "SKIPPED_STATES",
    "STATUSES",
    "CallFailed",
    "Engine",
    "Limiter",
    "Outcome",
    "SourceLookup",
    "update_of",
]

log = logging.getLogger("sync.cloud.engine")

MAX_ETAG_RETRIES = 4

SourceLookup = Callable[[SourceKind, str, str | None, Deadline], Source | None]
"""(kind, source id, backup id, deadline) -> the source or None (404); e.g. a sweep's cache."""


def decision_outcome(decision: Decision, backup_id: str, opc_request_id: str | None = None) -> Outcome:
    """The answer for a decision that needs no write (skip, reject, unchanged, dry run)."""
    return Outcome(
        decision.status,
        backup_id,
        decision.changes() if decision.action is Action.REPORT else {},
        opc_request_id=opc_request_id,
        error=decision.reason,
        warnings=decision.warnings,
        matched_rules=decision.matched_rules,
    )


def log_source_warning(decision: Decision, backup_id: str) -> None:
    if decision.source_warning:
        kind = Kind.of(backup_id) or Kind.VOLUME_GROUP_BACKUP
        log.warning(
            decision.source_warning,
            extra={**backup_fields(backup_id), "operation": source_operation(kind.source_kind)},
        )


def not_here(backup_id: str, failure: CallFailed) -> Outcome:
    """A copy event for a backup not in this function's region (Oracle does not say which region emits it)."""
    error = (
        f"{failure}: a copy event for a backup that is not in this function's region; the copy is"
        " handled where it lives (deploy the function there, or sweep that region)"
    )
    return Outcome(Status.IGNORED, backup_id, opc_request_id=failure.opc_request_id, error=error)


# The permission each kind's update needs (Oracle's Core Services policy reference).
_UPDATE_PERMISSIONS = {
    Kind.VOLUME_GROUP_BACKUP: "VOLUME_GROUP_BACKUP_UPDATE",
    Kind.VOLUME_BACKUP: "VOLUME_BACKUP_UPDATE",
    Kind.BOOT_VOLUME_BACKUP: "BOOT_VOLUME_BACKUP_UPDATE",
}


class _Retry(Exception):
    """Someone else wrote between our GET and PUT (412): read again and re-plan."""


class Engine:
    """Shared by every invocation in a container (and by sweep threads): holds no per-call state.

    port: every OCI call; tag_schema: the container's tag schema cache (passed in, one per port).
    """

    def __init__(self, port: OciPort, policy: Callable[[], Policy], tag_schema: TagSchemaCache) -> None:
        self.port = port
        self.policy = policy
        self.tag_schema = tag_schema

    @classmethod
    def on(cls, clients: Clients, policy: Callable[[], Policy], retries: Retries | None = None) -> Engine:
        """An engine on the lean clients, with its own tag schema cache."""
        port = LeanPort(clients, retries)
        return cls(port, policy, TagSchemaCache(port))

    def review(self, deadline: Deadline) -> Callable[[Plan], Plan]:
        """The decision's tag schema check, bounded by `deadline`."""
        return lambda result: self.tag_schema.review(result, deadline)

    def sync_backup(
        self,
        backup_id: str,
        *,
        dry_run: bool,
        deadline: Deadline,
        event: EventInfo | None = None,
        sources: SourceLookup | None = None,
        limiter: Limiter | None = None,
        members: bool = True,
        available_only: bool = True,
    ) -> Outcome:
        """Bring one backup in line with the policy. Never raises.

        sources, when given, replaces the source GET (a sweep shares one cache); limiter: the
        sweep's pacing. members: for a group backup whose rules say `members: tags`, bring each
        member backup in line too (sync/cloud/members.py). available_only=False (a sweep's
        `availableOnly: false`) tries a backup that is not AVAILABLE instead of deferring it.
        """
        from sync.cloud.lean import bounded

        kind = Kind.of(backup_id)
        if kind is None:
            # An id that is not a backup's OCID never becomes a path.
            error = (
                f"{str(backup_id)[:80]!r} is not the OCID of a volume group, volume or boot volume backup;"
                " nothing was sent"
            )
            return Outcome(Status.REJECTED, str(backup_id)[:255], error=error)
        try:
            with bounded(deadline.remaining):  # a policy fetched from Object Storage counts too
                policy = self.policy()
        except PolicyError as exc:
            return Outcome.of_policy_error(backup_id, exc)
        lookup = sources or (lambda k, i, b, d: self.port.get_source(k, i, b, d, limiter))
        try:
            for round_ in range(MAX_ETAG_RETRIES + 1):
                get = partial(self.port.get_backup, kind, backup_id, deadline, limiter)
                try:
                    # Right after a create event a GET may miss the backup: read again with backoff.
                    # A copy's 404 means it is in another region: answered at once.
                    fresh = event is not None and not event.copy and not round_
                    read = read_after_event(get, deadline) if fresh else get()
                except CallFailed as failure:
                    if failure.status == 404 and event is not None and event.copy:
                        return not_here(backup_id, failure)
                    raise
                try:
                    return self._act(
                        policy, read.value, read.etag, read.request_id, dry_run, deadline, event, lookup,
                        limiter, round_, members, available_only,
                    )  # fmt: skip
                except _Retry:
                    continue
            raise AssertionError("unreachable")  # pragma: no cover
        except CallFailed as failure:
            return Outcome.of_failure(backup_id, failure)
        except AuthError as exc:
            log.error("authentication failed", extra={"error": str(exc)})
            return Outcome(Status.FAILED, backup_id, error=str(exc))

    def _act(
        self,
        policy: Policy,
        backup: Backup,
        etag: str | None,
        request_id: str | None,
        dry_run: bool,
        deadline: Deadline,
        event: EventInfo | None,
        sources: SourceLookup,
        limiter: Limiter | None,
        round_: int,
        members: bool,
        available_only: bool,
    ) -> Outcome:
        """Decide on the backup just read, and write when the decision says so (only when AVAILABLE)."""
        wanted = source_to_read(policy, backup, available_only)
        source = sources(wanted[0], wanted[1], backup.id, deadline) if wanted else None
        group_id = group_backup_to_read(policy, backup)
        group = read_group_backup(self.port, group_id, deadline, limiter) if group_id else None
        event_view = event.as_context() if event else None
        decision = decide(
            policy,
            backup,
            source,
            event_view,
            review=self.review(deadline),
            dry_run=dry_run,
            available_only=available_only,
            group_backup=group,
        )
        log_source_warning(decision, backup.id)
        if decision.action is not Action.WRITE or decision.plan is None:
            if decision.action is Action.REPORT:
                log.info(
                    "planned (dry run)", extra={**backup_fields(backup.id), "changes": decision.changes()}
                )
            outcome = decision_outcome(decision, backup.id, request_id)
        elif not etag:
            # Without an etag the write could undo someone else's change: refuse it.
            error = f"{operation_names(backup.kind)[0]} returned no etag; refusing an unguarded update"
            return _with(decision, Status.FAILED, backup.id, opc_request_id=request_id, error=error)
        else:
            outcome = self._write(backup, decision, decision.plan, etag, deadline, limiter, round_)
        return self._members(backup, decision, outcome, dry_run, deadline, limiter) if members else outcome

    def _members(
        self,
        group: Backup,
        decision: Decision,
        outcome: Outcome,
        dry_run: bool,
        deadline: Deadline,
        limiter: Limiter | None,
    ) -> Outcome:
        """The outcome with the members' when the group's rules tag members and the group went well."""
        result = decision.plan
        fine = (Status.UPDATED, Status.UNCHANGED, Status.PLANNED)
        if (
            group.kind is not Kind.VOLUME_GROUP_BACKUP  # a rule for every kind says members: tags
            or result is None
            or result.member_tags is None
            or outcome.status not in fine
        ):
            return outcome
        sync = MemberSync(
            self.port, result, self.review(deadline), deadline, dry_run, limiter, MAX_ETAG_RETRIES
        )
        members = sync.run(group)
        return replace(outcome, members=members, transient=outcome.transient or members.transient)

    def _write(
        self,
        backup: Backup,
        decision: Decision,
        result: Plan,
        etag: str,
        deadline: Deadline,
        limiter: Limiter | None,
        round_: int,
    ) -> Outcome:
        try:
            put = self.port.update_backup(backup.kind, backup.id, update_of(result), etag, deadline, limiter)
        except CallFailed as failure:
            if failure.status == 412 and round_ < MAX_ETAG_RETRIES and not deadline.expired():
                raise _Retry() from None
            if failure.status == 412:
                failure.transient = True
            if failure.status == 404:
                # The GET just found it, so this is far more likely a missing permission
                # than a deletion: say so rather than answer `not_found`.
                permission = _UPDATE_PERMISSIONS[backup.kind]
                error = (
                    f"{failure}: the backup was readable a moment ago, so the function"
                    f" most likely lacks {permission} on it (or it was just deleted)"
                )
                return _with(
                    decision, Status.FAILED, backup.id, opc_request_id=failure.opc_request_id, error=error
                )
            if failure.outcome_unknown:
                return self._unknown(backup.id, decision, result, failure)
            raise
        log.info(
            "updated",
            extra={
                "operation": operation_names(backup.kind)[1],
                **backup_fields(backup.id),
                "opc_request_id": put.request_id,
                "changes": result.changes(),
            },
        )
        return _with(decision, Status.UPDATED, backup.id, result.changes(), opc_request_id=put.request_id)

    def _unknown(self, backup_id: str, decision: Decision, result: Plan, failure: CallFailed) -> Outcome:
        """The PUT was sent and no answer came: it may have landed. Transient: the next try re-reads."""
        operation = operation_names(Kind.of(backup_id) or Kind.VOLUME_GROUP_BACKUP)[1]
        log.error(
            f"{operation} outcome unknown",
            extra={
                "operation": operation,
                **backup_fields(backup_id),
                "outcome": "unknown",
                "changes": result.changes(),
                "error": failure.message,
            },
        )
        error = (
            f"{failure}; the update may or may not have been applied (the next delivery re-reads the backup)"
        )
        return _with(decision, Status.FAILED, backup_id, error=error, transient=True)


def _with(
    decision: Decision, status: Status, backup_id: str, changes: dict[str, Any] | None = None, **kw: Any
) -> Outcome:
    """An Outcome carrying the decision's warnings and matched rules."""
    return Outcome(
        status,
        backup_id,
        changes or {},
        warnings=decision.warnings,
        matched_rules=decision.matched_rules,
        **kw,
    )
