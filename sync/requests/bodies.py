"""Request bodies the function accepts, parsed into one typed request (or a typed refusal)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sync.domain import jsonnumbers
from sync.domain.ocid import check_ocid
from sync.domain.resources import Kind
from sync.printable import clip, quote, shown_key
from sync.requests import since as since_parser

log = logging.getLogger("sync.requests")

MAX_BODY_BYTES = 1024 * 1024
MAX_CONTINUATION = 1000  # a sane ceiling on a self-invocation chain's depth counter

EVENT_PREFIX = "com.oraclecloud.blockvolumes."
# Event type -> (the kind of backup its resourceId names, whether it announces a copy).
# Names from Oracle's list of OCI event types (README, "Events"). That list has no copy event
# for volume group backups: a copied group backup is reached by a sweep in its region.
# `copyvolumegroupbackup.end`, accepted before that list was checked, is still handled as a
# copy in case such an event exists (an Events rule made by deploy/deploy.sh never asks for it).
EVENT_KINDS: dict[str, tuple[Kind, bool]] = {
    f"{EVENT_PREFIX}createvolumegroupbackup.end": (Kind.VOLUME_GROUP_BACKUP, False),
    f"{EVENT_PREFIX}createvolumebackup.end": (Kind.VOLUME_BACKUP, False),
    f"{EVENT_PREFIX}createbootvolumebackup.end": (Kind.BOOT_VOLUME_BACKUP, False),
    f"{EVENT_PREFIX}copyvolumebackup.end": (Kind.VOLUME_BACKUP, True),
    f"{EVENT_PREFIX}copybootvolumebackup.end": (Kind.BOOT_VOLUME_BACKUP, True),
    f"{EVENT_PREFIX}copyvolumegroupbackup.end": (Kind.VOLUME_GROUP_BACKUP, True),
}
HANDLED_EVENT_TYPES = frozenset(EVENT_KINDS)
BACKUP_OCID_TYPES = tuple(k.ocid_type for k in Kind)

_FAILED_WORDS = ("fail",)


@dataclass(frozen=True)
class EventInfo:
    """What templates may read as event.<field>."""

    event_type: str
    event_id: str | None
    event_time: str | None
    compartment_name: str | None
    resource_name: str | None
    copy: bool = False  # a copy event: the copy may live in another region than this function

    def as_context(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "event_id": self.event_id,
            "event_time": self.event_time,
            "compartment_name": self.compartment_name,
            "resource_name": self.resource_name,
        }


@dataclass(frozen=True)
class BackupRequest:
    backup_id: str
    dry_run: bool
    event: EventInfo | None = None


@dataclass(frozen=True)
class SweepRequest:
    compartment_id: str
    since: datetime | None = None
    dry_run: bool = False
    recursive: bool = False
    page: str | None = None
    continuation: int = 0  # how many invocations before this one carried the same sweep
    kinds: tuple[Kind, ...] | None = None  # None: every kind the policy can match
    available_only: bool = True  # defer backups that are not AVAILABLE (no PUT; counted `deferred`)


@dataclass(frozen=True)
class Ignored:
    reason: str
    backup_id: str | None = None


@dataclass(frozen=True)
class Rejected:
    error: str


Request = BackupRequest | SweepRequest | Ignored | Rejected


class _EventData(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    resource_id: str = Field(alias="resourceId", min_length=1)
    compartment_id: str | None = Field(default=None, alias="compartmentId")
    compartment_name: str | None = Field(default=None, alias="compartmentName")
    resource_name: str | None = Field(default=None, alias="resourceName")
    additional_details: dict[str, Any] | None = Field(default=None, alias="additionalDetails")


class _CloudEvent01(BaseModel):
    """The envelope OCI Events sends (CloudEvents 0.1)."""

    model_config = ConfigDict(extra="allow")

    eventType: str = Field(min_length=1)
    cloudEventsVersion: str | None = None
    eventID: str | None = None
    eventTime: str | None = None
    source: str | None = None
    data: dict[str, Any] | None = None


class _CloudEvent10(BaseModel):
    """CloudEvents 1.0, structured mode."""

    model_config = ConfigDict(extra="allow")

    specversion: str
    type: str = Field(min_length=1)
    id: str | None = None
    time: str | None = None
    source: str | None = None
    data: dict[str, Any] | None = None


class _Manual(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    volumeGroupBackupId: str
    dryRun: bool = False

    @field_validator("volumeGroupBackupId")
    @classmethod
    def _ocid(cls, v: str) -> str:
        return check_ocid(v, "volumegroupbackup")


class _ManualAnyKind(BaseModel):
    """`{"backupId": ...}`: a backup of any kind, named by its OCID."""

    model_config = ConfigDict(extra="forbid", strict=True)

    backupId: str
    dryRun: bool = False

    @field_validator("backupId")
    @classmethod
    def _ocid(cls, v: str) -> str:
        return check_ocid(v, *BACKUP_OCID_TYPES)


class _SweepBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    compartmentId: str
    since: datetime | None = Field(default=None, strict=False)
    dryRun: bool = False
    recursive: bool = False
    page: str | None = Field(default=None, max_length=4096)
    continuation: int = Field(default=0, ge=0, le=MAX_CONTINUATION)
    kinds: list[str] | None = Field(default=None, max_length=len(Kind))
    availableOnly: bool = True

    @field_validator("compartmentId")
    @classmethod
    def _ocid(cls, v: str) -> str:
        return check_ocid(v, "compartment", "tenancy")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str] | None) -> list[str] | None:
        valid = ", ".join(k.value for k in Kind)
        if v is not None and not v:
            raise ValueError(f"empty: name at least one of {valid}")
        bad = [k for k in v or () if k not in {k.value for k in Kind}]
        if bad:
            raise ValueError(f"unknown backup kind {quote(bad[0], 60)}; kinds: {valid}")
        return v

    @field_validator("since", mode="before")
    @classmethod
    def _since(cls, v: Any) -> datetime | None:
        # RFC 3339 or a duration ago (a schedule sends "2d"): the command line's parser.
        if v is None:
            return None
        if not isinstance(v, str):
            raise ValueError(f"must be a string: {since_parser.HINT}")
        try:
            return since_parser.parse_since(v, label="since", allow_date=False, assume_utc=False)
        except since_parser.SinceError as exc:
            raise ValueError(str(exc).removeprefix("since ")) from None


class _Sweep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sweep: _SweepBody


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(shown_key(p) for p in err["loc"]) or "(body)"
        msg = clip(err["msg"].removeprefix("Value error, "))
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def _failed(data: dict[str, Any]) -> str | None:
    """A failure flag in the event, where OCI might put one (its place is not confirmed)."""
    details = data.get("additionalDetails")
    for where in (data, details if isinstance(details, dict) else {}):
        for key, value in where.items():
            lowered = key.lower() if isinstance(key, str) else ""
            if lowered == "operationfailed" and value:
                return f"{shown_key(key)}={quote(value, 80)}"
            if (
                lowered in ("status", "operationstatus", "result")
                and isinstance(value, str)
                and any(word in value.lower() for word in _FAILED_WORDS)
            ):
                return f"{shown_key(key)}={quote(value, 80)}"
    return None


def _from_event(event_type: str, event_id: str | None, event_time: str | None, data: Any) -> Request:
    handled = EVENT_KINDS.get(event_type)
    if handled is None:
        return Ignored(f"event type {quote(event_type, 100)} is not handled")
    kind, copy = handled
    if not isinstance(data, dict):
        return Rejected("event has no data object")
    try:
        payload = _EventData.model_validate(data)
    except ValidationError as exc:
        return Rejected(f"event data: {_describe(exc)}")
    flag = _failed(data)
    try:
        check_ocid(payload.resource_id, kind.ocid_type)
    except ValueError as exc:
        if flag:  # a failed operation may name no backup at all: nothing to do either way
            return Ignored(f"the backup operation did not succeed ({flag})")
        return Rejected(f"event data.resourceId: {exc}")
    if flag:
        return Ignored(f"the backup operation did not succeed ({flag})", payload.resource_id)
    info = EventInfo(event_type, event_id, event_time, payload.compartment_name, payload.resource_name, copy)
    return BackupRequest(payload.resource_id, dry_run=False, event=info)


def decode_body(body: bytes | str) -> Any | Rejected:
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if len(body) > MAX_BODY_BYTES:
        return Rejected(f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    if not body.strip():
        return Rejected("request body is empty: send an OCI event, a manual or a sweep request")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(f"request body is not UTF-8 (bad byte at offset {exc.start})")
    try:
        return jsonnumbers.loads(text)
    except jsonnumbers.JSONDecodeError as exc:
        return Rejected(f"request body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except jsonnumbers.JsonNumberError as exc:
        return Rejected(f"request body: {exc}")
    except RecursionError:
        return Rejected("request body is nested too deeply")


def parse_request(body: bytes | str) -> Request:
    """Turn a request body into a typed request. Never raises."""
    try:
        return _parse(body)
    except Exception as exc:  # every case is handled below; this net keeps the promise
        log.exception("request body could not be parsed", extra={"error_type": type(exc).__name__})
        return Rejected(f"request body could not be read ({type(exc).__name__})")


def _parse(body: bytes | str) -> Request:
    obj = decode_body(body)
    if isinstance(obj, Rejected):
        return obj
    if not isinstance(obj, dict):
        return Rejected(f"request body must be a JSON object, not {type(obj).__name__}")
    try:
        if "eventType" in obj or "cloudEventsVersion" in obj:
            ev = _CloudEvent01.model_validate(obj)
            return _from_event(ev.eventType, ev.eventID, ev.eventTime, obj.get("data"))
        if "specversion" in obj:
            ev10 = _CloudEvent10.model_validate(obj)
            return _from_event(ev10.type, ev10.id, ev10.time, obj.get("data"))
        if "sweep" in obj:
            sw = _Sweep.model_validate(obj).sweep
            kinds = tuple(k for k in Kind if k.value in sw.kinds) if sw.kinds is not None else None
            return SweepRequest(
                sw.compartmentId, sw.since, sw.dryRun, sw.recursive, sw.page, sw.continuation, kinds,
                sw.availableOnly,
            )  # fmt: skip
        if "backupId" in obj:
            any_kind = _ManualAnyKind.model_validate(obj)
            return BackupRequest(any_kind.backupId, any_kind.dryRun)
        if "volumeGroupBackupId" in obj:
            manual = _Manual.model_validate(obj)
            return BackupRequest(manual.volumeGroupBackupId, manual.dryRun)
    except ValidationError as exc:
        return Rejected(_describe(exc))
    keys = ", ".join(sorted(shown_key(k) for k in obj)[:5]) or "none"
    return Rejected(
        "not an OCI event, a manual request ({backupId}) or a sweep request"
        f" ({{sweep: {{compartmentId}}}}); top-level keys: {keys}"
    )
