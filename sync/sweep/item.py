"""One listed backup in a sweep: decided from the listed data, brought in line through the engine."""

from __future__ import annotations

from sync.cloud.calls import Limiter
from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed, Engine, Outcome, decision_outcome, log_source_warning
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup
from sync.domain.status import Status
from sync.policy.decide import Action, decide, source_to_read
from sync.policy.loader import Policy
from sync.sweep.options import SweepOptions
from sync.sweep.sources import SourceCache


def process_backup(
    engine: Engine,
    options: SweepOptions,
    policy: Policy,
    backup: Backup,
    sources: SourceCache,
    deadline: Deadline,
    limiter: Limiter | None = None,
) -> Outcome:
    """The backup's outcome. A compliant backup costs no call; a dry run sends nothing but listings."""
    try:
        wanted = source_to_read(policy, backup, options.available_only)
        source = sources(wanted[0], wanted[1], backup.id, deadline) if wanted else None
    except CallFailed as failure:
        return Outcome(
            Status.FAILED,
            backup.id,
            opc_request_id=failure.opc_request_id,
            error=str(failure),
            transient=failure.transient,
        )
    except AuthError as exc:
        return Outcome(Status.FAILED, backup.id, error=str(exc))
    # Checked against the tag schema (cached) so a dry run shows what would be rejected.
    decision = decide(
        policy,
        backup,
        source,
        review=engine.review(deadline),
        dry_run=options.dry_run,
        available_only=options.available_only,
    )
    if decision.action is not Action.WRITE:
        log_source_warning(decision, backup.id)
        return decision_outcome(decision, backup.id)
    return engine.sync_backup(backup.id, dry_run=False, deadline=deadline, sources=sources, limiter=limiter)
