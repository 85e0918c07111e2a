"""The one decision for a backup: skip it, reject it, leave it, report a dry run, or write it.

Pure: the event path (sync/cloud/engine.py) and the sweep (sync/sweep/item.py) both call it;
they do the I/O (GET, the source read `source_to_read` asks for, the PUT) around it. `views`
is the one place the typed resources become the snake_case mappings the policy language reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from sync.domain.ocid import ocid_kind
from sync.domain.resources import Backup, Kind, Source, SourceKind
from sync.domain.status import Status
from sync.policy.loader import Policy
from sync.policy.planner import Plan, needs_group_backup, needs_source, plan

# A backup on its way out (or broken) is never written.
SKIPPED_STATES = frozenset({"TERMINATING", "TERMINATED", "FAULTY"})

Review = Callable[[Plan], Plan]
"""The plan checked against the tenancy's tag schema (e.g. TagSchemaCache.review), or left as is."""


def unreviewed(result: Plan) -> Plan:
    return result


class Action(Enum):
    SKIP = Status.IGNORED
    DEFER = Status.DEFERRED  # not AVAILABLE yet: OCI refuses the update, a later pass writes it
    REJECT = Status.REJECTED
    KEEP = Status.UNCHANGED
    REPORT = Status.PLANNED  # a dry run
    WRITE = Status.UPDATED  # what a successful write answers


@dataclass(frozen=True)
class Decision:
    action: Action
    plan: Plan | None = None
    reason: str | None = None  # why a backup is skipped or rejected
    source_warning: str | None = None  # also in warnings; the caller logs it

    @property
    def status(self) -> Status:
        return self.action.value

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.plan.warnings if self.plan is not None else ()

    @property
    def matched_rules(self) -> tuple[str, ...]:
        return self.plan.matched_rules if self.plan is not None else ()

    def changes(self) -> dict[str, Any]:
        return self.plan.changes() if self.plan is not None and self.action is not Action.KEEP else {}


# Only an AVAILABLE backup is written: OCI refuses updates while a backup is being made (409).
WRITABLE_STATE = "AVAILABLE"
# The camelCase field naming each kind's source, for messages.
_SOURCE_FIELD_NAMES = {
    Kind.VOLUME_GROUP_BACKUP: "volumeGroupId",
    Kind.VOLUME_BACKUP: "volumeId",
    Kind.BOOT_VOLUME_BACKUP: "bootVolumeId",
}


def views(backup: Backup, source: Source | None) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """(backup, volume_group) as the policy's templates and conditions read them (snake_case)."""
    volume_group = source.fields if source is not None and source.kind is SourceKind.VOLUME_GROUP else None
    return backup.fields, volume_group


def source_view(source: Source | None) -> Mapping[str, Any] | None:
    """`source.*` for any kind: the volume, boot volume or volume group the backup was taken from."""
    return source.fields if source is not None else None


def skip_reason(backup: Backup) -> str | None:
    """Why a backup on its way out (or broken) is never written, or None."""
    state = backup.lifecycle_state
    if state in SKIPPED_STATES:
        return f"backup is {state}"
    return None


def defer_reason(backup: Backup, available_only: bool = True) -> str | None:
    """Why a backup not AVAILABLE yet is left for later (OCI refuses its update with 409), or None.

    available_only=False (a sweep's `availableOnly: false`) tries it anyway: its 409 is retried
    within the deadline, as before deferral existed.
    """
    state = backup.lifecycle_state
    if not available_only or state == WRITABLE_STATE or state in SKIPPED_STATES:
        return None
    return f"backup is {state}: deferred until it is AVAILABLE (its own event or the next run)"


def _needs_source(policy: Policy, backup: Backup) -> bool:
    return bool(backup.source_id) and needs_source(policy, backup.fields)


def group_backup_to_read(policy: Policy, backup: Backup) -> str | None:
    """The group backup a member backup names, when a rule reads `group_backup.*` and the id is sound."""
    if backup.kind is Kind.VOLUME_GROUP_BACKUP or skip_reason(backup) or defer_reason(backup):
        return None
    group_id = backup.fields.get("volume_group_backup_id")
    if not isinstance(group_id, str) or Kind.of(group_id) is not Kind.VOLUME_GROUP_BACKUP:
        return None
    return group_id if needs_group_backup(policy, backup.fields) else None


def source_to_read(
    policy: Policy, backup: Backup, available_only: bool = True
) -> tuple[SourceKind, str] | None:
    """The source the caller should read before deciding: only when a rule needs it and its id is sound."""
    if skip_reason(backup) or defer_reason(backup, available_only) or not _needs_source(policy, backup):
        return None
    kind = backup.kind.source_kind
    source_id = str(backup.source_id)
    return (kind, source_id) if ocid_kind(source_id) == kind.ocid_type else None


def bad_source_id(policy: Policy, backup: Backup) -> str | None:
    """The warning for a backup whose source id is not an OCID of its kind, when a rule needs the source."""
    if not _needs_source(policy, backup):
        return None
    kind = backup.kind.source_kind
    if ocid_kind(str(backup.source_id)) == kind.ocid_type:
        return None
    what = kind.value.replace("_", " ")
    given = str(backup.source_id)[:80]
    return (
        f"the backup's {_SOURCE_FIELD_NAMES[backup.kind]} {given!r} is not a {what} OCID:"
        f" planned without the {what} (rules that need it do not match)"
    )


def decide(
    policy: Policy,
    backup: Backup,
    source: Source | None,
    event: Mapping[str, Any] | None = None,
    *,
    review: Review = unreviewed,
    dry_run: bool = False,
    available_only: bool = True,
    group_backup: Backup | None = None,
) -> Decision:
    """What to do with `backup` as read (a GET or a list page), given its source when a rule needs it.

    group_backup: for a member backup, the group backup it names, when a rule reads `group_backup.*`.
    """
    reason = skip_reason(backup)
    if reason:
        return Decision(Action.SKIP, reason=reason)
    reason = defer_reason(backup, available_only)
    if reason:
        return Decision(Action.DEFER, reason=reason)
    backup_view, volume_group = views(backup, source)
    warning = bad_source_id(policy, backup)
    group_view = group_backup.fields if group_backup is not None else None
    result = review(
        plan(policy, backup_view, volume_group, event, source=source_view(source), group_backup=group_view)
    )
    if warning:
        result = replace(result, warnings=(*result.warnings, warning))
    if result.error:
        return Decision(Action.REJECT, result, result.error, warning)
    if not result.changed:
        return Decision(Action.KEEP, result, source_warning=warning)
    return Decision(Action.REPORT if dry_run else Action.WRITE, result, source_warning=warning)
