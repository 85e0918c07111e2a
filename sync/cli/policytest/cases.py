"""Test files read and checked: each case's backup, source, event, time and expectations, or one error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sync.domain.ocid import ocid_kind
from sync.policy.fields import from_api_json
from sync.policy.safe_yaml import YamlError
from sync.policy.safe_yaml import load as load_yaml
from sync.policy.templates import parse_datetime
from sync.printable import quote, shown_key
from sync.requests.bodies import BackupRequest, Ignored, Rejected, parse_request

MAX_FILE_BYTES = 10 * 1024 * 1024
SUFFIXES = (".yaml", ".yml", ".json")
# What a case's `status` may say; each is the function's answer for that case (README, "Testing a policy").
STATUSES = ("updated", "unchanged", "rejected", "ignored", "deferred")
# The backup kind from its OCID's resource type, as the planner's backup["kind"] names it.
KINDS = {
    "volumegroupbackup": "volume_group_backup",
    "volumebackup": "volume_backup",
    "bootvolumebackup": "boot_volume_backup",
}
CASE_KEYS = ("name", "now", "backup", "source", "group_backup", "event", "expect")
DEFAULT_KEYS = ("now", "backup", "source", "group_backup", "event")
EXPECT_KEYS = (
    "status",
    "display_name",
    "freeform_tags",
    "defined_tags",
    "absent",
    "matched_rules",
    "error",
    "warnings",
)


class CaseFileError(Exception):
    """A test file that cannot be run: the message names the file, the case and the field."""


@dataclass(frozen=True)
class Expect:
    """What must hold after the case runs; None or empty: not checked."""

    status: str | None = None
    display_name: str | None = None
    freeform_tags: Mapping[str, str] = field(default_factory=dict)
    defined_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    absent_freeform: tuple[str, ...] = ()
    absent_defined: tuple[tuple[str, str], ...] = ()
    matched_rules: tuple[str, ...] | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    file: str
    index: int
    name: str
    kind: str
    backup: dict[str, Any]  # snake_case, as the SDK's to_dict gives it, with "kind"
    source: dict[str, Any] | None
    group_backup: dict[str, Any] | None
    event: dict[str, Any] | None  # event.<field> names; None: a manual request
    ignored: str | None  # the event is one the function does not handle: why
    rejected: str | None  # the event is a body the function rejects: why
    now: str | None
    expect: Expect

    @property
    def label(self) -> str:
        return f"{self.file}: {self.name}"


class _Where:
    """Builds the error messages of one case: file, case name and index, field path."""

    def __init__(self, file: str, index: int | None = None, name: str | None = None) -> None:
        self.file = file
        self.index = index
        self.name = name

    def error(self, path: str, message: str) -> CaseFileError:
        if self.index is None:
            return CaseFileError(f"{self.file}: {path}: {message}")
        case = f"case {quote(self.name, 100)} (cases[{self.index}])" if self.name else f"cases[{self.index}]"
        return CaseFileError(f"{self.file}: {case}: {path}: {message}")


def find_files(paths: list[str]) -> list[Path]:
    """The files named, and the .yaml/.yml/.json files of each directory named (sorted)."""
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.exists():
            out.append(path)
        else:
            raise CaseFileError(f"{name}: no such file or directory")
    return out


def read_data(path: Path) -> Any:
    """A test file's data: JSON when it starts with `{`, else the policy's plain YAML."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CaseFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except YamlError as exc:
        raise CaseFileError(
            f"{path}: invalid YAML at {str(exc).replace('a policy', 'a test file')}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CaseFileError(f"{path}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise CaseFileError(f"{path}: nested too deeply") from None


def load_file(path: Path) -> list[Case]:
    """Every case of one file; CaseFileError naming the file, case and field of the first problem."""
    shown_path = str(path)
    data = read_data(path)
    top = _Where(shown_path)
    if not isinstance(data, dict):
        raise top.error("(top level)", "must be a mapping with `cases:` (and optionally `defaults:`)")
    _known(top, "", data, ("cases", "defaults"))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise top.error("defaults", "must be a mapping")
    _known(top, "defaults.", defaults, DEFAULT_KEYS)
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        raise top.error("cases", "must be a non-empty list of cases")
    out: list[Case] = []
    names: dict[str, int] = {}
    for index, raw in enumerate(cases):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = _Where(shown_path, index, name if isinstance(name, str) else None)
        case = _case(where, raw, defaults)
        if case.name in names:
            raise where.error("name", f"already used by cases[{names[case.name]}]")
        names[case.name] = index
        out.append(case)
    return out


def _known(where: _Where, prefix: str, data: Mapping[Any, Any], known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise where.error(f"{prefix}{shown_key(key)}", f"unknown key; known: {', '.join(known)}")


def _case(where: _Where, raw: Any, defaults: Mapping[str, Any]) -> Case:
    if not isinstance(raw, dict):
        raise where.error("(case)", "must be a mapping with name, backup and expect")
    _known(where, "", raw, CASE_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise where.error("name", "required: a non-empty text")
    now = raw.get("now", defaults.get("now"))
    if now is not None and (not isinstance(now, str) or parse_datetime(now) is None):
        raise where.error("now", f"must be an RFC 3339 time such as 2026-11-27T04:00:00Z, not {quote(now)}")
    merged = _merged(where, "backup", defaults.get("backup"), raw.get("backup"))
    if merged is None:
        raise where.error("backup", "required: the backup as OCI returns it (here or under defaults)")
    backup = from_api_json(merged)
    kind = _kind(where, backup)
    backup["kind"] = kind
    if now is not None:
        # A backup OCI returns always has these; a case that leaves them out was made at `now`.
        for time_field in ("time_created", "time_request_received"):
            if backup.get(time_field) is None:
                backup[time_field] = now
    _check_tags(where, "backup", backup)
    source = _optional(where, "source", defaults, raw)
    group_backup = _optional(where, "group_backup", defaults, raw)
    event, ignored, rejected = _event(where, raw.get("event", defaults.get("event")), backup, now)
    expect = _expect(where, raw.get("expect"))
    return Case(
        where.file,
        where.index or 0,
        name,
        kind,
        backup,
        source,
        group_backup,
        event,
        ignored,
        rejected,
        now,
        expect,
    )


def _unwrapped(where: _Where, what: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(what, "must be a mapping (the resource as OCI returns it)")
    # Both the API's bare resource and the oci CLI's {"data": {...}, "etag": ...} are accepted.
    if value and set(value) <= {"data", "etag"} and isinstance(value.get("data"), dict):
        return dict(value["data"])
    return dict(value)


def _merged(where: _Where, what: str, default: Any, own: Any) -> dict[str, Any] | None:
    """The defaults' resource with the case's fields over it (a field set to null is removed)."""
    if default is None and own is None:
        return None
    out = _unwrapped(where, f"defaults.{what}", default) if default is not None else {}
    if own is not None:
        out.update(_unwrapped(where, what, own))
    return {k: v for k, v in out.items() if v is not None}


def _optional(
    where: _Where, what: str, defaults: Mapping[str, Any], raw: Mapping[str, Any]
) -> dict[str, Any] | None:
    if what in raw and raw[what] is None:
        return None  # `source: null` in a case: none, whatever the defaults give
    merged = _merged(where, what, defaults.get(what), raw.get(what))
    if merged is None:
        return None
    resource = from_api_json(merged)
    _check_tags(where, what, resource)
    return resource


def _kind(where: _Where, backup: Mapping[str, Any]) -> str:
    backup_id = backup.get("id")
    if not isinstance(backup_id, str):
        raise where.error("backup.id", "required: the backup's OCID (its kind comes from it)")
    kind = KINDS.get(ocid_kind(backup_id) or "")
    if kind is None:
        raise where.error(
            "backup.id",
            f"{quote(backup_id, 100)} is not a backup OCID (ocid1.volumegroupbackup...,"
            " ocid1.volumebackup... or ocid1.bootvolumebackup...)",
        )
    return kind


def _check_tags(where: _Where, what: str, resource: Mapping[str, Any]) -> None:
    freeform = resource.get("freeform_tags")
    if freeform is not None and not (
        isinstance(freeform, dict) and all(isinstance(v, str) for v in freeform.values())
    ):
        raise where.error(f"{what}.freeformTags", "must map keys to text values")
    defined = resource.get("defined_tags")
    if defined is not None and not (
        isinstance(defined, dict) and all(isinstance(v, dict) for v in defined.values())
    ):
        raise where.error(f"{what}.definedTags", "must map namespaces to {key: value} mappings")


def _event(
    where: _Where, raw: Any, backup: Mapping[str, Any], now: str | None
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(event names, why ignored, why rejected) from the event as OCI Events delivers it."""
    if raw is None:
        return None, None, None
    if not isinstance(raw, dict):
        raise where.error("event", "must be the event as OCI Events delivers it (a mapping)")
    body = dict(raw)
    if now is not None:  # CloudEvents 0.1 (what OCI Events sends) names it eventTime; 1.0, time
        time_key = "time" if "specversion" in body else "eventTime"
        if body.get(time_key) is None:
            body[time_key] = now
    request = parse_request(json.dumps(body))
    if isinstance(request, Ignored):
        return None, request.reason, None
    if isinstance(request, Rejected):
        return None, None, request.error
    if not isinstance(request, BackupRequest):
        raise where.error("event", "a sweep request, not an event about one backup")
    if request.backup_id != backup.get("id"):
        raise where.error("event", f"is about {quote(request.backup_id, 100)}, not this case's backup.id")
    return (request.event.as_context() if request.event else None), None, None


def _text(where: _Where, path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise where.error(
            path, f"must be text (quote it: '{value}')" if value is not None else "must be text"
        )
    return value


def _text_map(where: _Where, path: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise where.error(path, "must map tag keys to values")
    return {str(k): _text(where, f"{path}.{shown_key(k)}", v) for k, v in value.items()}


def _text_list(where: _Where, path: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise where.error(path, "must be a list of texts")
    return tuple(_text(where, f"{path}[{i}]", v) for i, v in enumerate(value))


def _expect(where: _Where, raw: Any) -> Expect:
    if not isinstance(raw, dict) or not raw:
        raise where.error("expect", f"required: a mapping with any of {', '.join(EXPECT_KEYS)}")
    _known(where, "expect.", raw, EXPECT_KEYS)
    status = raw.get("status")
    if status is not None and status not in STATUSES:
        raise where.error("expect.status", f"must be one of {', '.join(STATUSES)}, not {quote(status)}")
    display_name = raw.get("display_name")
    if display_name is not None:
        display_name = _text(where, "expect.display_name", display_name)
    freeform = _text_map(where, "expect.freeform_tags", raw.get("freeform_tags") or {})
    defined_raw = raw.get("defined_tags") or {}
    if not isinstance(defined_raw, dict):
        raise where.error("expect.defined_tags", "must map namespaces to {key: value}")
    defined = {
        str(ns): _text_map(where, f"expect.defined_tags.{shown_key(ns)}", keys)
        for ns, keys in defined_raw.items()
    }
    absent_ff, absent_def = _absent(where, raw.get("absent") or {})
    rules = raw.get("matched_rules")
    matched = None if rules is None else _text_list(where, "expect.matched_rules", rules)
    error = raw.get("error")
    if error is not None:
        error = _text(where, "expect.error", error)
    warnings = _text_list(where, "expect.warnings", raw.get("warnings") or [])
    return Expect(status, display_name, freeform, defined, absent_ff, absent_def, matched, error, warnings)


def _absent(where: _Where, raw: Any) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    if not isinstance(raw, dict):
        raise where.error(
            "expect.absent", "must be {freeform_tags: [keys], defined_tags: {namespace: [keys]}}"
        )
    _known(where, "expect.absent.", raw, ("freeform_tags", "defined_tags"))
    freeform = _text_list(where, "expect.absent.freeform_tags", raw.get("freeform_tags") or [])
    defined_raw = raw.get("defined_tags") or {}
    if not isinstance(defined_raw, dict):
        raise where.error("expect.absent.defined_tags", "must map namespaces to lists of keys")
    defined = tuple(
        (str(ns), key)
        for ns, keys in defined_raw.items()
        for key in _text_list(where, f"expect.absent.defined_tags.{shown_key(ns)}", keys)
    )
    return freeform, defined
