"""One case through the function's own planner and merge, and its result against the case's expectations."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.cli.policytest.cases import Case, CaseFileError
from sync.cloud.engine import SKIPPED_STATES
from sync.policy.loader import Policy
from sync.policy.planner import Plan, TagState, plan
from sync.policy.tagcheck import TagSchema, apply_schema
from sync.policy.tagnames import ci_get
from sync.printable import quote

# The name the planner takes a backup's source under: `volume_group` (a group backup's volume
# group) until the planner reads the source of every kind as `source`.
_PLAN_PARAMETERS = frozenset(inspect.signature(plan).parameters)


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


def planner_inputs(case: Case) -> dict[str, Any]:
    """The planner's keyword arguments for the case's source, group backup and event."""
    kwargs: dict[str, Any] = {"event": case.event}
    if case.source is not None:
        if "source" in _PLAN_PARAMETERS:
            kwargs["source"] = case.source
        elif case.kind == "volume_group_backup":
            kwargs["volume_group"] = case.source
        else:
            raise CaseFileError(
                f"{case.label}: source: this version's planner reads the source of a volume group"
                f" backup only, not of a {case.kind}"
            )
    if case.group_backup is not None:
        if "group_backup" not in _PLAN_PARAMETERS:
            raise CaseFileError(f"{case.label}: group_backup: this version's planner reads no group backup")
        kwargs["group_backup"] = case.group_backup
    return kwargs


def context_of(case: Case, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The names templates read, as the planner builds them (for --explain)."""
    context = {"backup": case.backup, **kwargs}
    if "source" in kwargs and case.kind == "volume_group_backup":
        context.setdefault("volume_group", kwargs["source"])
    return context


def run_case(policy: Policy, case: Case, schema: TagSchema | None) -> Result:
    """The function's answer for this backup: its order of checks, then the planner and merge.

    The same steps as the function's engine after its GET: an event it does not handle is
    `ignored`, a backup being deleted or FAULTY is `ignored`, a plan that breaks a limit or the
    tag schema is `rejected`, else `updated` when an update would be sent and `unchanged` when not.
    """
    current = TagState.of(case.backup)
    if case.rejected is not None:
        return Result("rejected", current, error=case.rejected)
    if case.ignored is not None:
        return Result("ignored", current, error=case.ignored)
    state = case.backup.get("lifecycle_state")
    if state in SKIPPED_STATES:
        return Result("ignored", current, error=f"backup is {state}")
    kwargs = planner_inputs(case)
    result = plan(policy, case.backup, **kwargs)
    if schema is not None and not result.error and result.changed:
        result = apply_schema(result, schema)
    context = context_of(case, kwargs)
    if result.error:
        status, after = "rejected", current
    elif result.changed:
        status, after = "updated", result.desired
    else:
        status, after = "unchanged", current
    return Result(status, after, result.matched_rules, result.warnings, result.error, result, context)


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
