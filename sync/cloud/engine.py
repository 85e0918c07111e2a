"""One backup, end to end: GET, plan, GET the volume group if needed, PUT with if-match, retry."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sync.cloud.calls import Calls, Limiter
from sync.cloud.clients import AuthError, Clients
from sync.cloud.outcome import STATUSES, CallFailed, Outcome
from sync.cloud.retry import Deadline
from sync.cloud.tagcache import cache_for
from sync.policy.loader import Policy, PolicyError
from sync.policy.planner import Plan, needs_volume_group, plan
from sync.requests.bodies import EventInfo, ocid_kind

__all__ = ["SKIPPED_STATES", "STATUSES", "CallFailed", "Engine", "Limiter", "Outcome", "VolumeGroupLookup"]

log = logging.getLogger("sync.cloud.engine")

MAX_ETAG_RETRIES = 4
SKIPPED_STATES = frozenset({"TERMINATING", "TERMINATED", "FAULTY"})

VolumeGroupLookup = Callable[[str, str | None, Deadline], dict[str, Any] | None]
"""(volume_group_id, backup_id, deadline) -> the volume group (snake_case) or None; e.g. a sweep's cache."""


@dataclass(frozen=True)
class _Extras:
    warnings: list[str]
    matched_rules: list[str]

    def outcome(
        self, status: str, backup_id: str, changes: dict[str, Any] | None = None, **kw: Any
    ) -> Outcome:
        """An Outcome carrying the plan's warnings and matched rules."""
        return Outcome(
            status, backup_id, changes or {}, warnings=self.warnings, matched_rules=self.matched_rules, **kw
        )


class _Retry(Exception):
    """Someone else wrote between our GET and PUT (412): read again and re-plan."""


