"""The planner: the name and tags a backup should have, from its state, volume group, event and policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.policy.limits import Limits
from sync.policy.loader import CopyPlan, Policy, Rule
from sync.policy.tagnames import ci_get, find_name, fold, folded_defined
from sync.policy.templates import Template

ORACLE_TAGS = "Oracle-Tags"

FreeformTags = dict[str, str]
DefinedTags = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class TagState:
    display_name: str | None
    freeform_tags: FreeformTags
    defined_tags: DefinedTags

    @classmethod
    def of(cls, resource: Mapping[str, Any]) -> TagState:
        return cls(
            resource.get("display_name"),
            dict(resource.get("freeform_tags") or {}),
            _copy_defined(resource.get("defined_tags")),
        )


@dataclass(frozen=True)
class Plan:
    backup_id: str
    current: TagState
    desired: TagState
    matched_rules: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    error: str | None = None  # set when the result breaks a limit: nothing may be sent
    # (namespace, key) as in desired -> the rule that wrote it (copied tags are not listed)
    defined_writers: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def name_changed(self) -> bool:
        return self.desired.display_name != self.current.display_name

    @property
    def freeform_changed(self) -> bool:
        return self.desired.freeform_tags != self.current.freeform_tags

    @property
    def defined_changed(self) -> bool:
        # OCI compares namespace and key names case-insensitively and answers with its own
        # casing: a difference in case alone is no change (else every run would PUT again).
        if self.desired.defined_tags == self.current.defined_tags:
            return False
        return folded_defined(self.desired.defined_tags) != folded_defined(self.current.defined_tags)

    @property
    def changed(self) -> bool:
        return self.name_changed or self.freeform_changed or self.defined_changed

    def update_body(self) -> dict[str, Any]:
        """UpdateVolumeGroupBackupDetails fields, camelCase; whole maps, as the API replaces them."""
        body: dict[str, Any] = {}
        if self.name_changed:
            body["displayName"] = self.desired.display_name
        if self.freeform_changed:
            body["freeformTags"] = dict(self.desired.freeform_tags)
        if self.defined_changed:
            body["definedTags"] = _copy_defined(self.desired.defined_tags)
        return body

    def changes(self) -> dict[str, Any]:
        """What differs, as {"displayName": {old, new}, "freeformTags": {k: {old, new}}, ...}."""
        out: dict[str, Any] = {}
        if self.name_changed:
            out["displayName"] = {"old": self.current.display_name, "new": self.desired.display_name}
        ff = {
            k: {"old": self.current.freeform_tags.get(k), "new": v}
            for k, v in self.desired.freeform_tags.items()
            if self.current.freeform_tags.get(k) != v
        }
        if ff:
            out["freeformTags"] = ff
        defined: dict[str, Any] = {}
        for ns, keys in self.desired.defined_tags.items():
            old_keys = ci_get(self.current.defined_tags, ns) or {}
            diff = {
                k: {"old": ci_get(old_keys, k), "new": v} for k, v in keys.items() if ci_get(old_keys, k) != v
            }
            if diff:
                defined[ns] = diff
        if defined:
            out["definedTags"] = defined
        return out


def _copy_defined(defined: Mapping[str, Any] | None) -> DefinedTags:
    """Two levels deep is all a defined-tag map has; deepcopy was the planner's slowest step."""
    if not defined:
        return {}
    return {ns: dict(keys) if isinstance(keys, dict) else keys for ns, keys in defined.items()}


def matching_rules(
    policy: Policy, backup: Mapping[str, Any], volume_group: Mapping[str, Any] | None
) -> list[Rule]:
    matched = [r for r in policy.rules if r.match.holds(backup, volume_group)]
    return matched[:1] if policy.mode == "first" else matched


def needs_volume_group(policy: Policy, backup: Mapping[str, Any]) -> bool:
    """Whether planning this backup reads its volume group, so the caller should fetch it."""
    for rule in policy.rules:
        if not rule.match.holds_for_backup(backup):
            continue
        if rule.needs_volume_group:
            return True
        if policy.mode == "first":
            return False  # this rule matches for sure and is the only one applied
    return False


