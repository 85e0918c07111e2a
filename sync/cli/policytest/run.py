"""One case through the function's own planner and merge, and its result against the case's expectations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.cli.policytest.cases import Case
from sync.domain.resources import Backup, Kind, Source
from sync.policy.decide import Action, Review, decide, unreviewed
from sync.policy.loader import Policy
from sync.policy.planner import Plan, TagState
from sync.policy.tagcheck import TagSchema, apply_schema
from sync.policy.tagnames import ci_get
from sync.printable import quote


@dataclass(frozen=True)
class Result:
    """What the function would do with the case's backup, and the state the backup is left in."""

    status: str
    after: TagState
    matched_rules: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    plan: Plan | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


def context_of(case: Case) -> dict[str, Any]:
    """The names templates read, as the planner builds them (for --explain)."""
    context: dict[str, Any] = {"backup": case.backup, "event": case.event}
    if case.source is not None:
        context["source"] = case.source
        if case.kind == "volume_group_backup":
            context["volume_group"] = case.source
    if case.group_backup is not None:
        context["group_backup"] = case.group_backup
    return context


def run_case(policy: Policy, case: Case, schema: TagSchema | None) -> Result:
    """The function's answer for this backup: the same decide() the event path and the sweep use.

    An event the function does not handle is `ignored` and a body it refuses is `rejected`
    (both before any read); then decide(): a backup being deleted or FAULTY is `ignored`, one not
    AVAILABLE yet is `deferred`, a plan that breaks a limit or the tag schema is `rejected`, else
    `updated` when an update would be sent and `unchanged` when not.
    """
    current = TagState.of(case.backup)
    if case.rejected is not None:
        return Result("rejected", current, error=case.rejected)
    if case.ignored is not None:
        return Result("ignored", current, error=case.ignored)
    kind = Kind(case.kind)
    backup = Backup.of(kind, case.backup)
    source = Source.of(kind.source_kind, case.source) if case.source is not None else None
    group = Backup.of(Kind.VOLUME_GROUP_BACKUP, case.group_backup) if case.group_backup is not None else None
    review = unreviewed if schema is None else _schema_review(schema)
    decision = decide(policy, backup, source, case.event, review=review, group_backup=group)
    context = context_of(case)
    after = decision.plan.desired if decision.action is Action.WRITE and decision.plan else current
    error = decision.reason if decision.action in (Action.SKIP, Action.DEFER, Action.REJECT) else None
    return Result(
        decision.status.value,
        after,
        decision.matched_rules,
        decision.warnings,
        error,
        decision.plan,
        context,
    )


def _schema_review(schema: TagSchema) -> Review:
    """The offline tag schema check, on the plans the function would check (a change, no error)."""

    def review(result: Plan) -> Plan:
        return apply_schema(result, schema) if not result.error and result.changed else result

    return review


# -- expectations ---------------------------------------------------------------------------

ABSENT = "(absent)"


def _shown(value: Any) -> str:
    return ABSENT if value is None else quote(value, 300)


def _diff(what: str, expected: str, actual: str) -> str:
    return f"{what}\n  expected: {expected}\n  actual:   {actual}"


def check(case: Case, result: Result) -> list[str]:
    """Each expectation the result does not meet, as `what`, `expected:` and `actual:` lines."""
    want = case.expect
    out: list[str] = []
    if want.status is not None and want.status != result.status:
        actual = result.status + (f" ({result.error})" if result.error else "")
        out.append(_diff("status", want.status, actual))
    if want.display_name is not None and want.display_name != result.after.display_name:
        out.append(_diff("display_name", _shown(want.display_name), _shown(result.after.display_name)))
    for key, value in want.freeform_tags.items():
        got = result.after.freeform_tags.get(key)
        if got != value:
            out.append(_diff(f"freeform_tags.{key}", _shown(value), _shown(got)))
    for ns, keys in want.defined_tags.items():
        for key, value in keys.items():
            got = ci_get(ci_get(result.after.defined_tags, ns), key)
            if got is None or str(got) != value:
                out.append(_diff(f"defined_tags.{ns}.{key}", _shown(value), _shown(got)))
    for key in want.absent_freeform:
        got = result.after.freeform_tags.get(key)
        if got is not None:
            out.append(_diff(f"freeform_tags.{key}", ABSENT, _shown(got)))
    for ns, key in want.absent_defined:
        got = ci_get(ci_get(result.after.defined_tags, ns), key)
        if got is not None:
            out.append(_diff(f"defined_tags.{ns}.{key}", ABSENT, _shown(got)))
    if want.matched_rules is not None and tuple(want.matched_rules) != result.matched_rules:
        out.append(_diff("matched_rules", _rules(want.matched_rules), _rules(result.matched_rules)))
    if want.error is not None and (result.error is None or want.error not in result.error):
        out.append(_diff("error", f"containing {quote(want.error, 300)}", _shown(result.error)))
    for text in want.warnings:
        if not any(text in w for w in result.warnings):
            shown = "; ".join(result.warnings) or "(no warnings)"
            out.append(_diff("warnings", f"one containing {quote(text, 300)}", shown))
    return out


def _rules(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(names) + "]" if names else "(none)"
