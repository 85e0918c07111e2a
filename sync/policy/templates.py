"""The `${name|filter:arg}` template language: parsed and checked once, rendered many times."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.policy.fields import ROOTS, TAG_FIELDS
from sync.policy.tagnames import ci_get
from sync.printable import first_control, quote

MAX_TEMPLATE_LENGTH = 1024

_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
_SEGMENT = re.compile(r"[A-Za-z0-9_\-:@+/=]+")
_NUMBER = re.compile(r"[0-9]{1,4}")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_SAMPLE_DATE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class TemplateError(ValueError):
    """A template that cannot be loaded; the message says what and where."""


class _Missing:
    """The value of a known name that is absent on this resource."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
Value = Any  # str, int, float, bool, datetime, list, or MISSING


@dataclass(frozen=True)
class Filter:
    name: str
    arg: str | None
    apply: Callable[[Value, list[str]], Value]


@dataclass(frozen=True)
class Reference:
    """One `${...}`: a dotted name and its filters."""

    path: tuple[str, ...]
    filters: tuple[Filter, ...]
    source: str

    @property
    def root(self) -> str:
        return self.path[0]


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and references, in order."""

    source: str
    parts: tuple[str | Reference, ...]
    references: tuple[Reference, ...] = field(default=())

    def needs(self, root: str) -> bool:
        return any(ref.root == root for ref in self.references)

    def render(self, context: Mapping[str, Mapping[str, Any] | None]) -> Rendered:
        """Render against {"backup": ..., "volume_group": ..., "event": ...}.

        A reference whose value is missing after its filters makes the whole
        template missing: the caller skips that tag or name with a warning.
        """
        out: list[str] = []
        warnings: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _lookup(context, part.path)
            for flt in part.filters:
                value = flt.apply(value, warnings)
            if value is MISSING:
                return Rendered(None, tuple(warnings), missing=part.source)
            out.append(_to_text(value))
        return Rendered("".join(out), tuple(warnings))


@dataclass(frozen=True)
class Rendered:
    text: str | None  # None: missing, skip it
    warnings: tuple[str, ...] = ()
    missing: str | None = None  # the placeholder that had no value


def _to_text(value: Value) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_to_text(v) for v in value)
    return str(value)


def _lookup(context: Mapping[str, Mapping[str, Any] | None], path: tuple[str, ...]) -> Value:
    # Plain dict lookups only: a path can never reach an attribute of a Python object.
    current: Any = context.get(path[0])
    for depth, segment in enumerate(path[1:], start=1):
        if not isinstance(current, dict):
            return MISSING
        if segment not in current and depth >= 2 and path[1] == "defined_tags":
            # Defined tag names compare case-insensitively, as OCI compares them.
            current = ci_get(current, segment)
            if current is None:
                return MISSING
            continue
        if segment not in current:
            return MISSING
        current = current[segment]
    if current is None or current == "":
        return MISSING
    return current


def parse_datetime(value: Value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


# Filters. Each takes the value (possibly MISSING) and a list to append warnings to.


def _lower(value: Value, _w: list[str]) -> Value:
    return value if value is MISSING else _to_text(value).lower()


def _upper(value: Value, _w: list[str]) -> Value:
    return value if value is MISSING else _to_text(value).upper()


def _slug(value: Value, _w: list[str]) -> Value:
    if value is MISSING:
        return value
    text = unicodedata.normalize("NFKD", _to_text(value)).encode("ascii", "ignore").decode()
    slug = _SLUG_DROP.sub("-", text.lower()).strip("-")
    return slug or MISSING


def _make_date(fmt: str) -> Callable[[Value, list[str]], Value]:
    def apply(value: Value, warnings: list[str]) -> Value:
        if value is MISSING:
            return value
        when = parse_datetime(value)
        if when is None:
            warnings.append(f"date filter: {quote(_to_text(value), 64)} is not a date")
            return MISSING
        return when.strftime(fmt)

    return apply


def _make_default(text: str) -> Callable[[Value, list[str]], Value]:
    def apply(value: Value, _w: list[str]) -> Value:
        return text if value is MISSING else value

    return apply


def _make_truncate(n: int) -> Callable[[Value, list[str]], Value]:
    def apply(value: Value, _w: list[str]) -> Value:
        return value if value is MISSING else _to_text(value)[:n]

    return apply


FILTER_NAMES = ("lower", "upper", "date", "default", "truncate", "slug")


def _build_filter(spec: str) -> Filter:
    name, sep, arg = spec.partition(":")
    name = name.strip()
    if name in ("lower", "upper", "slug"):
        if sep:
            raise TemplateError(f"filter {quote(name)} takes no argument")
        fn = {"lower": _lower, "upper": _upper, "slug": _slug}[name]
        return Filter(name, None, fn)
    if name == "date":
        if not arg:
            raise TemplateError("filter 'date' needs a format, e.g. date:%Y%m%d")
        if "%" not in arg:
            raise TemplateError(f"filter 'date:{arg}' has no % directive")
        try:
            _SAMPLE_DATE.strftime(arg)
        except ValueError as exc:
            raise TemplateError(f"filter 'date:{arg}': {exc}") from None
        return Filter(name, arg, _make_date(arg))
    if name == "default":
        if not sep:
            raise TemplateError("filter 'default' needs a text, e.g. default:unassigned")
        return Filter(name, arg, _make_default(arg))
    if name == "truncate":
        if not _NUMBER.fullmatch(arg) or int(arg) == 0:
            raise TemplateError(f"filter 'truncate' needs a whole number from 1 to 9999, not {quote(arg)}")
        return Filter(name, arg, _make_truncate(int(arg)))
    raise TemplateError(
        f"unknown filter {quote(name)}{_near(name, FILTER_NAMES)}; known filters: {', '.join(FILTER_NAMES)}"
    )


def _near(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, or ''."""
    if len(name) > 100:
        return ""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_path(path: tuple[str, ...], source: str) -> None:
    root = path[0]
    if root not in ROOTS:
        raise TemplateError(
            f"unknown name {quote(source)}{_near(root, ROOTS)}: names start with "
            + ", ".join(f"{r}." for r in ROOTS)
        )
    if len(path) < 2:
        raise TemplateError(f"unknown name {quote(source)}: say which field, e.g. {root}.display_name")
    for segment in path[1:]:
        if not _SEGMENT.fullmatch(segment) or segment.startswith("__"):
            raise TemplateError(f"unknown name {quote(source)}: {quote(segment)} is not a field or tag key")
    fld = path[1]
    if fld not in ROOTS[root]:
        known = ", ".join(sorted(ROOTS[root]))
        raise TemplateError(
            f"unknown name {quote(source)}: {root} has no field {quote(fld)}{_near(fld, ROOTS[root])}"
            f" (known: {known})"
        )
    if fld == "freeform_tags" and len(path) != 3:
        raise TemplateError(f"unknown name {quote(source)}: write {root}.freeform_tags.<key>")
    if fld == "defined_tags" and len(path) != 4:
        raise TemplateError(f"unknown name {quote(source)}: write {root}.defined_tags.<namespace>.<key>")
    if fld not in TAG_FIELDS and len(path) != 2:
        raise TemplateError(f"unknown name {quote(source)}: {root}.{fld} has no sub-fields")