@dataclass
class _Builder:
    limits: Limits
    current: TagState
    name: str | None
    freeform: FreeformTags
    defined: DefinedTags
    warnings: list[str] = field(default_factory=list)
    writers: dict[tuple[str, str], str] = field(default_factory=dict)

    def defined_name(self, ns: str, key: str) -> tuple[str, str]:
        """The casing already on the backup (or copied) for ns.key, else the policy's."""
        ns_name = find_name(self.defined, ns) or ns
        return ns_name, find_name(self.defined.get(ns_name) or {}, key) or key

    def render(self, rule: Rule, what: str, t: Template, ctx: Mapping[str, Any]) -> str | None:
        result = t.render(ctx)
        for w in result.warnings:
            self.warnings.append(f"rule {rule.name!r}: {what}: {w}")
        if result.text is None:
            self.warnings.append(
                f"rule {rule.name!r}: {what}: skipped, ${{{result.missing}}} has no value"
                " (add |default:TEXT for a fallback)"
            )
        return result.text

    def clip(self, rule: Rule, what: str, text: str, limit: int) -> str:
        if len(text) > limit:
            self.warnings.append(f"rule {rule.name!r}: {what}: {len(text)} characters, truncated to {limit}")
            return text[:limit]
        return text

    def copy_from(self, plan: CopyPlan, vg: Mapping[str, Any]) -> None:
        if plan.freeform:
            for k, v in (vg.get("freeform_tags") or {}).items():
                self.freeform.setdefault(k, v)
        if plan.defined:
            wanted_ns = None if plan.namespaces is None else {fold(n) for n in plan.namespaces}
            for ns, keys in (vg.get("defined_tags") or {}).items():
                folded = fold(ns)
                wanted = folded in wanted_ns if wanted_ns is not None else folded != fold(ORACLE_TAGS)
                if not wanted or not isinstance(keys, Mapping):
                    continue
                target = self.defined.setdefault(find_name(self.defined, ns) or ns, {})
                for k, v in keys.items():
                    if find_name(target, k) is None:
                        target[k] = v

    def apply(self, rule: Rule, ctx: Mapping[str, Any]) -> None:
        vg = ctx.get("volume_group")
        if rule.copy is not None and vg is not None:
            self.copy_from(rule.copy, vg)
        if rule.display_name is not None:
            text = self.render(rule, "display_name", rule.display_name, ctx)
            if text is not None and not text.strip():
                self.warnings.append(f"rule {rule.name!r}: display_name: rendered empty, skipped")
            elif text is not None:
                self.name = self.clip(rule, "display_name", text, self.limits.display_name_max)
        for key, t in rule.freeform_tags.items():
            what = f"freeform_tags.{key}"
            if not rule.overwrite and key in self.freeform:
                continue
            text = self.render(rule, what, t, ctx)
            if text is not None:
                self.freeform[key] = self.clip(rule, what, text, self.limits.tag_value_max)
        for ns, keys in rule.defined_tags.items():
            for key, t in keys.items():
                what = f"defined_tags.{ns}.{key}"
                ns_name, key_name = self.defined_name(ns, key)
                if not rule.overwrite and key_name in self.defined.get(ns_name, {}):
                    continue
                text = self.render(rule, what, t, ctx)
                if text is not None:
                    clipped = self.clip(rule, what, text, self.limits.tag_value_max)
                    self.defined.setdefault(ns_name, {})[key_name] = clipped
                    self.writers[(ns_name, key_name)] = rule.name

    def limit_error(self) -> str | None:
        lim = self.limits
        if len(self.freeform) > lim.freeform_tags_max:
            return f"{len(self.freeform)} freeform tags; the limit is {lim.freeform_tags_max}"
        n_defined = sum(len(keys) for keys in self.defined.values())
        if n_defined > lim.defined_tags_max:
            return f"{n_defined} defined tags; the limit is {lim.defined_tags_max}"
        size = len(json.dumps([self.freeform, self.defined], separators=(",", ":"), ensure_ascii=False))
        if size > lim.total_tags_bytes_max:
            return f"tags take {size} bytes; the limit is {lim.total_tags_bytes_max}"
        return None


def plan(
    policy: Policy,
    backup: Mapping[str, Any],
    volume_group: Mapping[str, Any] | None = None,
    event: Mapping[str, Any] | None = None,
) -> Plan:
    """Compute the desired state. Nothing is ever removed; the result is checked against limits."""
    current = TagState.of(backup)
    builder = _Builder(
        policy.limits,
        current,
        current.display_name,
        dict(current.freeform_tags),
        _copy_defined(current.defined_tags),
    )
    ctx = {"backup": backup, "volume_group": volume_group, "event": event}
    rules = matching_rules(policy, backup, volume_group)
    for rule in rules:
        builder.apply(rule, ctx)
    desired = TagState(builder.name, builder.freeform, builder.defined)
    result = Plan(
        str(backup.get("id", "")),
        current,
        desired,
        tuple(r.name for r in rules),
        tuple(builder.warnings),
        defined_writers=builder.writers,
    )
    if result.freeform_changed or result.defined_changed:
        error = builder.limit_error()
        if error:
            return Plan(result.backup_id, current, current, result.matched_rules, result.warnings, error)
    return result
