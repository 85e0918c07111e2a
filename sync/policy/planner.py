"""The planner: the name and tags a backup should have, from its state, volume group, event and policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sync.policy.fields import GROUP_KIND, backup_kind, with_kind
from sync.policy.limits import Limits, tag_data_bytes
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
class MemberTag:
    """One tag a `members: tags` rule computed for a group backup, to merge into each member."""

    value: str
    overwrite: bool
    rule: str


@dataclass(frozen=True)
class MemberTags:
    """What each member of a group backup gets: freeform keys, and (namespace, key) as the rule spells it."""

    freeform: Mapping[str, MemberTag]
    defined: Mapping[tuple[str, str], MemberTag]
    limits: Limits

    @property
    def rules(self) -> tuple[str, ...]:
        tags = (*self.freeform.values(), *self.defined.values())
        return tuple(dict.fromkeys(t.rule for t in tags))


@dataclass(frozen=True)
class Writers:
    """Which rule set each value (defined names folded), to name a rule in a warning."""

    name: str | None = None
    freeform: Mapping[str, str] = field(default_factory=dict)
    defined: Mapping[tuple[str, str], str] = field(default_factory=dict)


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
    # (namespace, key) as in desired of defined tags copied from the volume group (new on the
    # backup): the tag schema review skips the retired or disallowed ones (tagcheck.apply_schema).
    copied_defined: tuple[tuple[str, str], ...] = ()
    writers: Writers = field(default_factory=lambda: Writers(), compare=False, repr=False)
    # For a group backup: the tags rules with `members: tags` computed, for each member backup.
    member_tags: MemberTags | None = None
    kind: str | None = None  # the backup's kind (from its OCID when the mapping has none)

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
    policy: Policy,
    backup: Mapping[str, Any],
    volume_group: Mapping[str, Any] | None,
    source: Mapping[str, Any] | None = None,
) -> list[Rule]:
    matched = [r for r in policy.rules if r.match.holds(backup, volume_group, source)]
    return matched[:1] if policy.mode == "first" else matched


def _any_matching(policy: Policy, backup: Mapping[str, Any], needs: Callable[[Rule], bool]) -> bool:
    for rule in policy.rules:
        if not rule.match.holds_for_backup(backup):
            continue
        if needs(rule):
            return True
        if policy.mode == "first" and not (rule.match.volume_group or rule.match.source):
            return False  # this rule matches for sure and is the only one applied
    return False


def _is_group(backup: Mapping[str, Any]) -> bool:
    # No kind and no backup OCID: a mapping from before kinds (tests, --backup-json): a group backup.
    return backup_kind(backup) in (GROUP_KIND, None)


def needs_volume_group(policy: Policy, backup: Mapping[str, Any]) -> bool:
    """Whether planning this group backup reads its volume group, so the caller should fetch it.

    For a group backup the volume group is also its `source`; other kinds have no volume group.
    """
    if not _is_group(backup):
        return False
    return _any_matching(policy, backup, lambda r: r.needs_volume_group or r.needs_source)


def needs_source(policy: Policy, backup: Mapping[str, Any]) -> bool:
    """Whether planning this backup reads what it was taken from (volume, boot volume, volume group)."""
    if _is_group(backup):
        return needs_volume_group(policy, backup)
    return _any_matching(policy, backup, lambda r: r.needs_source)


def needs_group_backup(policy: Policy, backup: Mapping[str, Any]) -> bool:
    """Whether planning this member backup reads `group_backup.*` (its `volume_group_backup_id`)."""
    if _is_group(backup) or not backup.get("volume_group_backup_id"):
        return False
    return _any_matching(policy, backup, lambda r: r.needs_group_backup)


@dataclass
class _Builder:
    limits: Limits
    current: TagState
    name: str | None
    freeform: FreeformTags
    defined: DefinedTags
    warnings: list[str] = field(default_factory=list)
    writers: dict[tuple[str, str], str] = field(default_factory=dict)
    name_writer: str | None = None
    freeform_writers: dict[str, str] = field(default_factory=dict)
    copied_freeform: list[str] = field(default_factory=list)
    copied_defined: list[tuple[str, str]] = field(default_factory=list)
    member_freeform: dict[str, MemberTag] = field(default_factory=dict)
    member_defined: dict[tuple[str, str], MemberTag] = field(default_factory=dict)

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
                if k not in self.freeform:
                    self.freeform[k] = v
                    self.copied_freeform.append(k)
        if plan.defined:
            wanted_ns = None if plan.namespaces is None else {fold(n) for n in plan.namespaces}
            for ns, keys in (vg.get("defined_tags") or {}).items():
                folded = fold(ns)
                wanted = folded in wanted_ns if wanted_ns is not None else folded != fold(ORACLE_TAGS)
                if not wanted or not isinstance(keys, Mapping):
                    continue
                ns_name = find_name(self.defined, ns) or ns
                target = self.defined.setdefault(ns_name, {})
                for k, v in keys.items():
                    if find_name(target, k) is None:
                        target[k] = v
                        self.copied_defined.append((ns_name, k))

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
                self.name_writer = rule.name
        members = rule.members == "tags"
        for key, t in rule.freeform_tags.items():
            what = f"freeform_tags.{key}"
            kept = not rule.overwrite and key in self.freeform
            if kept and not members:
                continue
            text = self.render(rule, what, t, ctx)
            if text is None:
                continue
            value = self.clip(rule, what, text, self.limits.tag_value_max)
            if members:  # each member judges overwrite: false against its own tags
                self.member_freeform[key] = MemberTag(value, rule.overwrite, rule.name)
            if not kept:
                self.freeform[key] = value
                self.freeform_writers[key] = rule.name
        for ns, keys in rule.defined_tags.items():
            for key, t in keys.items():
                what = f"defined_tags.{ns}.{key}"
                ns_name, key_name = self.defined_name(ns, key)
                kept = not rule.overwrite and key_name in self.defined.get(ns_name, {})
                if kept and not members:
                    continue
                text = self.render(rule, what, t, ctx)
                if text is None:
                    continue
                value = self.clip(rule, what, text, self.limits.tag_value_max)
                if members:
                    self.member_defined[(ns, key)] = MemberTag(value, rule.overwrite, rule.name)
                if not kept:
                    self.defined.setdefault(ns_name, {})[key_name] = value
                    self.writers[(ns_name, key_name)] = rule.name

    def limit_error(self) -> str | None:
        """What breaks OCI's limits once copied tags that do not fit are left out, or None."""
        lim = self.limits
        while len(self.freeform) > lim.freeform_tags_max and self.copied_freeform:
            self.drop_copied_freeform("the limit of freeform tags")
        while _defined_count(self.defined) > lim.defined_tags_max and self.copied_defined:
            self.drop_copied_defined("the limit of defined tags")
        while tag_data_bytes(self.freeform, self.defined) > lim.total_tags_bytes_max and (
            self.copied_freeform or self.copied_defined
        ):
            if self.copied_defined:
                self.drop_copied_defined("the size limit of tag data")
            else:
                self.drop_copied_freeform("the size limit of tag data")
        if len(self.freeform) > lim.freeform_tags_max:
            return f"{len(self.freeform)} freeform tags; the limit is {lim.freeform_tags_max}"
        n_defined = _defined_count(self.defined)
        if n_defined > lim.defined_tags_max:
            return f"{n_defined} defined tags; the limit is {lim.defined_tags_max}"
        size = tag_data_bytes(self.freeform, self.defined)
        if size > lim.total_tags_bytes_max:
            return f"tags take {size} bytes (UTF-8); the limit is {lim.total_tags_bytes_max}"
        return None

    def drop_copied_freeform(self, why: str) -> None:
        key = self.copied_freeform.pop()
        del self.freeform[key]
        self.warnings.append(f"copy_tags_from_volume_group: freeform tag {key} not copied: over {why}")

    def drop_copied_defined(self, why: str) -> None:
        ns, key = self.copied_defined.pop()
        keys = self.defined[ns]
        del keys[key]
        if not keys and not find_name(self.current.defined_tags, ns):
            del self.defined[ns]
        self.warnings.append(f"copy_tags_from_volume_group: defined tag {ns}.{key} not copied: over {why}")


