"""Match conditions: scalar equals, list any-of, {regex: P}, {exists: bool}; tag conditions by key."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.policy.fields import (
    BACKUP_FIELDS,
    KINDS,
    SOURCE_FIELDS,
    TAG_FIELDS,
    VOLUME_GROUP_FIELDS,
    backup_kind,
)
from sync.policy.regex import RegexBudget, RegexDeadline, RegexError
from sync.policy.tagnames import ci_get
from sync.printable import first_control, quote, shown_key

Scalar = str | int | float | bool
MAX_LIST_VALUES = 1000
MAX_TAG_CONDITIONS = 200  # per rule and tag kind; a backup carries at most 64 of each
MAX_CONDITIONS = 10_000  # per policy: 500 rules x 20; each costs memory and time on every plan


class Budget:
    """What one policy's conditions may still add up to (a count, and their regexes)."""

    def __init__(self, *, time_left: Callable[[], float] | None = None) -> None:
        self.conditions_left = MAX_CONDITIONS
        self.regex = RegexBudget(time_left=time_left)

    def take(self, path: str) -> None:
        self.conditions_left -= 1
        if self.conditions_left < 0:
            raise ConditionError(path, f"a policy may hold at most {MAX_CONDITIONS} conditions")


Test = Callable[[Any], bool]


