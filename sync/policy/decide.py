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
from sync.domain.resources import Backup, Source, SourceKind
from sync.domain.status import Status
from sync.policy.loader import Policy
from sync.policy.planner import Plan, needs_volume_group, plan

# A backup on its way out (or broken) is never written.
SKIPPED_STATES = frozenset({"TERMINATING", "TERMINATED", "FAULTY"})

Review = Callable[[Plan], Plan]
"""The plan checked against the tenancy's tag schema (e.g. TagSchemaCache.review), or left as is."""


def unreviewed(result: Plan) -> Plan:
    return result


class Action(Enum):
    SKIP = Status.IGNORED
    DEFER = Status.DEFERRED  # a sweep's backup that is not AVAILABLE yet: no PUT now
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


def views(backup: Backup, source: Source | None) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """(backup, volume_group) as the policy's templates and conditions read them (snake_case)."""
    volume_group = source.fields if source is not None and source.kind is SourceKind.VOLUME_GROUP else None
    return backup.fields, volume_group


def skip_reason(backup: Backup, available_only: bool = False) -> str | None:
    """Why nothing is done to this backup now (on its way out, or deferred), or None."""
    state = backup.lifecycle_state
    if state in SKIPPED_STATES:
        return f"backup is {state}"
    return defer_reason(backup, available_only)


def defer_reason(backup: Backup, available_only: bool) -> str | None:
    """A sweep's reason to leave a backup not AVAILABLE yet for later (a PUT would get 409 IncorrectState)."""
    state = backup.lifecycle_state
    if available_only and state != "AVAILABLE" and state not in SKIPPED_STATES:
        return f"backup is {state}: deferred until it is AVAILABLE (its own event or the next run)"
    return None


def _needs_source(policy: Policy, backup: Backup) -> bool:
    return bool(backup.source_id) and needs_volume_group(policy, views(backup, None)[0])


def source_to_read(
    policy: Policy, backup: Backup, available_only: bool = False
) -> tuple[SourceKind, str] | None:
    """The source the caller should read before deciding: only when a rule needs it and its id is sound."""
    if skip_reason(backup, available_only) or not _needs_source(policy, backup):
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
    return (
        f"the backup's volumeGroupId {str(backup.source_id)[:80]!r} is not a volume group OCID:"
        " planned without the volume group (rules that need it do not match)"
    )


def decide(
    policy: Policy,
    backup: Backup,
    source: Source | None,
    event: Mapping[str, Any] | None = None,
    *,
    review: Review = unreviewed,
    dry_run: bool = False,
    available_only: bool = False,
) -> Decision:
    """What to do with `backup` as read (a GET or a list page), given its source when a rule needs it."""
    reason = skip_reason(backup, available_only)
    if reason:
        deferred = defer_reason(backup, available_only) is not None
        return Decision(Action.DEFER if deferred else Action.SKIP, reason=reason)
    backup_view, source_view = views(backup, source)
    warning = bad_source_id(policy, backup)
    result = review(plan(policy, backup_view, source_view, event))
    if warning:
        result = replace(result, warnings=(*result.warnings, warning))
    if result.error:
        return Decision(Action.REJECT, result, result.error, warning)
    if not result.changed:
        return Decision(Action.KEEP, result, source_warning=warning)
    return Decision(Action.REPORT if dry_run else Action.WRITE, result, source_warning=warning)
