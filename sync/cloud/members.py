"""A group backup's members: each member backup in `volumeBackupIds` gets the tags `members: tags` computed.

Each member costs its own GET (state and etag) and, only when it lacks a tag, one PUT guarded by
that etag: `plan_member` merges (nothing removed, a compliant member sends nothing). A member
that is not AVAILABLE is deferred (its PUT would be refused), a 412 re-reads that member, and
an id that is not a volume or boot volume backup OCID is a failure entry with no call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sync.cloud.calls import Limiter
from sync.cloud.clients import AuthError
from sync.cloud.leanport import operation_names
from sync.cloud.logfields import backup_fields
from sync.cloud.outcome import CallFailed, Members, Outcome
from sync.cloud.port import OciPort, TagUpdate
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind
from sync.domain.status import Status
from sync.policy.decide import defer_reason, skip_reason
from sync.policy.planner import Plan, plan_member

log = logging.getLogger("sync.cloud.members")

MEMBER_KINDS = frozenset({Kind.VOLUME_BACKUP, Kind.BOOT_VOLUME_BACKUP})
# OCI returns the list; a list this long is not a volume group's (each member is a call).
MAX_MEMBERS = 256


def update_of(result: Plan) -> TagUpdate:
    """The update a plan sends: only the fields that change, whole maps (the API replaces them)."""
    body = result.update_body()
    return TagUpdate(body.get("displayName"), body.get("freeformTags"), body.get("definedTags"))


def read_group_backup(
    port: OciPort, group_id: str, deadline: Deadline, limiter: Limiter | None = None
) -> Backup | None:
    """The group backup a member names (for `group_backup.*`), or None when it is gone (404)."""
    try:
        return port.get_backup(Kind.VOLUME_GROUP_BACKUP, group_id, deadline, limiter).value
    except CallFailed as failure:
        if failure.status == 404:
            return None
        raise


@dataclass(frozen=True)
class MemberSync:
    """Brings each member of one group backup in line with the group's plan (`members: tags` rules)."""

    port: OciPort
    group_plan: Plan
    review: Callable[[Plan], Plan]
    deadline: Deadline
    dry_run: bool
    limiter: Limiter | None = None
    max_etag_retries: int = 4

    def run(self, group: Backup) -> Members:
        ids = group.fields.get("volume_backup_ids")
        listed: Sequence[object] = ids if isinstance(ids, list) else []
        outcomes = [self.one(member_id, group.id) for member_id in listed[:MAX_MEMBERS]]
        if len(listed) > MAX_MEMBERS:
            error = f"{len(listed)} members listed; only the first {MAX_MEMBERS} are handled"
            outcomes.append(Outcome(Status.FAILED, group.id, error=error))
        members = Members.of(outcomes)
        log.info(
            "members",
            extra={**backup_fields(group.id), "members": members.to_json()},
        )
        return members

    def one(self, member_id: object, group_id: str) -> Outcome:
        """One member's outcome. Never raises."""
        shown = str(member_id)[:255]
        kind = Kind.of(member_id) if isinstance(member_id, str) else None
        if kind not in MEMBER_KINDS or not isinstance(member_id, str) or kind is None:
            # Routed by OCID prefix: any other id never becomes a path.
            error = f"member {shown[:80]!r} is not a volume or boot volume backup OCID; nothing was sent"
            return Outcome(Status.FAILED, shown, error=error)
        try:
            for round_ in range(self.max_etag_retries + 1):
                read = self.port.get_backup(kind, member_id, self.deadline, self.limiter)
                outcome = self._act(read.value, read.etag, read.request_id, group_id, round_)
                if outcome is not None:
                    return outcome
            raise AssertionError("unreachable")  # pragma: no cover
        except CallFailed as failure:
            return Outcome.of_failure(member_id, failure)
        except AuthError as exc:
            return Outcome(Status.FAILED, member_id, error=str(exc))

    def _act(
        self, member: Backup, etag: str | None, request_id: str | None, group_id: str, round_: int
    ) -> Outcome | None:
        """The member's outcome, or None to read it again (someone wrote between our GET and PUT)."""
        reason = skip_reason(member) or defer_reason(member)
        if reason:
            status = Status.IGNORED if skip_reason(member) else Status.DEFERRED
            return Outcome(status, member.id, opc_request_id=request_id, error=reason)
        if member.fields.get("volume_group_backup_id") not in (None, group_id):
            error = f"member names another group backup ({str(member.fields['volume_group_backup_id'])[:80]})"
            return Outcome(Status.REJECTED, member.id, opc_request_id=request_id, error=error)
        result = self.review(plan_member(member.fields, self.group_plan))
        if result.error:
            return Outcome(Status.REJECTED, member.id, opc_request_id=request_id, error=result.error)
        if not result.changed:
            return Outcome(Status.UNCHANGED, member.id, opc_request_id=request_id, warnings=result.warnings)
        if self.dry_run:
            return Outcome(Status.PLANNED, member.id, result.changes(), request_id, warnings=result.warnings)
        if not etag:
            error = "the member's GET returned no etag; refusing an unguarded update"
            return Outcome(Status.FAILED, member.id, opc_request_id=request_id, error=error)
        try:
            put = self.port.update_backup(
                member.kind, member.id, update_of(result), etag, self.deadline, self.limiter
            )
        except CallFailed as failure:
            if failure.status == 412 and round_ < self.max_etag_retries and not self.deadline.expired():
                return None
            if failure.outcome_unknown:
                error = (
                    f"{failure}; the update may or may not have been applied (the next delivery re-reads it)"
                )
                return Outcome(Status.FAILED, member.id, error=error, transient=True)
            raise
        log.info(
            "updated",
            extra={
                **backup_fields(member.id),
                "group_backup_id": group_id,
                "operation": operation_names(member.kind)[1],
                "opc_request_id": put.request_id,
                "changes": result.changes(),
            },
        )
        return Outcome(Status.UPDATED, member.id, result.changes(), put.request_id, warnings=result.warnings)