@functools.lru_cache(maxsize=4096)  # policies repeat templates; a Template is immutable
def parse_template(source: str) -> Template:
    """Parse and check a template; raise TemplateError with a clear message."""
    if not isinstance(source, str):
        raise TemplateError(f"a template must be text, not {type(source).__name__}")
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"template is {len(source)} characters; the limit is 1024")
    control = first_control(source)
    if control:
        raise TemplateError(f"contains the control character {control}")
    parts: list[str | Reference] = []
    refs: list[Reference] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(source):
        parts.append(source[pos : m.start()])
        refs.append(_parse_reference(m.group(1)))
        parts.append(refs[-1])
        pos = m.end()
    parts.append(source[pos:])
    for literal in parts:
        if isinstance(literal, str) and ("{" in literal or "}" in literal or "${" in literal):
            raise TemplateError(
                f"template {quote(source)}: braces are only allowed as ${{name}} placeholders"
                " (nothing else is evaluated)"
            )
    kept = tuple(p for p in parts if not (isinstance(p, str) and p == ""))
    return Template(source, kept, tuple(refs))


@functools.lru_cache(maxsize=4096)
def _parse_reference(body: str) -> Reference:
    if not body.strip():
        raise TemplateError("empty placeholder ${}")
    name, *filter_specs = body.split("|")
    name = name.strip()
    path = tuple(name.split("."))
    _check_path(path, name)
    filters = tuple(_build_filter(spec) for spec in filter_specs)
    return Reference(path, filters, body)
