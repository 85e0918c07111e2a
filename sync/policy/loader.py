"""The tag policy loader: structure first (schema.py), then meaning; the compiled Policy and its Rules."""

from __future__ import annotations

import difflib
import functools
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sync.policy.conditions import Budget, ConditionError, ConditionErrors, Match, compile_match
from sync.policy.errors import PolicyError, PolicyTimeout
from sync.policy.fields import GROUP_KIND
from sync.policy.limits import Limits, is_valid_tag_key, tag_data_bytes
from sync.policy.regex import RegexDeadline
from sync.policy.schema import MAX_RULES, CopyTags, LimitsSpec, PolicySpec, RuleSpec, TemplateText
from sync.policy.tagnames import fold
from sync.policy.templates import Template, TemplateError, parse_template
from sync.policy.text import MAX_POLICY_BYTES, parse_text
from sync.printable import clip, first_control, quote, shown_key

__all__ = [
    "MAX_POLICY_BYTES",
    "Policy",
    "PolicyError",
    "PolicyTimeout",
    "Rule",
    "TimeLeft",
    "load_policy",
    "load_policy_file",
]

# Seconds left before the caller's deadline (e.g. the function's Deadline.remaining).
TimeLeft = Callable[[], float]


_STATE_FIELDS = frozenset({"display_name", "freeform_tags", "defined_tags"})


@dataclass(frozen=True)
class CopyPlan:
    freeform: bool
    defined: bool
    namespaces: frozenset[str] | None  # None: every namespace but Oracle-Tags


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    display_name: Template | None
    freeform_tags: Mapping[str, Template]
    defined_tags: Mapping[str, Mapping[str, Template]]
    copy: CopyPlan | None
    overwrite: bool
    members: str | None = None  # "tags": a group backup's members get this rule's tags too

    def templates(self) -> list[Template]:
        out = [self.display_name] if self.display_name else []
        out.extend(self.freeform_tags.values())
        out.extend(t for keys in self.defined_tags.values() for t in keys.values())
        return out

    @property
    def reads_backup_state(self) -> bool:
        """Whether this rule tests or renders the backup's name or tags."""
        if any(c.where[0] in _STATE_FIELDS for c in self.match.backup):
            return True
        return any(
            ref.root == "backup" and ref.path[1] in _STATE_FIELDS
            for t in self.templates()
            for ref in t.references
        )

    @property
    def needs_volume_group(self) -> bool:
        """True when this rule reads the volume group (conditions, templates or copied tags)."""
        return (
            bool(self.match.volume_group)
            or self.copy is not None
            or any(t.needs("volume_group") for t in self.templates())
        )

    @property
    def needs_source(self) -> bool:
        """True when this rule reads `source.*`: the volume, boot volume or volume group backed up."""
        return bool(self.match.source) or any(t.needs("source") for t in self.templates())

    @property
    def needs_group_backup(self) -> bool:
        """True when this rule reads `group_backup.*`: the group backup a member belongs to."""
        return any(t.needs("group_backup") for t in self.templates())


@dataclass(frozen=True)
class Policy:
    mode: str
    rules: tuple[Rule, ...]
    limits: Limits
    origin: str = "policy"
    warnings: tuple[str, ...] = field(default=())

    @functools.cached_property
    def reads_own_output(self) -> bool:
        """Whether a rule tests or renders the backup's name or tags, which the policy may write."""
        return any(rule.reads_backup_state for rule in self.rules)


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        text = shown_key(part)
        out += f"[{part}]" if isinstance(part, int) else (f".{text}" if out else text)
    return out


