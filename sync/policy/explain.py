"""Why a plan came out as it did: each rule's conditions with the values they saw, each template's names."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.policy.loader import Policy, Rule
from sync.policy.planner import Plan
from sync.policy.tagnames import ci_get
from sync.policy.templates import Template, parse_template
from sync.printable import quote

NO_VALUE = "(no value)"


@dataclass(frozen=True)
class Seen:
    """One condition: where it looks, the value it saw there, and whether it held."""

    path: str
    value: Any
    held: bool
    note: str = ""


@dataclass(frozen=True)
class Read:
    """One name a template read and the value it had (None: no value)."""

    name: str
    value: str | None


@dataclass(frozen=True)
class TemplateWhy:
    """One template of an applied rule: what it sets, the names it read, and its text."""

    what: str
    source: str
    reads: tuple[Read, ...]
    text: str | None  # None: skipped
    missing: str | None = None  # the placeholder that had no value
    result: str | None = None  # what the plan holds there, when that differs from `text`
    reason: str = ""


@dataclass(frozen=True)
class RuleWhy:
    name: str
    conditions_hold: bool
    applied: bool
    conditions: tuple[Seen, ...]
    templates: tuple[TemplateWhy, ...] = ()
    note: str = ""


def _conditions(rule: Rule, context: Mapping[str, Any]) -> tuple[list[Seen], bool]:
    """Every condition of the rule, grouped as the rule's Match groups them (backup, volume_group...)."""
    seen: list[Seen] = []
    holds = True
    for group in dataclasses.fields(rule.match):
        conditions = getattr(rule.match, group.name)
        if not isinstance(conditions, tuple):
            continue
        resource = context.get(group.name)
        for cond in conditions:
            if resource is None and group.name != "backup":
                seen.append(Seen(cond.path, None, False, f"no {group.name} was given"))
                holds = False
                continue
            value = cond.get(resource)
            held = bool(cond.test(value))
            holds = holds and held
            seen.append(Seen(cond.path, value, held))
    return seen, holds


def _value_of(name: str, context: Mapping[str, Any]) -> str | None:
    """A name's value as a template would print it, read through the template language itself."""
    return parse_template("${" + name + "}").render(context).text


def _planned(plan: Plan | None, what: str) -> str | None:
    if plan is None:
        return None
    parts = what.split(".", 2)
    desired = plan.desired
    if parts[0] == "display_name":
        return desired.display_name
    if parts[0] == "freeform_tags":
        return desired.freeform_tags.get(parts[1])
    value = ci_get(ci_get(desired.defined_tags, parts[1]), parts[2])
    return None if value is None else str(value)


def _templates(rule: Rule, context: Mapping[str, Any], plan: Plan | None) -> list[TemplateWhy]:
    items: list[tuple[str, Template]] = []
    if rule.display_name is not None:
        items.append(("display_name", rule.display_name))
    items += [(f"freeform_tags.{k}", t) for k, t in rule.freeform_tags.items()]
    items += [
        (f"defined_tags.{ns}.{k}", t) for ns, keys in rule.defined_tags.items() for k, t in keys.items()
    ]
    out = []
    for what, template in items:
        names = dict.fromkeys(".".join(ref.path) for ref in template.references)
        reads = tuple(Read(name, _value_of(name, context)) for name in names)
        rendered = template.render(context)
        result = _planned(plan, what)
        reason = ""
        if rendered.text is not None and plan is not None and result != rendered.text:
            if not rule.overwrite and what != "display_name":
                reason = "overwrite: false kept the value already there"
            else:
                reason = "changed after this rule (a later rule, a limit or the tag schema)"
        else:
            result = None
        out.append(TemplateWhy(what, template.source, reads, rendered.text, rendered.missing, result, reason))
    return out


def explain(
    policy: Policy, context: Mapping[str, Any], matched: Sequence[str], plan: Plan | None = None
) -> list[RuleWhy]:
    """Each rule against `context` ({"backup": ..., "volume_group": ..., "event": ...}).

    `matched` is what the planner applied (it is the judge); conditions are re-read here only
    to show the values they saw.
    """
    applied = set(matched)
    out = []
    for rule in policy.rules:
        seen, holds = _conditions(rule, context)
        is_applied = rule.name in applied
        note = ""
        if holds and not is_applied and policy.mode == "first" and matched:
            note = f"mode first: rule {matched[0]!r} applied before it"
        templates = tuple(_templates(rule, context, plan)) if is_applied else ()
        if is_applied and rule.copy is not None:
            source = "volume_group" if context.get("volume_group") is not None else None
            note = f"copies tags from {source}" if source else "copies tags: no volume_group was given"
        out.append(RuleWhy(rule.name, holds, is_applied, tuple(seen), templates, note))
    return out


def _shown(value: Any) -> str:
    return NO_VALUE if value is None or value == "" else quote(value, 120)


def render(explained: Sequence[RuleWhy], indent: str = "") -> list[str]:
    """Plain lines: a rule per heading, its conditions, then its templates and the names they read."""
    lines = []
    for why in explained:
        if why.applied:
            state = "matched"
        elif why.conditions_hold:
            state = "not applied"
        else:
            state = "not matched"
        extra = "" if why.conditions else " (no conditions)"
        lines.append(f"{indent}rule {why.name!r}: {state}{extra}")
        for seen in why.conditions:
            verdict = "holds" if seen.held else "does not hold"
            detail = seen.note or f"saw {_shown(seen.value)}"
            lines.append(f"{indent}  {seen.path}: {detail}: {verdict}")
        if why.note:
            lines.append(f"{indent}  {why.note}")
        for t in why.templates:
            if t.text is None:
                lines.append(f"{indent}  {t.what}: skipped, ${{{t.missing}}} has no value")
            else:
                lines.append(f"{indent}  {t.what}: {quote(t.text, 120)}")
                if t.result is not None or t.reason:
                    lines.append(f"{indent}    result: {_shown(t.result)} ({t.reason})")
            lines += [f"{indent}    {r.name} = {_shown(r.value)}" for r in t.reads]
    return lines


def explain_text(policy: Policy, context: Mapping[str, Any], plan: Plan) -> str:
    """`plan --explain`: a heading, then the lines of render()."""
    return "\n".join(["Why:", *render(explain(policy, context, plan.matched_rules, plan), "  ")])