class ConditionError(ValueError):
    """A condition that cannot be compiled; `path` is where in `match` it is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ConditionErrors(ConditionError):
    """Every condition of a `match` that cannot be compiled (`errors`: one `path: message` each)."""

    def __init__(self, errors: list[str], path: str) -> None:
        ValueError.__init__(self, "; ".join(errors))
        self.path = path
        self.errors = errors


def _near(key: object, known: list[str]) -> str:
    if not isinstance(key, str) or len(key) > 100:
        return ""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_SCALARS = (str, int, float, bool)  # a tuple: isinstance with a union is several times slower


def _is_scalar(value: object) -> bool:
    return isinstance(value, _SCALARS)


def _equals(expected: Scalar) -> Test:
    if isinstance(expected, str):
        # The common case (SCHEDULED, FULL, an OCID): plain string equality, no conversions.
        def test_str(actual: Any) -> bool:
            if actual.__class__ is str:
                return bool(actual == expected)
            return actual is not None and str(actual) == expected

        return test_str

    def test(actual: Any) -> bool:
        if actual is None:
            return False
        if isinstance(expected, bool) or isinstance(actual, bool):
            return actual is expected or str(actual).lower() == str(expected).lower()
        return bool(actual == expected or str(actual) == str(expected))

    return test


def _literal(path: str, value: Scalar) -> Scalar:
    """A value written in the policy: control characters would reach terminals and OCI raw."""
    if isinstance(value, str):
        control = first_control(value)
        if control:
            raise ConditionError(path, f"contains the control character {control}")
    return value


def _any_text(expected: frozenset[str]) -> Test:
    """A list of texts: the same answers as any(_equals(v)), by one set lookup."""

    def test(actual: Any) -> bool:
        if actual.__class__ is str:
            return actual in expected
        return actual is not None and str(actual) in expected

    return test


def compile_value(path: str, spec: Any, budget: Budget | None = None) -> Test:
    """One value condition; `None` input means the field is absent."""
    budget = budget or Budget()
    budget.take(path)
    if _is_scalar(spec):
        return _equals(_literal(path, spec))
    if isinstance(spec, list):
        if not spec:
            raise ConditionError(path, "an empty list matches nothing; remove the condition")
        if len(spec) > MAX_LIST_VALUES:
            raise ConditionError(
                path, f"{len(spec)} values; a list holds at most {MAX_LIST_VALUES} (use a regex)"
            )
        bad = [v for v in spec if not _is_scalar(v)]
        if bad:
            raise ConditionError(path, f"list items must be plain values, not {quote(bad[0])}")
        if all(v.__class__ is str for v in spec):
            _literal(path, "".join(spec))
            return _any_text(frozenset(spec))
        tests = [_equals(_literal(path, v)) for v in spec]
        return lambda actual: any(t(actual) for t in tests)
    if isinstance(spec, dict):
        if set(spec) == {"regex"}:
            pattern = spec["regex"]
            if not isinstance(pattern, str):
                raise ConditionError(f"{path}.regex", "must be text")
            _literal(f"{path}.regex", pattern)
            try:
                found = budget.regex.compile_search(pattern)
            except RegexDeadline:
                raise  # not a fault of this condition: the loader stops as a whole
            except RegexError as exc:
                raise ConditionError(f"{path}.regex", str(exc)) from None
            return lambda actual: actual is not None and found(str(actual))
        if set(spec) == {"exists"}:
            want = spec["exists"]
            if not isinstance(want, bool):
                raise ConditionError(f"{path}.exists", "must be true or false")
            return lambda actual: (actual is not None and actual != "") is want
        raise ConditionError(
            path,
            f"unknown condition keys {', '.join(sorted(shown_key(k) for k in spec)[:5])}:"
            " use a value, a list, {regex: P}"
            " or {exists: true|false}",
        )
    raise ConditionError(path, f"unsupported condition {quote(spec)}")


def _getter(where: tuple[str, ...]) -> Callable[[Any], Any]:
    """A reader for one field or tag; isinstance(dict), not Mapping: the ABC check was slow."""
    if len(where) == 1:
        (field_name,) = where
        return lambda r: r.get(field_name) if isinstance(r, dict) else None

    if where[0] == "defined_tags":
        # Defined tag names compare case-insensitively, as OCI compares them.
        _, ns, key = where

        def get_defined(resource: Any) -> Any:
            tags = resource.get("defined_tags") if isinstance(resource, dict) else None
            return ci_get(ci_get(tags, ns), key)

        return get_defined

    def get(resource: Any) -> Any:
        current = resource
        for part in where:
            current = current.get(part) if isinstance(current, dict) else None
        return current

    return get


@dataclass(frozen=True)
class FieldCondition:
    """A condition on one resource: a field, a freeform key, or a defined namespace.key."""

    path: str
    where: tuple[str, ...]  # ("display_name",), ("freeform_tags", k), ("defined_tags", ns, k)
    test: Test
    get: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "get", _getter(self.where))

    def holds(self, resource: Mapping[str, Any] | None) -> bool:
        return self.test(self.get(resource))


@dataclass(frozen=True)
class Match:
    """Every condition must hold; volume group and source conditions need that resource."""

    backup: tuple[FieldCondition, ...] = ()
    volume_group: tuple[FieldCondition, ...] = ()
    kinds: frozenset[str] | None = None  # None: every kind
    source: tuple[FieldCondition, ...] = ()

    def can_match(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    def holds_for_backup(self, backup: Mapping[str, Any]) -> bool:
        if self.kinds is not None and backup_kind(backup) not in self.kinds:
            return False
        for c in self.backup:  # a plain loop: this runs rules x backups times
            if not c.test(c.get(backup)):
                return False
        return True

    def holds(
        self,
        backup: Mapping[str, Any],
        volume_group: Mapping[str, Any] | None,
        source: Mapping[str, Any] | None = None,
    ) -> bool:
        if not self.holds_for_backup(backup):
            return False
        for conditions, resource in ((self.volume_group, volume_group), (self.source, source)):
            if not conditions:
                continue
            if resource is None:
                return False
            for c in conditions:
                if not c.test(c.get(resource)):
                    return False
        return True


def _compile_kind(path: str, spec: Any) -> frozenset[str]:
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        raise ConditionError(path, "an empty list matches nothing; remove the condition")
    bad = [v for v in values if v not in KINDS]
    if bad:
        raise ConditionError(path, f"unknown kind {quote(bad[0])}; kinds: {', '.join(KINDS)}")
    return frozenset(values)


@dataclass
class _Compiled:
    own: list[FieldCondition] = field(default_factory=list)
    volume_group: list[FieldCondition] = field(default_factory=list)
    source: list[FieldCondition] = field(default_factory=list)
    kinds: frozenset[str] | None = None


_NESTED = {"volume_group": VOLUME_GROUP_FIELDS, "source": SOURCE_FIELDS}


def _compile_resource(prefix: str, spec: Any, fields: frozenset[str], top: bool, budget: Budget) -> _Compiled:
    """Every condition of one resource; ConditionErrors listing each one that does not compile."""
    if not isinstance(spec, dict):
        raise ConditionError(prefix, "must be a mapping of field: condition")
    out = _Compiled()
    errors: list[str] = []
    first_path = ""
    for key, value in spec.items():
        path = f"{prefix}.{shown_key(key)}"
        try:
            _compile_one(out, path, key, value, fields, top, budget)
        except ConditionErrors as exc:
            errors.extend(exc.errors)
            first_path = first_path or exc.path
        except ConditionError as exc:
            errors.append(str(exc))
            first_path = first_path or exc.path
    if errors:
        raise ConditionErrors(errors, first_path)
    return out


def _compile_one(
    out: _Compiled, path: str, key: Any, value: Any, fields: frozenset[str], top: bool, budget: Budget
) -> None:
    if top and key in _NESTED:
        nested = _compile_resource(path, value, _NESTED[key], False, budget)
        (out.volume_group if key == "volume_group" else out.source).extend(nested.own)
    elif top and key == "kind":
        budget.take(path)
        out.kinds = _compile_kind(path, value)
    elif key == "freeform_tags":
        out.own.extend(_compile_freeform(path, value, budget))
    elif key == "defined_tags":
        out.own.extend(_compile_defined(path, value, budget))
    elif key in fields and key not in TAG_FIELDS and key != "kind":
        out.own.append(FieldCondition(path, (key,), compile_value(path, value, budget)))
    else:
        known = sorted(fields | (set(_NESTED) | {"kind"} if top else set()))
        raise ConditionError(
            path, f"unknown field {quote(key)}{_near(key, known)}; known: {', '.join(known)}"
        )


def _too_many(path: str, count: int) -> None:
    if count > MAX_TAG_CONDITIONS:
        raise ConditionError(path, f"{count} tag conditions; the limit is {MAX_TAG_CONDITIONS}")


def _compile_freeform(path: str, spec: Any, budget: Budget) -> list[FieldCondition]:
    if not isinstance(spec, dict) or not spec:
        raise ConditionError(path, "must map tag keys to conditions, e.g. {env: prod}")
    _too_many(path, len(spec))
    return [
        FieldCondition(
            f"{path}.{shown_key(k)}",
            ("freeform_tags", str(k)),
            compile_value(f"{path}.{shown_key(k)}", v, budget),
        )
        for k, v in spec.items()
    ]


def _compile_defined(path: str, spec: Any, budget: Budget) -> list[FieldCondition]:
    if not isinstance(spec, dict) or not spec:
        raise ConditionError(path, "must map namespaces to keys to conditions")
    _too_many(path, sum(len(keys) if isinstance(keys, dict) else 1 for keys in spec.values()))
    out: list[FieldCondition] = []
    for ns, keys in spec.items():
        if not isinstance(keys, dict) or not keys:
            raise ConditionError(f"{path}.{shown_key(ns)}", "must map tag keys to conditions")
        for k, v in keys.items():
            p = f"{path}.{shown_key(ns)}.{shown_key(k)}"
            out.append(FieldCondition(p, ("defined_tags", str(ns), str(k)), compile_value(p, v, budget)))
    return out


def compile_match(spec: Mapping[str, Any] | None, budget: Budget | None = None) -> Match:
    """Compile a rule's `match`; raise ConditionError naming the first bad path."""
    if not spec:
        return Match()
    c = _compile_resource("match", dict(spec), BACKUP_FIELDS, True, budget or Budget())
    return Match(tuple(c.own), tuple(c.volume_group), c.kinds, tuple(c.source))
