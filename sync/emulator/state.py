"""In-memory OCI state and the API operations on it, independent of HTTP."""

from __future__ import annotations

import base64
import binascii
import copy
import email.utils
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.policy.limits import OCI_LIMITS, Limits, is_valid_tag_key

SAMPLE_SEED_PATH = Path(__file__).with_name("sample_seed.json")

TRANSITIONAL_STATES = frozenset({"REQUEST_RECEIVED", "CREATING"})
UPDATE_FIELDS = frozenset(
    {
        "displayName",
        "freeformTags",
        "definedTags",
        "retentionPeriod",
        "isPreventDeletionEnabled",
        "isRetentionLockEnabled",
        "isIndefiniteRetentionEnabled",
    }
)
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100

Json = dict[str, Any]


class EmulatorError(Exception):
    """An API error as OCI reports it: HTTP status plus a JSON {code, message}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NotModified(EmulatorError):
    """Object Storage's 304: the client's if-none-match matched the current etag."""

    def __init__(self, etag: str) -> None:
        super().__init__(304, "NotModified", "The object has not been modified")
        self.etag = etag


@dataclass(frozen=True)
class StoredObject:
    """One Object Storage object as GetObject returns it."""

    data: bytes
    etag: str
    content_type: str
    last_modified: str


@dataclass
class RequestRecord:
    """One request as the emulator saw it (credentials are never recorded)."""

    operation: str
    method: str
    path: str
    status: int
    opc_request_id: str
    if_match: str | None = None
    body: str | None = None
    time: float = field(default_factory=time.time)
    fault: str | None = None
    client_request_id: str | None = None

    def to_dict(self) -> Json:
        return asdict(self)


@dataclass
class _Resource:
    data: Json
    version: int = 1
    available_at: float | None = None
    gets_left: int | None = None

    @property
    def etag(self) -> str:
        raw = f"{self.data['id']}:{self.version}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass
class _Object:
    data: bytes
    content_type: str
    version: int
    last_modified: float


def _not_found(kind: str, ident: str) -> EmulatorError:
    return EmulatorError(
        404,
        "NotAuthorizedOrNotFound",
        f"Authorization failed or requested resource not found: {kind} {ident}",
    )


def _invalid(message: str) -> EmulatorError:
    return EmulatorError(400, "InvalidParameter", message)


def _time_key(value: Any) -> str:
    """A fixed-width UTC string, so that string order is time order."""
    if not isinstance(value, str) or not value:
        return "0000-00-00T00:00:00.000000"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _encode_token(payload: list[str]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, expected_len: int) -> list[str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise _invalid("The page token is invalid") from exc
    if (
        not isinstance(value, list)
        or len(value) != expected_len
        or not all(isinstance(v, str) for v in value)
    ):
        raise _invalid("The page token is invalid")
    return value


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIST_LIMIT
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise _invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    return limit


def _page(
    items: list[tuple[tuple[str, str], Json]],
    descending: bool,
    tag: str,
    limit: int | None,
    page: str | None,
) -> tuple[list[Json], str | None]:
    """Keyset paging: the token names the last key served, so updates never shift a page."""
    size = _check_limit(limit)
    ordered = sorted(items, key=lambda kv: kv[0], reverse=descending)
    if page is not None:
        token_tag, sort_value, last_id = _decode_token(page, 3)
        if token_tag != tag:
            raise _invalid("The page token does not belong to this sort order")
        last = (sort_value, last_id)
        ordered = [kv for kv in ordered if (kv[0] < last if descending else kv[0] > last)]
    chunk = ordered[:size]
    next_page = None
    if len(ordered) > size:
        last_key = chunk[-1][0]
        next_page = _encode_token([tag, last_key[0], last_key[1]])
    return [copy.deepcopy(v) for _, v in chunk], next_page


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


class Backend:
    """All emulated resources, a request log and the operations; safe to share between threads."""

    def __init__(
        self,
        *,
        limits: Limits = OCI_LIMITS,
        creating_seconds: float | None = 2.0,
        creating_gets: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_log: int | None = 100_000,
    ) -> None:
        self.limits = limits
        self.creating_seconds = creating_seconds
        self.creating_gets = creating_gets
        self._clock = clock
        self._lock = threading.RLock()
        self._backups: dict[str, _Resource] = {}
        self._groups: dict[str, _Resource] = {}
        self._compartments: dict[str, Json] = {}
        self.tenancy_id: str | None = None
        self._tag_namespaces: dict[str, set[str]] = {}
        self._buckets: dict[tuple[str, str], dict[str, _Object]] = {}
        self._object_versions = 0
        # bounded so a long-running emulator does not grow without limit; oldest entries go first
        self._log: deque[RequestRecord] = deque(maxlen=max_log)
        self._other_writer_count = 0

    # ---- seeding -------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], **kwargs: Any) -> Backend:
        """Build a backend from a seed dict (the sample_seed.json format)."""
        lifecycle = seed.get("lifecycle") or {}
        kwargs.setdefault("creating_seconds", lifecycle.get("creatingSeconds", 2.0))
        kwargs.setdefault("creating_gets", lifecycle.get("creatingGets"))
        backend = cls(**kwargs)
        backend.load(seed)
        return backend

    def load(self, seed: Mapping[str, Any]) -> None:
        """Add everything in a seed dict to this backend."""
        with self._lock:
            if seed.get("tenancyId"):
                self.tenancy_id = str(seed["tenancyId"])
            for ns, keys in (seed.get("tagNamespaces") or {}).items():
                self.register_tag_namespace(ns, keys)
            for comp in seed.get("compartments") or []:
                self.add_compartment(comp)
            for group in seed.get("volumeGroups") or []:
                self.add_volume_group(group)
            for backup in seed.get("volumeGroupBackups") or []:
                self.add_volume_group_backup(backup)
            for bucket in seed.get("buckets") or []:
                self.create_bucket(bucket["namespace"], bucket["name"])
            for obj in seed.get("objects") or []:
                content = obj.get("content", "")
                data = content.encode() if isinstance(content, str) else bytes(content)
                self.put_object(
                    obj["namespace"],
                    obj["bucket"],
                    obj["name"],
                    data,
                    obj.get("contentType", "application/octet-stream"),
                    create_bucket=True,
                )

    def register_tag_namespace(self, namespace: str, keys: Iterable[str]) -> None:
        with self._lock:
            self._tag_namespaces.setdefault(namespace, set()).update(keys)

    def add_compartment(self, compartment: Mapping[str, Any]) -> None:
        comp: Json = {
            "description": "",
            "lifecycleState": "ACTIVE",
            "timeCreated": "2024-01-01T00:00:00.000Z",
            "freeformTags": {},
            "definedTags": {},
            "isAccessible": True,
            **copy.deepcopy(dict(compartment)),
        }
        with self._lock:
            self._compartments[comp["id"]] = comp

    def add_volume_group(self, group: Mapping[str, Any]) -> None:
        data: Json = {
            "lifecycleState": "AVAILABLE",
            "freeformTags": {},
            "definedTags": {},
            "volumeIds": [],
            "isHydrated": True,
            **copy.deepcopy(dict(group)),
        }
        data.pop("etag", None)
        with self._lock:
            self._groups[data["id"]] = _Resource(data)

    def add_volume_group_backup(
        self,
        backup: Mapping[str, Any],
        *,
        available_after_seconds: float | None = None,
        available_after_gets: int | None = None,
    ) -> None:
        """Add a backup; one in a transitional state becomes AVAILABLE per the lifecycle settings."""
        data: Json = {
            "lifecycleState": "AVAILABLE",
            "freeformTags": {},
            "definedTags": {},
            "volumeBackupIds": [],
            **copy.deepcopy(dict(backup)),
        }
        data.pop("etag", None)
        res = _Resource(data)
        with self._lock:
            self._arm_lifecycle(res, available_after_seconds, available_after_gets)
            self._backups[data["id"]] = res

    def _arm_lifecycle(self, res: _Resource, seconds: float | None, gets: int | None) -> None:
        if res.data["lifecycleState"] not in TRANSITIONAL_STATES:
            res.available_at = None
            res.gets_left = None
            return
        seconds = self.creating_seconds if seconds is None and gets is None else seconds
        gets = self.creating_gets if gets is None else gets
        res.available_at = None if seconds is None else self._clock() + seconds
        res.gets_left = gets

    def set_lifecycle_state(
        self,
        backup_id: str,
        state: str,
        *,
        available_after_seconds: float | None = None,
        available_after_gets: int | None = None,
    ) -> None:
        """Admin: put a backup in a state (e.g. CREATING) as the service would."""
        with self._lock:
            res = self._backup(backup_id)
            res.data["lifecycleState"] = state
            res.version += 1
            self._arm_lifecycle(res, available_after_seconds, available_after_gets)

    def _advance(self, res: _Resource, counts_as_get: bool) -> None:
        if res.data["lifecycleState"] not in TRANSITIONAL_STATES:
            return
        done = res.available_at is not None and self._clock() >= res.available_at
        if res.gets_left is not None and counts_as_get:
            if res.gets_left <= 0:
                done = True
            else:
                res.gets_left -= 1
        if done:
            res.data["lifecycleState"] = "AVAILABLE"
            res.available_at = None
            res.gets_left = None
            res.version += 1

    # ---- Block Storage ---------------------------------------------------------------------

    def _backup(self, backup_id: str) -> _Resource:
        res = self._backups.get(backup_id)
        if res is None:
            raise _not_found("volume group backup", backup_id)
        return res

    def get_volume_group_backup(self, backup_id: str) -> tuple[Json, str]:
        with self._lock:
            res = self._backup(backup_id)
            self._advance(res, counts_as_get=True)
            return copy.deepcopy(res.data), res.etag

    def update_volume_group_backup(self, backup_id: str, body: Any, if_match: str | None) -> tuple[Json, str]:
        """UpdateVolumeGroupBackup: a map sent replaces the stored map; absent or null keeps it."""
        with self._lock:
            res = self._backup(backup_id)
            self._advance(res, counts_as_get=False)
            if if_match is not None and if_match != res.etag:
                raise EmulatorError(
                    412,
                    "NoEtagMatch",
                    f"The if-match value '{if_match}' does not match the current etag "
                    f"of volume group backup {backup_id}",
                )
            state = res.data["lifecycleState"]
            if state in TRANSITIONAL_STATES:
                raise EmulatorError(
                    409,
                    "IncorrectState",
                    f"Volume group backup {backup_id} is in state {state} and cannot be updated",
                )
            changes = self._validate_update(res.data, body)
            res.data.update(changes)
            res.version += 1
            return copy.deepcopy(res.data), res.etag

    def _validate_update(self, current: Mapping[str, Any], body: Any) -> Json:
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object (UpdateVolumeGroupBackupDetails)")
        unknown = sorted(set(body) - UPDATE_FIELDS)
        if unknown:
            raise _invalid(f"Unknown field(s) in UpdateVolumeGroupBackupDetails: {', '.join(unknown)}")
        changes = {k: v for k, v in body.items() if v is not None}
        lim = self.limits
        if "displayName" in changes:
            name = changes["displayName"]
            if not isinstance(name, str) or not 1 <= len(name) <= lim.display_name_max:
                raise _invalid(f"displayName must be a string of 1 to {lim.display_name_max} characters")
        if "freeformTags" in changes:
            self._validate_freeform(changes["freeformTags"])
        if "definedTags" in changes:
            self._validate_defined(changes["definedTags"])
        freeform = changes.get("freeformTags", current.get("freeformTags") or {})
        defined = changes.get("definedTags", current.get("definedTags") or {})
        total = _json_size(freeform) + _json_size(defined)
        if total > lim.total_tags_bytes_max:
            raise _invalid(
                f"Total size of freeformTags and definedTags is {total} bytes, "
                f"more than the limit of {lim.total_tags_bytes_max}"
            )
        return changes

    def _validate_freeform(self, tags: Any) -> None:
        lim = self.limits
        if not isinstance(tags, dict):
            raise _invalid("freeformTags must be an object of string keys and values")
        if len(tags) > lim.freeform_tags_max:
            raise _invalid(
                f"freeformTags has {len(tags)} tags, more than the limit of {lim.freeform_tags_max}"
            )
        for key, value in tags.items():
            if not is_valid_tag_key(key, lim.freeform_key_max):
                raise _invalid(
                    f"Invalid freeform tag key {key!r}: 1 to {lim.freeform_key_max} printable "
                    "ASCII characters without '.' or space"
                )
            if not isinstance(value, str):
                raise _invalid(f"Freeform tag {key!r} must have a string value")
            if len(value) > lim.tag_value_max:
                raise _invalid(
                    f"Freeform tag {key!r} value is {len(value)} characters, more than the "
                    f"limit of {lim.tag_value_max}"
                )

    def _validate_defined(self, tags: Any) -> None:
        lim = self.limits
        if not isinstance(tags, dict) or not all(isinstance(v, dict) for v in tags.values()):
            raise _invalid("definedTags must be an object of namespaces to objects of tags")
        count = sum(len(v) for v in tags.values())
        if count > lim.defined_tags_max:
            raise _invalid(f"definedTags has {count} tags, more than the limit of {lim.defined_tags_max}")
        for ns, keys in tags.items():
            known = self._tag_namespaces.get(ns)
            if known is None:
                raise _invalid(f"Tag namespace {ns!r} does not exist")
            for key, value in keys.items():
                if key not in known:
                    raise _invalid(f"Tag key {key!r} does not exist in tag namespace {ns!r}")
                if isinstance(value, dict | list) or value is None:
                    raise _invalid(f"Defined tag {ns}.{key} must have a scalar value")
                if len(str(value)) > lim.tag_value_max:
                    raise _invalid(
                        f"Defined tag {ns}.{key} value is {len(str(value))} characters, more "
                        f"than the limit of {lim.tag_value_max}"
                    )

    def list_volume_group_backups(
        self,
        compartment_id: str,
        volume_group_id: str | None = None,
        display_name: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListVolumeGroupBackups: TIMECREATED defaults to DESC, DISPLAYNAME to ASC (as OCI documents)."""
        sort_by = sort_by or "TIMECREATED"
        if sort_by not in ("TIMECREATED", "DISPLAYNAME"):
            raise _invalid("sortBy must be TIMECREATED or DISPLAYNAME")
        if sort_order is None:
            sort_order = "DESC" if sort_by == "TIMECREATED" else "ASC"
        if sort_order not in ("ASC", "DESC"):
            raise _invalid("sortOrder must be ASC or DESC")
        with self._lock:
            self._check_compartment(compartment_id)
            items: list[tuple[tuple[str, str], Json]] = []
            for res in self._backups.values():
                self._advance(res, counts_as_get=False)
                data = res.data
                if data.get("compartmentId") != compartment_id:
                    continue
                if volume_group_id is not None and data.get("volumeGroupId") != volume_group_id:
                    continue
                if display_name is not None and data.get("displayName") != display_name:
                    continue
                if sort_by == "TIMECREATED":
                    sort_value = _time_key(data.get("timeCreated"))
                else:
                    sort_value = str(data.get("displayName", ""))
                items.append(((sort_value, data["id"]), data))
            return _page(items, sort_order == "DESC", f"{sort_by}:{sort_order}", limit, page)

    def _check_compartment(self, compartment_id: str) -> None:
        if not self._compartments:
            return
        known = compartment_id in self._compartments or compartment_id == self.tenancy_id
        if not known and not any(
            r.data.get("compartmentId") == compartment_id for r in self._backups.values()
        ):
            raise _not_found("compartment", compartment_id)

    def get_volume_group(self, group_id: str) -> tuple[Json, str]:
        with self._lock:
            res = self._groups.get(group_id)
            if res is None:
                raise _not_found("volume group", group_id)
            return copy.deepcopy(res.data), res.etag

    # ---- Identity --------------------------------------------------------------------------

    def list_compartments(
        self,
        compartment_id: str,
        compartment_id_in_subtree: bool = False,
        access_level: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        name: str | None = None,
        lifecycle_state: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListCompartments: children, or with compartmentIdInSubtree (tenancy only) all descendants."""
        if access_level not in (None, "ANY", "ACCESSIBLE"):
            raise _invalid("accessLevel must be ANY or ACCESSIBLE")
        with self._lock:
            if compartment_id != self.tenancy_id and compartment_id not in self._compartments:
                raise _not_found("compartment", compartment_id)
            if compartment_id_in_subtree and compartment_id != self.tenancy_id:
                raise _invalid("compartmentIdInSubtree can only be true on the tenancy")
            parents = {compartment_id}
            if compartment_id_in_subtree:
                changed = True
                while changed:
                    before = len(parents)
                    parents |= {
                        c["id"] for c in self._compartments.values() if c.get("compartmentId") in parents
                    }
                    changed = len(parents) != before
            items = [
                ((str(c.get("name", "")), c["id"]), c)
                for c in self._compartments.values()
                if c.get("compartmentId") in parents
                and c["id"] != compartment_id
                and (name is None or c.get("name") == name)
                and (lifecycle_state is None or c.get("lifecycleState") == lifecycle_state)
            ]
            return _page(items, False, "NAME:ASC", limit, page)

    # ---- Object Storage --------------------------------------------------------------------

    def create_bucket(self, namespace: str, bucket: str) -> None:
        with self._lock:
            self._buckets.setdefault((namespace, bucket), {})

    def _bucket(self, namespace: str, bucket: str) -> dict[str, _Object]:
        objects = self._buckets.get((namespace, bucket))
        if objects is None:
            raise EmulatorError(
                404,
                "BucketNotFound",
                f"Either the bucket named '{bucket}' does not exist in the namespace "
                f"'{namespace}' or you are not authorized to access it",
            )
        return objects

    def _object(self, namespace: str, bucket: str, name: str) -> _Object:
        obj = self._bucket(namespace, bucket).get(name)
        if obj is None:
            raise EmulatorError(
                404,
                "ObjectNotFound",
                f"The object '{name}' was not found in the bucket '{bucket}'",
            )
        return obj

    @staticmethod
    def _object_etag(namespace: str, bucket: str, name: str, obj: _Object) -> str:
        raw = f"{namespace}/{bucket}/{name}:{obj.version}".encode()
        digest = hashlib.sha256(raw).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def _stored(self, namespace: str, bucket: str, name: str, obj: _Object) -> StoredObject:
        return StoredObject(
            data=obj.data,
            etag=self._object_etag(namespace, bucket, name, obj),
            content_type=obj.content_type,
            last_modified=email.utils.formatdate(obj.last_modified, usegmt=True),
        )

    def get_object(
        self, namespace: str, bucket: str, name: str, if_none_match: str | None = None
    ) -> StoredObject:
        """GetObject; raises NotModified (304) when if_none_match equals the etag (or is '*')."""
        with self._lock:
            stored = self._stored(namespace, bucket, name, self._object(namespace, bucket, name))
        if if_none_match is not None and if_none_match in ("*", stored.etag):
            raise NotModified(stored.etag)
        return stored

    def put_object(
        self,
        namespace: str,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        create_bucket: bool = False,
    ) -> StoredObject:
        with self._lock:
            if create_bucket:
                self.create_bucket(namespace, bucket)
            objects = self._bucket(namespace, bucket)
            existing = objects.get(name)
            if if_none_match == "*" and existing is not None:
                raise EmulatorError(412, "IfNoneMatchFailed", f"The object '{name}' already exists")
            if if_match is not None:
                current = None if existing is None else self._object_etag(namespace, bucket, name, existing)
                if current != if_match:
                    raise EmulatorError(
                        412, "IfMatchFailed", f"The if-match etag does not match object '{name}'"
                    )
            self._object_versions += 1
            obj = _Object(bytes(data), content_type, self._object_versions, time.time())
            objects[name] = obj
            return self._stored(namespace, bucket, name, obj)

    def delete_object(self, namespace: str, bucket: str, name: str, if_match: str | None = None) -> None:
        with self._lock:
            obj = self._object(namespace, bucket, name)
            if if_match is not None and if_match != self._object_etag(namespace, bucket, name, obj):
                raise EmulatorError(412, "IfMatchFailed", f"The if-match etag does not match object '{name}'")
            del self._buckets[(namespace, bucket)][name]

    # ---- faults helpers --------------------------------------------------------------------

    def mutate_as_other_writer(self, backup_id: str) -> str | None:
        """Change a backup as a concurrent writer would (freeform tag other-writer); new etag."""
        with self._lock:
            res = self._backups.get(backup_id)
            if res is None:
                return None
            self._other_writer_count += 1
            tags = dict(res.data.get("freeformTags") or {})
            tags["other-writer"] = str(self._other_writer_count)
            res.data["freeformTags"] = tags
            res.version += 1
            return res.etag

    # ---- request log -----------------------------------------------------------------------

    def record(self, rec: RequestRecord) -> None:
        with self._lock:
            self._log.append(rec)

    def requests(self, operation: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._log if operation is None or r.operation == operation]

    def count(self, operation: str, status: int | None = None) -> int:
        return sum(1 for r in self.requests(operation) if status is None or r.status == status)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """The current state in the seed format (object contents as text when they decode)."""
        with self._lock:
            objects = []
            for (ns, bucket), objs in sorted(self._buckets.items()):
                for name, obj in sorted(objs.items()):
                    objects.append(
                        {
                            "namespace": ns,
                            "bucket": bucket,
                            "name": name,
                            "content": obj.data.decode("utf-8", errors="replace"),
                            "contentType": obj.content_type,
                            "etag": self._object_etag(ns, bucket, name, obj),
                        }
                    )
            return {
                "tenancyId": self.tenancy_id,
                "tagNamespaces": {ns: sorted(k) for ns, k in sorted(self._tag_namespaces.items())},
                "compartments": copy.deepcopy(list(self._compartments.values())),
                "volumeGroups": [{**copy.deepcopy(r.data), "etag": r.etag} for r in self._groups.values()],
                "volumeGroupBackups": [
                    {**copy.deepcopy(r.data), "etag": r.etag} for r in self._backups.values()
                ],
                "buckets": [{"namespace": ns, "name": b} for ns, b in sorted(self._buckets)],
                "objects": objects,
            }


def load_seed(path: str | Path, **kwargs: Any) -> Backend:
    """Backend.from_seed on a JSON seed file."""
    with open(path, encoding="utf-8") as fh:
        return Backend.from_seed(json.load(fh), **kwargs)