class Engine(Calls):
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
        super().__init__(sleep=sleep, rng=rng, limiter=limiter)
        self.clients = clients
        self.policy = policy
        self.tag_schema = cache_for(clients)  # shared by every engine on these clients

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
        from sync.cloud.lean import bounded

        if ocid_kind(backup_id) != "volumegroupbackup":
            # Ids from list pages come from OCI: one that is not a backup's OCID never becomes a path.
            error = f"{str(backup_id)[:80]!r} is not a volume group backup OCID; nothing was sent"
            return Outcome("failed", str(backup_id)[:255], error=error)
        try:
            with bounded(deadline.remaining):  # a policy fetched from Object Storage counts too
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
        event_ctx = event.as_context() if event else None
        for round_ in range(MAX_ETAG_RETRIES + 1):
            got = self.call(
                "GetVolumeGroupBackup",
                self.clients.blockstorage().get_volume_group_backup,
                backup_id,
                deadline,
                volume_group_backup_id=backup_id,
            )
            try:
                return self._decide(
                    policy, backup_id, got, dry_run, deadline, event_ctx, volume_groups, round_
                )
            except _Retry:
                continue
        raise AssertionError("unreachable")  # pragma: no cover

    def _decide(
        self,
        policy: Policy,
        backup_id: str,
        got: Any,
        dry_run: bool,
        deadline: Deadline,
        event_ctx: dict[str, Any] | None,
        volume_groups: VolumeGroupLookup | None,
        round_: int,
    ) -> Outcome:
        """What to answer for the backup just read: skip, reject, report, or write."""
        backup = _to_dict(got.data)
        state = backup.get("lifecycle_state")
        if state in SKIPPED_STATES:
            return Outcome("ignored", backup_id, opc_request_id=got.request_id, error=f"backup is {state}")
        result = self._plan(policy, backup, deadline, event_ctx, volume_groups)
        base = _Extras(list(result.warnings), list(result.matched_rules))
        if result.error:
            return base.outcome("rejected", backup_id, opc_request_id=got.request_id, error=result.error)
        if not result.changed:
            return base.outcome("unchanged", backup_id, opc_request_id=got.request_id)
        if dry_run:
            log.info(
                "planned (dry run)", extra={"volume_group_backup_id": backup_id, "changes": result.changes()}
            )
            return base.outcome("planned", backup_id, result.changes(), opc_request_id=got.request_id)
        etag = got.headers.get("etag")
        if not etag:
            # Without an etag the write could undo someone else's change: refuse it.
            error = "GetVolumeGroupBackup returned no etag; refusing an unguarded update"
            return base.outcome("failed", backup_id, opc_request_id=got.request_id, error=error)
        return self._write(backup_id, result, etag, deadline, round_, base)

    def _write(
        self, backup_id: str, result: Plan, etag: str, deadline: Deadline, round_: int, base: _Extras
    ) -> Outcome:
        try:
            put = self._put(backup_id, result, etag, deadline)
        except CallFailed as failure:
            if failure.status == 412 and round_ < MAX_ETAG_RETRIES and not deadline.expired():
                raise _Retry() from None
            if failure.status == 412:
                failure.transient = True
            if failure.status == 404:
                # The GET just found it, so this is far more likely a missing permission
                # than a deletion: say so rather than answer `not_found`.
                error = (
                    f"{failure}: the backup was readable a moment ago, so the function"
                    " most likely lacks VOLUME_GROUP_BACKUP_UPDATE on it (or it was just deleted)"
                )
                return base.outcome("failed", backup_id, opc_request_id=failure.opc_request_id, error=error)
            if failure.outcome_unknown:
                return self._unknown(backup_id, result, failure, base)
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
        return base.outcome("updated", backup_id, result.changes(), opc_request_id=put.request_id)

    def _unknown(self, backup_id: str, result: Plan, failure: CallFailed, base: _Extras) -> Outcome:
        """The PUT was sent and no answer came: it may have landed. Transient: the next try re-reads."""
        log.error(
            "UpdateVolumeGroupBackup outcome unknown",
            extra={
                "operation": "UpdateVolumeGroupBackup",
                "volume_group_backup_id": backup_id,
                "outcome": "unknown",
                "changes": result.changes(),
                "error": failure.message,
            },
        )
        error = (
            f"{failure}; the update may or may not have been applied (the next delivery re-reads the backup)"
        )
        return Outcome(
            "failed",
            backup_id,
            error=error,
            warnings=base.warnings,
            matched_rules=base.matched_rules,
            transient=True,
        )

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
        warning = None
        if vg_id and needs_volume_group(policy, backup):
            if ocid_kind(str(vg_id)) == "volumegroup":
                lookup = volume_groups or self.get_volume_group
                volume_group = lookup(vg_id, backup.get("id"), deadline)
            else:
                warning = _bad_volume_group_id(vg_id, backup.get("id"))
        result = self.tag_schema.review(plan(policy, backup, volume_group, event_ctx), deadline)
        return replace(result, warnings=(*result.warnings, warning)) if warning else result

    def get_volume_group(
        self, vg_id: str, backup_id: str | None, deadline: Deadline
    ) -> dict[str, Any] | None:
        if ocid_kind(str(vg_id)) != "volumegroup":
            _bad_volume_group_id(vg_id, backup_id)
            return None
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

    def _put(self, backup_id: str, result: Plan, etag: str, deadline: Deadline) -> Any:
        return self.call(
            "UpdateVolumeGroupBackup",
            self.clients.blockstorage().update_volume_group_backup,
            backup_id,
            deadline,
            volume_group_backup_id=backup_id,
            update_volume_group_backup_details=result.update_body(),
            if_match=etag,
        )


def _bad_volume_group_id(vg_id: Any, backup_id: Any) -> str:
    """The warning (also logged) for a backup whose volumeGroupId is not a volume group's OCID."""
    warning = (
        f"the backup's volumeGroupId {str(vg_id)[:80]!r} is not a volume group OCID:"
        " planned without the volume group (rules that need it do not match)"
    )
    log.warning(warning, extra={"volume_group_backup_id": backup_id, "operation": "GetVolumeGroup"})
    return warning


def _to_dict(data: Any) -> dict[str, Any]:
    """A resource from a lean client (already a dict) or an SDK model, in to_dict's shape."""
    if isinstance(data, dict):
        return data
    from oci.util import to_dict

    converted = to_dict(data)
    return converted if isinstance(converted, dict) else {}