def _defined_count(defined: Mapping[str, Any]) -> int:
    return sum(len(keys) for keys in defined.values() if isinstance(keys, Mapping))


def plan(
    policy: Policy,
    backup: Mapping[str, Any],
    volume_group: Mapping[str, Any] | None = None,
    event: Mapping[str, Any] | None = None,
    *,
    source: Mapping[str, Any] | None = None,
    group_backup: Mapping[str, Any] | None = None,
) -> Plan:
    """Compute the desired state. Nothing is ever removed; the result is checked against limits.

    `source` is what the backup was taken from (volume, boot volume or volume group; for a group
    backup it defaults to `volume_group` and the other way round); `group_backup` is the group
    backup a member backup belongs to. The backup's `kind` comes from its OCID when absent.

    What is planned is a fixed point: planned again on its own result, the policy changes nothing
    more. A rule whose output would change again (it reads what it writes) is left out for this
    backup, with a warning naming the rule and the tag, so that no policy makes every run a PUT.
    """
    backup = with_kind(backup)
    if _is_group(backup):
        source = volume_group if source is None else source
        volume_group = source if volume_group is None else volume_group
    else:
        volume_group = None  # only a group backup has a volume group
    ctx: dict[str, Any] = {
        "backup": backup,
        "volume_group": volume_group,
        "source": source,
        "group_backup": group_backup,
        "event": event,
    }
    result = _plan_once(policy, backup, ctx, frozenset())
    if not result.changed or result.error or not policy.reads_own_output:
        return result
    left_out: set[str] = set()
    notes: list[str] = []
    for _ in range(len(policy.rules) + 1):
        settled, unstable = _settle(policy, backup, ctx, frozenset(left_out))
        if settled is not None:
            if not notes:
                return settled
            return replace(settled, warnings=(*settled.warnings, *dict.fromkeys(notes)))
        names = {rule_name for rule_name, *_ in unstable} - left_out
        for rule_name, what, old, new in unstable:
            notes.append(
                f"rule {rule_name!r}: {what}: not applied, its value would change again on every run"
                f" ({_shown(old)} -> {_shown(new)}): the rule reads what it writes"
            )
        left_out |= names or {rule.name for rule in policy.rules}
    # Nothing settles even with every rule left out: send nothing (never a PUT on every run).
    error = (
        "the policy does not settle for this backup (its rules keep changing what they read): "
        + "; ".join(dict.fromkeys(notes))
    )
    return replace(result, error=error)


