"""The pure checks a policy and a plan face against the tenancy's tag schema (sync.policy.tagmodel)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sync.policy.loader import Policy
from sync.policy.planner import Plan
from sync.policy.tagmodel import TagSchema, schema_from_seed, shown
from sync.policy.tagnames import ci_get, find_name, fold

__all__ = ["TagSchema", "apply_schema", "changed_written", "check_policy", "schema_from_seed", "wanted_names"]


# -- what a policy writes -----------------------------------------------------------------


@dataclass
class WrittenTag:
    """A defined tag some rule writes, with every rule that writes it and their literal values."""

    namespace: str
    key: str
    rules: list[str] = field(default_factory=list)
    literals: list[tuple[str, str]] = field(default_factory=list)  # (rule, value)
    spelled: dict[str, str] = field(default_factory=dict)  # rule -> "ns.key" as that rule writes it
    templated: list[str] = field(default_factory=list)  # rules whose value is rendered


def written_tags(policy: Policy) -> list[WrittenTag]:
    """Every defined tag the policy's rules write, grouped case-insensitively, in policy order."""
    out: dict[tuple[str, str], WrittenTag] = {}
    for rule in policy.rules:
        for ns, keys in rule.defined_tags.items():
            for key, template in keys.items():
                entry = out.setdefault((fold(ns), fold(key)), WrittenTag(ns, key))
                if rule.name not in entry.rules:
                    entry.rules.append(rule.name)
                entry.spelled.setdefault(rule.name, f"{ns}.{key}")
                if template.references:
                    entry.templated.append(rule.name)
                else:
                    entry.literals.append((rule.name, "".join(str(p) for p in template.parts)))
    return list(out.values())


def wanted_names(policy: Policy) -> dict[str, set[str]]:
    """{namespace: {keys}} the policy writes, plus namespaces it copies by name (no keys)."""
    wanted: dict[str, set[str]] = {}
    for tag in written_tags(policy):
        ns = find_name(wanted, tag.namespace) or tag.namespace
        wanted.setdefault(ns, set()).add(tag.key)
    for rule in policy.rules:
        if rule.copy is not None and rule.copy.namespaces:
            for ns in rule.copy.namespaces:
                wanted.setdefault(find_name(wanted, ns) or ns, set())
    return wanted


@dataclass(frozen=True)
class Row:
    namespace: str
    key: str
    validator: str
    cost_tracking: str
    rules: str


def check_policy(policy: Policy, schema: TagSchema) -> tuple[list[str], list[Row], list[str]]:
    """(problems, table rows, notes) for every defined tag the policy writes or copies by namespace."""
    problems: list[str] = []
    rows: list[Row] = []
    notes: list[str] = []
    for tag in written_tags(policy):
        rules = ", ".join(tag.rules)
        who = f"rule {tag.rules[0]!r}" if len(tag.rules) == 1 else f"rules {rules}"
        ns = schema.namespace(tag.namespace)
        if ns is None:
            problems.append(f"{who}: defined_tags.{tag.namespace}: tag namespace {tag.namespace!r} not found")
            continue
        if not ns.usable:
            problems.append(f"{who}: defined_tags.{tag.namespace}: tag namespace {ns.name!r} is retired")
            continue
        key = ns.key(tag.key)
        if key is None:
            known = sorted(k.name for k in ns.keys.values() if k.usable)
            problems.append(
                f"{who}: defined_tags.{tag.namespace}.{tag.key}: tag key {tag.key!r} not found in"
                f" namespace {ns.name!r} (its keys: {shown(known) or 'none'})"
            )
            continue
        if not key.usable:
            problems.append(
                f"{who}: defined_tags.{tag.namespace}.{tag.key}: tag key {ns.name}.{key.name} is retired"
            )
            continue
        for writer, value in tag.literals:
            if not key.allows(value):
                problems.append(
                    f"rule {writer!r}: defined_tags.{tag.spelled[writer]}: value {value!r} is not"
                    f" allowed by {ns.name}.{key.name}; allowed values: {shown(key.allowed or ())}"
                )
        if key.allowed is not None and tag.templated:
            notes.append(
                f"{ns.name}.{key.name} takes a list of values and is rendered by rule(s)"
                f" {', '.join(tag.templated)}: each rendered value is checked before the update is sent"
            )
        if (ns.name, key.name) != (tag.namespace, tag.key):
            notes.append(f"{tag.namespace}.{tag.key} is written {ns.name}.{key.name} (the tenancy's casing)")
        rows.append(
            Row(ns.name, key.name, key.validator_text(), "yes" if key.is_cost_tracking else "no", rules)
        )
    for rule in policy.rules:
        if rule.copy is None or not rule.copy.namespaces:
            continue
        for name in sorted(rule.copy.namespaces):
            copied = schema.namespace(name)
            if copied is None:
                problems.append(
                    f"rule {rule.name!r}: copy_tags_from_volume_group.defined:"
                    f" tag namespace {name!r} not found"
                )
            elif not copied.usable:
                problems.append(
                    f"rule {rule.name!r}: copy_tags_from_volume_group.defined: tag namespace"
                    f" {copied.name!r} is retired"
                )
    return problems, rows, notes


