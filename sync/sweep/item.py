"""One listed backup in a sweep: decided from the listed data, brought in line through the engine."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sync.cloud.calls import Limiter
from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed, Engine, Outcome, decision_outcome, log_source_warning
from sync.cloud.members import MemberSync
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind
from sync.domain.status import Status
from sync.policy.decide import Action, Decision, decide, group_backup_to_read, source_to_read
from sync.policy.loader import Policy
from sync.sweep.options import SweepOptions
from sync.sweep.sources import GroupBackupCache, SourceCache


@dataclass(frozen=True)
class Reads:
    """What a sweep reads besides its listings, each at most once while cached: sources and group backups."""

    sources: SourceCache
    groups: GroupBackupCache


def _failed(backup: Backup, failure: CallFailed | AuthError) -> Outcome:
    if isinstance(failure, AuthError):
        return Outcome(Status.FAILED, backup.id, error=str(failure))
    return Outcome(
        Status.FAILED,
        backup.id,
        opc_request_id=failure.opc_request_id,
        error=str(failure),
        transient=failure.transient,
    )


def process_backup(
    engine: Engine,
    options: SweepOptions,
    policy: Policy,
    backup: Backup,
    reads: Reads,
    deadline: Deadline,
    limiter: Limiter | None = None,
) -> Outcome:
    """The backup's outcome. A compliant backup costs no call; a dry run sends nothing but listings.

    A group backup whose rules say `members: tags` also brings its members in line (each its own
    GET and, when it lacks a tag, one guarded PUT): through the engine when the group itself is
    written, else here from the group's plan, so a compliant group still reaches its members.
    """
    try:
        wanted = source_to_read(policy, backup, options.available_only)
        source = reads.sources(wanted[0], wanted[1], backup.id, deadline) if wanted else None
        group_id = group_backup_to_read(policy, backup)
        group = reads.groups(Kind.VOLUME_GROUP_BACKUP, group_id, backup.id, deadline) if group_id else None
    except (CallFailed, AuthError) as failure:
        return _failed(backup, failure)
    # Checked against the tag schema (cached) so a dry run shows what would be rejected.
    decision = decide(
        policy,
        backup,
        source,
        review=engine.review(deadline),
        dry_run=options.dry_run,
        available_only=options.available_only,
        group_backup=group,
    )
    if decision.action is Action.WRITE:
        return engine.sync_backup(
            backup.id,
            dry_run=False,
            deadline=deadline,
            sources=reads.sources,
            limiter=limiter,
            available_only=options.available_only,
        )
    log_source_warning(decision, backup.id)
    outcome = decision_outcome(decision, backup.id)
    return _with_members(engine, options, backup, decision, outcome, deadline, limiter)


def _with_members(
    engine: Engine,
    options: SweepOptions,
    backup: Backup,
    decision: Decision,
    outcome: Outcome,
    deadline: Deadline,
    limiter: Limiter | None,
) -> Outcome:
    result = decision.plan
    if result is None or result.member_tags is None or decision.action not in (Action.KEEP, Action.REPORT):
        return outcome
    sync = MemberSync(engine.port, result, engine.review(deadline), deadline, options.dry_run, limiter)
    members = sync.run(backup)
    return replace(outcome, members=members, transient=outcome.transient or members.transient)