# Passes of the policy over its own result before a backup's plan counts as unsettled.
SETTLE_PASSES = 6


def _applied(backup: Mapping[str, Any], state: TagState) -> dict[str, Any]:
    return {
        **backup,
        "display_name": state.display_name,
        "freeform_tags": state.freeform_tags,
        "defined_tags": state.defined_tags,
    }


def _settle(
    policy: Policy, backup: Mapping[str, Any], ctx: Mapping[str, Any], left_out: frozenset[str]
) -> tuple[Plan | None, list[Unstable]]:
    """The plan whose result the policy (less `left_out`) leaves as it is, or None and what still moves.

    Planned again on its own result, then again, until nothing changes: the settled state is
    what one PUT writes, so the next run finds nothing to do. Judged from the backup as read, so
    every run leaves out the same rules and reaches the same state.
    """
    first = _plan_once(policy, backup, ctx, left_out)
    if first.error or not first.changed:
        return first, []
    previous, state = first, _applied(backup, first.desired)
    unstable: list[Unstable] = []
    seen: dict[tuple[str, str], Unstable] = {}  # each change as first seen: what the warning shows
    for _ in range(SETTLE_PASSES):
        again = _plan_once(policy, state, {**ctx, "backup": state}, left_out)
        if again.error:
            return replace(first, error=again.error), []
        if not again.changed:
            return replace(first, desired=previous.desired), []
        unstable = _unstable(previous, again)
        for change in unstable:
            seen.setdefault((change[0], change[1]), change)
        previous, state = again, _applied(backup, again.desired)
    # The rules still changing after every pass, each shown with its first change.
    return None, [seen[(change[0], change[1])] for change in unstable]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


Unstable = tuple[str, str, Any, Any]  # (rule, what, value planned, value planned again)