# -- a plan against the schema ------------------------------------------------------------


def changed_written(result: Plan) -> list[tuple[str, str]]:
    """(namespace, key) of defined tags this update adds or changes: a rule's, or copied ones.

    The tag schema is read for these names (and only these) before the update is sent.
    """
    out = []
    for (ns, key), _rule in result.defined_writers.items():
        new = ci_get(result.desired.defined_tags.get(ns), key)
        old = ci_get(ci_get(result.current.defined_tags, ns), key)
        if new is not None and new != old:
            out.append((ns, key))
    for ns, key in result.copied_defined:
        if (ns, key) not in result.defined_writers and key in (result.desired.defined_tags.get(ns) or {}):
            out.append((ns, key))
    return out


def _copied_problem(schema: TagSchema, ns: str, key: str, value: str) -> str | None:
    """Why OCI would refuse a copied tag, when the schema knows for sure; else None."""
    namespace = schema.namespace(ns)
    if namespace is None:
        return None
    if not namespace.usable:
        return f"tag namespace {namespace.name} is retired"
    found = namespace.key(key)
    if found is None:
        return f"tag key {namespace.name}.{key} does not exist" if namespace.keys_complete else None
    if not found.usable:
        return f"tag key {namespace.name}.{found.name} is retired"
    if not found.allows(value):
        return f"value {value!r} is not allowed by {namespace.name}.{found.name}"
    return None


def _without_copied(result: Plan, schema: TagSchema) -> Plan:
    """The plan without the copied defined tags OCI would refuse, each with a warning."""
    drop: list[tuple[str, str]] = []
    warnings: list[str] = []
    for ns, key in result.copied_defined:
        if (ns, key) in result.defined_writers:
            continue  # a rule wrote over the copied value: judged as the rule's
        value = (result.desired.defined_tags.get(ns) or {}).get(key)
        if value is None:
            continue
        problem = _copied_problem(schema, ns, key, str(value))
        if problem:
            drop.append((ns, key))
            warnings.append(f"copy_tags_from_volume_group: defined tag {ns}.{key} not copied: {problem}")
    if not drop:
        return result
    defined = {ns: dict(keys) for ns, keys in result.desired.defined_tags.items()}
    for ns, key in drop:
        del defined[ns][key]
        if not defined[ns] and ci_get(result.current.defined_tags, ns) is None:
            del defined[ns]
    return dataclasses.replace(
        result,
        desired=dataclasses.replace(result.desired, defined_tags=defined),
        copied_defined=tuple(c for c in result.copied_defined if c not in drop),
        warnings=(*result.warnings, *warnings),
    )


def apply_schema(result: Plan, schema: TagSchema) -> Plan:
    """The plan with the tenancy's casing for names it adds, or an error for disallowed values.

    A rule's tag with a value outside its key's list is an error (nothing is sent); a copied tag
    OCI would refuse (retired, missing, value not allowed) is left out with a warning, so that the
    rule's other tags still go. OCI stays the final judge of everything else.
    """
    if result.error:
        return result
    result = _without_copied(result, schema)
    errors: list[str] = []
    for ns, key in changed_written(result):
        if (ns, key) not in result.defined_writers:
            continue
        found = schema.key(ns, key)
        if found is None:
            continue
        value = str(result.desired.defined_tags[ns][key])
        if not found.allows(value):
            namespace = schema.namespace(ns)
            ns_name = namespace.name if namespace else ns
            errors.append(
                f"rule {result.defined_writers[(ns, key)]!r}: defined tag {ns_name}.{found.name}:"
                f" value {value!r} is not allowed; allowed values: {shown(found.allowed or ())}"
            )
    if errors:
        return dataclasses.replace(result, desired=result.current, error="; ".join(errors))
    return _recased(result, schema)


def _recased(result: Plan, schema: TagSchema) -> Plan:
    """Names the backup does not carry yet take the schema's casing (known ones keep theirs)."""
    current = result.current.defined_tags
    defined: dict[str, dict[str, Any]] = {}
    writers: dict[tuple[str, str], str] = {}
    copied: list[tuple[str, str]] = []
    for ns, keys in result.desired.defined_tags.items():
        namespace = schema.namespace(ns)
        old_keys = ci_get(current, ns)
        new_ns = namespace.name if namespace is not None and old_keys is None else ns
        new_ns = find_name(defined, new_ns) or new_ns
        target = defined.setdefault(new_ns, {})
        for key, value in keys.items():
            found = namespace.key(key) if namespace is not None else None
            new_key = found.name if found is not None and find_name(old_keys or {}, key) is None else key
            target[new_key] = value
            if (ns, key) in result.defined_writers:
                writers[(new_ns, new_key)] = result.defined_writers[(ns, key)]
            if (ns, key) in result.copied_defined:
                copied.append((new_ns, new_key))
    if defined == result.desired.defined_tags:
        return result
    desired = dataclasses.replace(result.desired, defined_tags=defined)
    return dataclasses.replace(result, desired=desired, defined_writers=writers, copied_defined=tuple(copied))