def _rule_label(data: Any, loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        name = None
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            rules = data["rules"]
            if index < len(rules) and isinstance(rules[index], dict):
                name = rules[index].get("name")
        return f"rule {quote(name, 100)} (rules[{index}])" if isinstance(name, str) else f"rules[{index}]"
    return "policy"


# The keys each part of a policy may hold, for "did you mean" on a near miss.
_KNOWN_KEYS: Mapping[str, tuple[str, ...]] = {
    "policy": tuple(PolicySpec.model_fields),
    "rule": tuple(RuleSpec.model_fields),
    "copy_tags_from_volume_group": tuple(CopyTags.model_fields),
    "limits": tuple(LimitsSpec.model_fields),
}


def did_you_mean(key: object, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near-miss key, or ''."""
    if not isinstance(key, str) or len(key) > 100:
        return ""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _structure_errors(label: str, part: str, exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[str]:
    """One line per pydantic error: `label: field.path: message`, with suggestions for unknown keys."""
    lines = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        field_path = _loc_to_path(loc)
        # Union members repeat the same complaint; keep the path readable.
        field_path = ".".join(p for p in field_path.split(".") if p not in {"str", "int", "float"})
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            where = str(loc[-2]) if len(loc) >= 2 and str(loc[-2]) in _KNOWN_KEYS else part
            msg = "unknown key" + (
                did_you_mean(loc[-1], _KNOWN_KEYS.get(where, ())) or " (check the spelling)"
            )
        lines.append(f"{label}: {field_path or '(top level)'}: {msg}")
    return list(dict.fromkeys(lines))


def _template(errors: list[str], label: str, path: str, value: TemplateText) -> Template | None:
    if isinstance(value, int) and value.bit_length() > 256:
        errors.append(f"{label}: {path}: {quote(value)} is too long for a name or tag value")
        return None
    try:
        return parse_template(str(value))
    except TemplateError as exc:
        errors.append(f"{label}: {path}: {exc}")
        return None


def _compile_rule(
    spec: RuleSpec, index: int, limits: Limits, errors: list[str], budget: Budget, *, partial: bool = False
) -> Rule | None:
    """The rule, or None with its problems in `errors`; `partial`: some fields were already refused."""
    label = _label(spec.name, index)
    before = len(errors)
    control = first_control(spec.name)
    if control:
        errors.append(f"{label}: name: contains the control character {control}")
    try:
        match = compile_match(spec.match, budget)
    except ConditionErrors as exc:
        errors.extend(f"{label}: {e}" for e in exc.errors)
        match = Match()
    except ConditionError as exc:
        errors.append(f"{label}: {exc}")
        match = Match()
    name_t = None
    if spec.display_name is not None:
        name_t = _template(errors, label, "display_name", spec.display_name)
    freeform: dict[str, Template] = {}
    defined_count = sum(len(keys) for keys in spec.defined_tags.values())
    for what, count, most in (
        ("freeform_tags", len(spec.freeform_tags), limits.freeform_tags_max),
        ("defined_tags", defined_count, limits.defined_tags_max),
    ):
        if count > most:  # no backup could carry them: say so once, not per tag
            errors.append(f"{label}: {what}: {count} tags; a backup carries at most {most}")
            return None
    for key, value in spec.freeform_tags.items():
        if not is_valid_tag_key(key, limits.freeform_key_max):
            errors.append(
                f"{label}: freeform_tags.{shown_key(key)}: a tag key is 1-{limits.freeform_key_max}"
                " printable ASCII characters without '.' or space"
            )
        t = _template(errors, label, f"freeform_tags.{shown_key(key)}", value)
        if t:
            freeform[key] = t
    defined: dict[str, dict[str, Template]] = {}
    for ns, keys in spec.defined_tags.items():
        where = f"defined_tags.{shown_key(ns)}"
        if not is_valid_tag_key(ns, 100):
            errors.append(f"{label}: {where}: not a valid tag namespace name")
        if not keys:
            errors.append(f"{label}: {where}: no keys given")
        for key, value in keys.items():
            if not is_valid_tag_key(key, 100):
                errors.append(f"{label}: {where}.{shown_key(key)}: not a valid defined tag key")
            t = _template(errors, label, f"{where}.{shown_key(key)}", value)
            if t:
                defined.setdefault(ns, {})[key] = t
    literal_error = _literal_size_error(freeform, defined, limits)
    if literal_error:
        errors.append(f"{label}: {literal_error}")
    copy = _copy_plan(spec.copy_tags_from_volume_group)
    if not (name_t or freeform or defined or copy) and len(errors) == before and not partial:
        errors.append(
            f"{label}: sets nothing: give display_name, freeform_tags, defined_tags"
            " or copy_tags_from_volume_group"
        )
    if spec.members is not None:
        if not match.can_match(GROUP_KIND):
            errors.append(
                f"{label}: members: only a volume group backup has members, and this rule's kind"
                f" ({', '.join(sorted(match.kinds or ()))}) cannot match one"
            )
        elif not (freeform or defined) and len(errors) == before:
            errors.append(
                f"{label}: members: tags: the rule gives no freeform_tags or defined_tags to pass on"
            )
    if len(errors) != before or partial:
        return None
    return Rule(spec.name, match, name_t, freeform, defined, copy, spec.overwrite, spec.members)


def _literal_text(t: Template) -> str | None:
    return None if t.references else "".join(p for p in t.parts if isinstance(p, str))


def _literal_size_error(
    freeform: Mapping[str, Template], defined: Mapping[str, Mapping[str, Template]], limits: Limits
) -> str | None:
    """The rule's fixed values alone outgrow OCI's tag data budget: no backup could take them."""
    ff = {k: v for k, t in freeform.items() if (v := _literal_text(t)) is not None}
    df = {
        ns: {k: v for k, t in keys.items() if (v := _literal_text(t)) is not None}
        for ns, keys in defined.items()
    }
    size = tag_data_bytes(ff, df)
    if size <= limits.total_tags_bytes_max:
        return None
    return (
        f"freeform_tags/defined_tags: the fixed values alone take {size} bytes as UTF-8 JSON;"
        f" a backup's tags hold at most {limits.total_tags_bytes_max}"
    )


def _copy_plan(spec: bool | CopyTags) -> CopyPlan | None:
    if spec is False:
        return None
    if spec is True:
        return CopyPlan(True, True, None)
    assert isinstance(spec, CopyTags)
    if not spec.freeform and spec.defined is False:
        return None
    if isinstance(spec.defined, list):
        return CopyPlan(spec.freeform, bool(spec.defined), frozenset(spec.defined))
    return CopyPlan(spec.freeform, spec.defined, None)


def _idempotence_warnings(rules: tuple[Rule, ...]) -> list[str]:
    """Templates that read what the policy writes give a different answer on every run."""
    writes_name = any(r.display_name for r in rules)
    writes_ff = {k for r in rules for k in r.freeform_tags}
    # Defined names compare case-insensitively, as OCI compares them (and as the planner does).
    writes_def = {(fold(ns), fold(k)) for r in rules for ns, keys in r.defined_tags.items() for k in keys}
    warnings = []
    for rule in rules:
        for cond in rule.match.backup:
            w = cond.where
            if (
                (w[0] == "display_name" and writes_name)
                or (w[0] == "freeform_tags" and w[1] in writes_ff)
                or (w[0] == "defined_tags" and (fold(w[1]), fold(w[2])) in writes_def)
            ):
                warnings.append(
                    f"rule {rule.name!r}: {cond.path} tests a value this policy writes,"
                    " so the rule may stop matching after the first run"
                )
        for t in rule.templates():
            for ref in t.references:
                p = ref.path
                if p[0] != "backup":
                    continue
                hit = (
                    (p[1] == "display_name" and writes_name)
                    or (p[1] == "freeform_tags" and p[2] in writes_ff)
                    or (p[1] == "defined_tags" and (fold(p[2]), fold(p[3])) in writes_def)
                )
                if hit:
                    warnings.append(
                        f"rule {rule.name!r}: ${{{ref.source}}} reads a value this policy writes,"
                        " so each run may change it again (a rule whose value would change again"
                        " is not applied to that backup)"
                    )
    return list(dict.fromkeys(warnings))


def _kind_warnings(rules: tuple[Rule, ...]) -> list[str]:
    """A rule for every kind that reads the volume group finds none on volume and boot volume backups."""
    out = []
    for rule in rules:
        if rule.match.kinds is None and rule.needs_volume_group:
            out.append(
                f"rule {rule.name!r}: reads the volume group (volume_group.* or copy_tags_from_volume_group)"
                " but has no kind: volume and boot volume backups have none, so for them it"
                " skips those values; add `kind: volume_group_backup`, or read source.* instead"
            )
    return out


def load_policy(text: str | bytes, origin: str = "policy", *, time_left: TimeLeft | None = None) -> Policy:
    """Load a policy from YAML or JSON text; raise PolicyError listing every problem.

    With `time_left`, loading stops with PolicyTimeout (a PolicyError, but no verdict on the
    policy: do not cache it) once it returns <= 0; it is asked between rules and before each regex.
    """
    try:
        data = parse_text(text, origin)
    except PolicyError:
        raise
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise PolicyError(
            [f"policy could not be read: {type(exc).__name__}: {clip(str(exc))}"], origin
        ) from None
    if time_left is not None and time_left() <= 0:
        raise _timeout(origin)
    return policy_from_data(data, origin, time_left=time_left)


def policy_from_data(data: Any, origin: str = "policy", *, time_left: TimeLeft | None = None) -> Policy:
    """A policy from parsed data (dicts, lists, scalars); raise PolicyError listing every problem."""
    try:
        return _policy_from_data(data, origin, time_left)
    except RegexDeadline:
        raise _timeout(origin) from None
    except PolicyError:
        raise
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        # Every check above names what it refuses; this is the net for what none foresaw,
        # so that a bad policy is a `rejected` answer and a lint error, never a crash.
        raise PolicyError(
            [f"policy could not be read: {type(exc).__name__}: {clip(str(exc))}"], origin
        ) from None


def _unknown_keys(label: str, data: dict[Any, Any], known: Mapping[str, Any]) -> str | None:
    unknown = [k for k in data if k not in known]
    if len(unknown) <= 5:
        return None  # pydantic names each of them
    names = ", ".join(shown_key(k) for k in unknown[:5])
    return f"{label}: {len(unknown)} unknown keys ({names}, ...); known: {', '.join(known)}"


def _check_sizes(data: dict[Any, Any], origin: str) -> None:
    """Refuse, before validating each part, a policy whose size alone is wrong."""
    error = _unknown_keys("policy", data, PolicySpec.model_fields)
    rules = data.get("rules")
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        error = f"policy: rules: {len(rules)} rules; the limit is {MAX_RULES}"
    elif isinstance(rules, list):
        for i, rule in enumerate(rules):
            if isinstance(rule, dict):
                error = error or _unknown_keys(_rule_label(data, ("rules", i)), rule, RuleSpec.model_fields)
    if error:
        raise PolicyError([error], origin)


def _timeout(origin: str) -> PolicyTimeout:
    return PolicyTimeout(
        ["loading stopped: the time allowed for it ran out before every rule was checked"], origin
    )


def _label(name: object, index: int) -> str:
    return f"rule {quote(name, 100)} (rules[{index}])" if isinstance(name, str) else f"rules[{index}]"


def _rule_spec(raw: Any, index: int, errors: list[str]) -> tuple[RuleSpec | None, bool]:
    """(spec, partial): the rule as written, or what of it is well formed after its errors are listed."""
    label = _label(raw.get("name") if isinstance(raw, dict) else None, index)
    if not isinstance(raw, dict):
        errors.append(f"{label}: (top level): Input should be a valid dictionary")
        return None, False
    try:
        return RuleSpec.model_validate(raw), False
    except ValidationError as exc:
        errors.extend(_structure_errors(label, "rule", exc))
        bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
    # Check what is well formed too, so that one mistake does not hide the next ones.
    rest = {k: v for k, v in raw.items() if k in RuleSpec.model_fields and k not in bad}
    if "name" in bad or "name" not in rest:
        rest["name"] = "?"
    try:
        return RuleSpec.model_validate(rest), True
    except ValidationError:
        return None, True


def _policy_from_data(data: Any, origin: str, time_left: TimeLeft | None) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(
            [f"policy must be a mapping with version, mode and rules, not {type(data).__name__}"],
            origin,
        )
    _check_sizes(data, origin)
    errors: list[str] = []
    try:
        head = PolicySpec.model_validate(data)
        mode, limits_spec, raw_rules = head.mode, head.limits, head.rules
    except ValidationError as exc:
        errors.extend(_structure_errors("policy", "policy", exc))
        # Go on with what is well formed: the rules' own problems are listed too.
        mode = "first" if data.get("mode") == "first" else "all"
        try:
            limits_spec = LimitsSpec.model_validate(data.get("limits") or {})
        except ValidationError:
            limits_spec = LimitsSpec()
        rules_data = data.get("rules")
        raw_rules = rules_data if isinstance(rules_data, list) else []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rules):
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and name in seen:
            errors.append(f"{_label(name, i)}: name already used by rules[{seen[name]}]")
        elif isinstance(name, str):
            seen[name] = i
    limits = Limits(**limits_spec.model_dump())
    budget = Budget(time_left=time_left)  # one for the whole policy
    rules = []
    for i, raw in enumerate(raw_rules):
        if time_left is not None and time_left() <= 0:
            raise _timeout(origin)
        spec, partial = _rule_spec(raw, i, errors)
        if spec is not None:
            rules.append(_compile_rule(spec, i, limits, errors, budget, partial=partial))
    if errors:
        raise PolicyError(errors, origin)
    compiled = tuple(r for r in rules if r is not None)
    warnings = _idempotence_warnings(compiled) + _kind_warnings(compiled)
    return Policy(mode, compiled, limits, origin, tuple(warnings))


def load_policy_file(path: str) -> Policy:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would block the read
            raise PolicyError(["cannot read policy file: not a regular file"], path)
        with open(path, "rb") as fh:
            raw = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError([f"cannot read policy file: {exc.strerror}"], path) from None
    return load_policy(raw, path)