def _unstable(first: Plan, again: Plan) -> list[Unstable]:
    """What planning again would change, with the rule that wrote it in either pass."""
    out: list[Unstable] = []
    a, b = first.desired, again.desired
    writers = first.writers, again.writers
    if a.display_name != b.display_name:
        for w in writers:
            if w.name:
                out.append((w.name, "display_name", a.display_name, b.display_name))
    for key in set(a.freeform_tags) | set(b.freeform_tags):
        old, new = a.freeform_tags.get(key), b.freeform_tags.get(key)
        if old != new:
            for w in writers:
                if key in w.freeform:
                    out.append((w.freeform[key], f"freeform_tags.{key}", old, new))
    folded_a, folded_b = folded_defined(a.defined_tags), folded_defined(b.defined_tags)
    for ns in set(folded_a) | set(folded_b):
        keys_a, keys_b = folded_a.get(ns, {}), folded_b.get(ns, {})
        for key in set(keys_a) | set(keys_b):
            old, new = keys_a.get(key), keys_b.get(key)
            if old != new:
                spelled = _spelled(a.defined_tags, ns, key) or _spelled(b.defined_tags, ns, key)
                for w in writers:
                    rule_name = w.defined.get((ns, key))
                    if rule_name:
                        out.append((rule_name, f"defined_tags.{spelled}", old, new))
    return out


def _spelled(defined: Mapping[str, Any], ns: str, key: str) -> str | None:
    ns_name = find_name(defined, ns)
    key_name = find_name(defined.get(ns_name) or {}, key) if ns_name else None
    return f"{ns_name}.{key_name}" if ns_name and key_name else None


def _plan_once(
    policy: Policy, backup: Mapping[str, Any], ctx: Mapping[str, Any], left_out: frozenset[str]
) -> Plan:
    current = TagState.of(backup)
    builder = _Builder(
        policy.limits,
        current,
        current.display_name,
        dict(current.freeform_tags),
        _copy_defined(current.defined_tags),
    )
    rules = [
        r
        for r in matching_rules(policy, backup, ctx.get("volume_group"), ctx.get("source"))
        if r.name not in left_out
    ]
    for rule in rules:
        builder.apply(rule, ctx)
    tags_changed = builder.freeform != current.freeform_tags or folded_defined(
        builder.defined
    ) != folded_defined(current.defined_tags)
    error = builder.limit_error() if tags_changed else None
    desired = TagState(builder.name, builder.freeform, builder.defined)
    writers = Writers(
        builder.name_writer,
        dict(builder.freeform_writers),
        {(fold(ns), fold(key)): rule for (ns, key), rule in builder.writers.items()},
    )
    result = Plan(
        str(backup.get("id", "")),
        current,
        desired,
        tuple(r.name for r in rules),
        tuple(builder.warnings),
        defined_writers=builder.writers,
        copied_defined=tuple(builder.copied_defined),
        writers=writers,
        member_tags=_member_tags(builder, policy.limits),
        kind=backup_kind(backup),
    )
    if error and (result.freeform_changed or result.defined_changed):
        return replace(
            result,
            desired=current,
            error=error,
            defined_writers={},
            copied_defined=(),
            writers=Writers(),
        )
    return result


def _member_tags(builder: _Builder, limits: Limits) -> MemberTags | None:
    if not (builder.member_freeform or builder.member_defined):
        return None
    return MemberTags(dict(builder.member_freeform), dict(builder.member_defined), limits)


def plan_member(member: Mapping[str, Any], group_plan: Plan) -> Plan:
    """A member backup's plan: the tags `members: tags` rules computed for its group backup, merged.

    Merged as always: nothing is removed, `overwrite: false` keeps a value the member carries,
    defined names match whatever their case, OCI's limits are checked. A member that already
    carries every tag is unchanged (no PUT). The display name is the member's own.
    """
    current = TagState.of(member)
    tags = group_plan.member_tags
    if tags is None:
        return Plan(str(member.get("id", "")), current, current, (), kind=backup_kind(member))
    builder = _Builder(
        tags.limits,
        current,
        current.display_name,
        dict(current.freeform_tags),
        _copy_defined(current.defined_tags),
    )
    for key, tag in tags.freeform.items():
        if tag.overwrite or key not in builder.freeform:
            builder.freeform[key] = tag.value
    for (ns, key), tag in tags.defined.items():
        ns_name, key_name = builder.defined_name(ns, key)
        if tag.overwrite or key_name not in builder.defined.get(ns_name, {}):
            builder.defined.setdefault(ns_name, {})[key_name] = tag.value
            builder.writers[(ns_name, key_name)] = tag.rule
    result = Plan(
        str(member.get("id", "")),
        current,
        TagState(builder.name, builder.freeform, builder.defined),
        tags.rules,
        defined_writers=builder.writers,
        kind=backup_kind(member),
    )
    if result.freeform_changed or result.defined_changed:
        error = builder.limit_error()
        if error:
            return replace(result, desired=current, error=error, defined_writers={})
    return result
