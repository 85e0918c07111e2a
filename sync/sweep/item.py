"""One listed backup in a sweep: skip, plan from the listed data, or bring it in line through the engine."""

from __future__ import annotations

from typing import Any

from sync.cloud.clients import AuthError
from sync.cloud.engine import SKIPPED_STATES, CallFailed, Engine, Outcome
from sync.cloud.retry import Deadline
from sync.policy.loader import Policy
from sync.policy.planner import needs_volume_group, plan
from sync.sweep.options import SweepOptions
from sync.sweep.volume_groups import VolumeGroupCache


def process_backup(
    engine: Engine,
    options: SweepOptions,
    policy: Policy,
    backup: dict[str, Any],
    volume_groups: VolumeGroupCache,
    deadline: Deadline,
) -> Outcome:
    """The backup's outcome. A compliant backup costs no call; a dry run sends nothing but listings."""
    backup_id = str(backup.get("id"))
    state = backup.get("lifecycle_state")
    if state in SKIPPED_STATES:
        return Outcome("ignored", backup_id, error=f"backup is {state}")
    if options.available_only and state != "AVAILABLE":
        return Outcome("ignored", backup_id, error=f"backup is {state} (available only)")
    try:
        vg = None
        vg_id = backup.get("volume_group_id")
        if vg_id and needs_volume_group(policy, backup):
            vg = volume_groups(vg_id, backup_id, deadline)
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
    result = engine.tag_schema.review(plan(policy, backup, vg, None), deadline)
    warnings, rules = list(result.warnings), list(result.matched_rules)
    if result.error:
        return Outcome("rejected", backup_id, error=result.error, warnings=warnings, matched_rules=rules)
    if not result.changed:
        return Outcome("unchanged", backup_id, warnings=warnings, matched_rules=rules)
    if options.dry_run:
        return Outcome("planned", backup_id, result.changes(), warnings=warnings, matched_rules=rules)
    return engine.sync_backup(backup_id, dry_run=False, deadline=deadline, volume_groups=volume_groups)
