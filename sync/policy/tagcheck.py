"""The tenancy's tag schema (namespaces, keys, validators) and the pure checks a policy and a plan face."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.policy.loader import Policy
from sync.policy.planner import Plan
from sync.policy.tagnames import ci_get, find_name, fold

ACTIVE = "ACTIVE"
SHOWN_VALUES = 20  # a list-of-values key may hold hundreds: name the first few


@dataclass(frozen=True)
class TagKey:
    """One defined tag key (tag definition) as Identity describes it."""

    name: str
    is_retired: bool = False
    lifecycle_state: str = ACTIVE
    is_cost_tracking: bool = False
    allowed: tuple[str, ...] | None = None  # a list-of-values (ENUM) key's values; None: any value

    @property
    def usable(self) -> bool:
        return not self.is_retired and self.lifecycle_state == ACTIVE

    def allows(self, value: str) -> bool:
        # Values are compared as given: Oracle documents list values as case sensitive.
        return self.allowed is None or value in self.allowed

    def validator_text(self) -> str:
        return "any value" if self.allowed is None else "list: " + shown(self.allowed)


@dataclass(frozen=True)
class TagNamespace:
    name: str
    id: str = ""
    is_retired: bool = False
    lifecycle_state: str = ACTIVE
    keys: Mapping[str, TagKey] = field(default_factory=dict)  # folded name -> key
    keys_complete: bool = True  # False: only some keys were read, an absent one is unknown

    @property
    def usable(self) -> bool:
        return not self.is_retired and self.lifecycle_state == ACTIVE

    def key(self, name: str) -> TagKey | None:
        found: TagKey | None = self.keys.get(fold(name))
        return found


@dataclass(frozen=True)
class TagSchema:
    """What is known of the tenancy's defined tags; names are matched case-insensitively."""

    namespaces: Mapping[str, TagNamespace] = field(default_factory=dict)  # folded name -> namespace

    def namespace(self, name: str) -> TagNamespace | None:
        found: TagNamespace | None = self.namespaces.get(fold(name))
        return found

    def key(self, namespace: str, key: str) -> TagKey | None:
        ns = self.namespace(namespace)
        return None if ns is None else ns.key(key)


def shown(values: Iterable[str]) -> str:
    items = list(values)
    text = ", ".join(items[:SHOWN_VALUES])
    return text + (f" (and {len(items) - SHOWN_VALUES} more)" if len(items) > SHOWN_VALUES else "")


# -- reading a schema ---------------------------------------------------------------------


def _flag(data: Mapping[str, Any], snake: str, camel: str, default: Any = None) -> Any:
    """A field from a camelCase API/seed object or a snake_case SDK dict."""
    if camel in data:
        return data[camel]
    return data.get(snake, default)


def validator_values(validator: Any) -> tuple[str, ...] | None:
    """The allowed values of an ENUM validator; None for DEFAULT or no validator."""
    if not isinstance(validator, Mapping):
        return None
    kind = _flag(validator, "validator_type", "validatorType")
    if str(kind).upper() != "ENUM":
        return None
    values = validator.get("values") or []
    return tuple(str(v) for v in values)


def key_from_api(data: Mapping[str, Any]) -> TagKey:
    """A Tag or TagSummary (camelCase JSON, or snake_case from oci.util.to_dict)."""
    return TagKey(
        name=str(data.get("name", "")),
        is_retired=bool(_flag(data, "is_retired", "isRetired", False)),
        lifecycle_state=str(_flag(data, "lifecycle_state", "lifecycleState", ACTIVE) or ACTIVE),
        is_cost_tracking=bool(_flag(data, "is_cost_tracking", "isCostTracking", False)),
        allowed=validator_values(data.get("validator")),
    )


def schema_from_seed(data: Any) -> TagSchema:
    """A schema from the seed format's `tagNamespaces` (a whole seed file, or that map alone).

    Each namespace is a list of key names, or {"isRetired", "lifecycleState", "tags": {key:
    {"isRetired", "isCostTracking", "validator"}}}. Raises ValueError with a message on bad input.
    """
    if isinstance(data, Mapping) and "tagNamespaces" in data:
        data = data["tagNamespaces"]
    if not isinstance(data, Mapping):
        raise ValueError("a tag schema is an object of namespaces (or a seed with tagNamespaces)")
    namespaces: dict[str, TagNamespace] = {}
    for ns_name, spec in data.items():
        if isinstance(spec, list):
            keys = {fold(str(k)): TagKey(str(k)) for k in spec}
            namespaces[fold(str(ns_name))] = TagNamespace(str(ns_name), keys=keys)
            continue
        if not isinstance(spec, Mapping):
            raise ValueError(f"tag namespace {ns_name!r}: expected a list of keys or an object")
        tags = spec.get("tags", {})
        if not isinstance(tags, Mapping):
            raise ValueError(f"tag namespace {ns_name!r}: tags must be an object of key names")
        keys = {}
        for key_name, key_spec in tags.items():
            if not isinstance(key_spec, Mapping):
                raise ValueError(f"tag {ns_name}.{key_name}: expected an object")
            validator = key_spec.get("validator")
            if validator is not None and validator_values(validator) == ():
                raise ValueError(f"tag {ns_name}.{key_name}: an ENUM validator needs its values")
            keys[fold(str(key_name))] = key_from_api({**key_spec, "name": str(key_name)})
        namespaces[fold(str(ns_name))] = TagNamespace(
            str(ns_name),
            str(spec.get("id", "")),
            bool(spec.get("isRetired", False)),
            str(spec.get("lifecycleState", ACTIVE)),
            keys,
        )
    return TagSchema(namespaces)


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
    """(namespace, key) of defined tags a rule wrote whose value the update would change."""
    out = []
    for (ns, key), _rule in result.defined_writers.items():
        new = ci_get(result.desired.defined_tags.get(ns), key)
        old = ci_get(ci_get(result.current.defined_tags, ns), key)
        if new is not None and new != old:
            out.append((ns, key))
    return out


def apply_schema(result: Plan, schema: TagSchema) -> Plan:
    """The plan with the tenancy's casing for names it adds, or an error for disallowed values.

    Only tags a rule wrote and whose value changes are checked; OCI stays the final judge of
    everything else (missing or retired keys fail the update there, with OCI's message).
    """
    if result.error:
        return result
    errors: list[str] = []
    for ns, key in changed_written(result):
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
    if defined == result.desired.defined_tags:
        return result
    desired = dataclasses.replace(result.desired, defined_tags=defined)
    return dataclasses.replace(result, desired=desired, defined_writers=writers)
