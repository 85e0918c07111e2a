"""Block Storage service: volume groups and volume group backups, with their lifecycle and etags."""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.emulator.errors import EmulatorError, invalid, not_found
from sync.emulator.identity import IdentityBackend
from sync.emulator.paging import Json, keyset_page, time_key
from sync.emulator.tagrules import check_tag_budget, validate_defined, validate_freeform
from sync.policy.limits import OCI_LIMITS, Limits

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


class BlockStorageBackend:
    """Volume groups and their backups; operations are methods raising EmulatorError."""

    def __init__(
        self,
        identity: IdentityBackend,
        *,
        limits: Limits = OCI_LIMITS,
        creating_seconds: float | None = 2.0,
        creating_gets: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        lock: threading.RLock | None = None,
    ) -> None:
        self._identity = identity
        self.limits = limits
        self.creating_seconds = creating_seconds
        self.creating_gets = creating_gets
        self._clock = clock
        self._lock = lock if lock is not None else threading.RLock()
        self._backups: dict[str, _Resource] = {}
        # compartment -> its backups, so a list costs its compartment's size, not the region's.
        self._by_compartment: dict[str, dict[str, _Resource]] = {}
        self._groups: dict[str, _Resource] = {}
        self._other_writer_count = 0

    # ---- seeding and lifecycle -------------------------------------------------------------

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
            old = self._backups.get(data["id"])
            if old is not None:
                self._by_compartment.get(str(old.data.get("compartmentId")), {}).pop(data["id"], None)
            self._backups[data["id"]] = res
            self._by_compartment.setdefault(str(data.get("compartmentId")), {})[data["id"]] = res

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

    # ---- API operations --------------------------------------------------------------------

    def _backup(self, backup_id: str) -> _Resource:
        res = self._backups.get(backup_id)
        if res is None:
            raise not_found("volume group backup", backup_id)
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
            raise invalid("The request body must be a JSON object (UpdateVolumeGroupBackupDetails)")
        unknown = sorted(set(body) - UPDATE_FIELDS)
        if unknown:
            raise invalid(f"Unknown field(s) in UpdateVolumeGroupBackupDetails: {', '.join(unknown)}")
        changes = {k: v for k, v in body.items() if v is not None}
        lim = self.limits
        if "displayName" in changes:
            name = changes["displayName"]
            if not isinstance(name, str) or not 1 <= len(name) <= lim.display_name_max:
                raise invalid(f"displayName must be a string of 1 to {lim.display_name_max} characters")
        if "freeformTags" in changes:
            validate_freeform(changes["freeformTags"], lim)
        if "definedTags" in changes:
            changes["definedTags"] = validate_defined(
                changes["definedTags"], lim, self._identity.tag_definition, current.get("definedTags")
            )
        check_tag_budget(current, changes, lim)
        return changes

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
            raise invalid("sortBy must be TIMECREATED or DISPLAYNAME")
        if sort_order is None:
            sort_order = "DESC" if sort_by == "TIMECREATED" else "ASC"
        if sort_order not in ("ASC", "DESC"):
            raise invalid("sortOrder must be ASC or DESC")
        with self._lock:
            self._check_compartment(compartment_id)
            items: list[tuple[tuple[str, str], Json]] = []
            for res in list(self._by_compartment.get(compartment_id, {}).values()):
                self._advance(res, counts_as_get=False)
                data = res.data
                if volume_group_id is not None and data.get("volumeGroupId") != volume_group_id:
                    continue
                if display_name is not None and data.get("displayName") != display_name:
                    continue
                if sort_by == "TIMECREATED":
                    sort_value = time_key(data.get("timeCreated"))
                else:
                    sort_value = str(data.get("displayName", ""))
                items.append(((sort_value, data["id"]), data))
            return keyset_page(items, sort_order == "DESC", f"{sort_by}:{sort_order}", limit, page)

    def _check_compartment(self, compartment_id: str) -> None:
        if not self._identity.has_compartments():
            return
        if not self._identity.is_compartment(compartment_id) and not self._by_compartment.get(compartment_id):
            raise not_found("compartment", compartment_id)

    def get_volume_group(self, group_id: str) -> tuple[Json, str]:
        with self._lock:
            res = self._groups.get(group_id)
            if res is None:
                raise not_found("volume group", group_id)
            return copy.deepcopy(res.data), res.etag

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """This service's part of the seed format (with each resource's current etag)."""
        with self._lock:
            return {
                "volumeGroups": [{**copy.deepcopy(r.data), "etag": r.etag} for r in self._groups.values()],
                "volumeGroupBackups": [
                    {**copy.deepcopy(r.data), "etag": r.etag} for r in self._backups.values()
                ],
            }
