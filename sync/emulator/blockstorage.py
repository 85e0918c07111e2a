"""Block Storage service: volumes, boot volumes, volume groups and the backups of all three."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sync.emulator.errors import EmulatorError, invalid, not_found
from sync.emulator.identity import IdentityBackend
from sync.emulator.ocilimits import OCI_LIMITS, OciLimits
from sync.emulator.paging import Json
from sync.emulator.store import Lifecycle, Resource, ResourceStore
from sync.emulator.tagrules import TagChecks, check_tag_budget, validate_defined, validate_freeform

BACKUP_TRANSITIONAL = frozenset({"REQUEST_RECEIVED", "CREATING"})
TRANSITIONAL_STATES = BACKUP_TRANSITIONAL  # the name before volume and boot volume backups
VOLUME_TRANSITIONAL = frozenset({"PROVISIONING", "RESTORING"})
# A PUT on a backup in these states is refused with 409 IncorrectState (README, "Lifecycle").
NOT_UPDATABLE = BACKUP_TRANSITIONAL | {"TERMINATING", "TERMINATED"}

# The Update*Details models of oci 2.189.0: the fields each update accepts.
_GROUP_UPDATE_FIELDS = frozenset(
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
_BACKUP_UPDATE_FIELDS = _GROUP_UPDATE_FIELDS | {"kmsKeyId"}
UPDATE_FIELDS = _GROUP_UPDATE_FIELDS

# Volume group backups and volume groups have no systemTags in oci 2.189.0's models; the rest do.
_TAGS: Json = {"freeformTags": {}, "definedTags": {}}
_BACKUP_DEFAULTS: Json = {"lifecycleState": "AVAILABLE", **_TAGS, "systemTags": {}}
_VOLUME_DEFAULTS: Json = {"lifecycleState": "AVAILABLE", **_TAGS, "systemTags": {}, "isHydrated": True}


class BlockStorageBackend:
    """Block Storage resources; operations are methods raising EmulatorError."""

    def __init__(
        self,
        identity: IdentityBackend,
        *,
        limits: OciLimits = OCI_LIMITS,
        creating_seconds: float | None = 2.0,
        creating_gets: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        lock: threading.RLock | None = None,
    ) -> None:
        self._identity = identity
        self.limits = limits
        self.tag_checks = TagChecks()
        self._lifecycle = Lifecycle(creating_seconds, creating_gets, clock)
        self._lock = lock if lock is not None else threading.RLock()
        life = self._lifecycle
        self.group_backups = ResourceStore(
            "volume group backup",
            life,
            BACKUP_TRANSITIONAL,
            {"lifecycleState": "AVAILABLE", **_TAGS, "volumeBackupIds": []},
        )
        self.volume_backups = ResourceStore("volume backup", life, BACKUP_TRANSITIONAL, _BACKUP_DEFAULTS)
        self.boot_volume_backups = ResourceStore(
            "boot volume backup", life, BACKUP_TRANSITIONAL, _BACKUP_DEFAULTS
        )
        self.groups = ResourceStore(
            "volume group",
            life,
            VOLUME_TRANSITIONAL,
            {"lifecycleState": "AVAILABLE", **_TAGS, "volumeIds": [], "isHydrated": True},
        )
        self.volumes = ResourceStore("volume", life, VOLUME_TRANSITIONAL, _VOLUME_DEFAULTS)
        self.boot_volumes = ResourceStore("boot volume", life, VOLUME_TRANSITIONAL, _VOLUME_DEFAULTS)
        self._backup_stores = (self.group_backups, self.volume_backups, self.boot_volume_backups)
        self._other_writer_count = 0

    @property
    def creating_seconds(self) -> float | None:
        return self._lifecycle.creating_seconds

    @property
    def creating_gets(self) -> int | None:
        return self._lifecycle.creating_gets

    # ---- seeding and lifecycle -------------------------------------------------------------

    def add_volume_group(self, group: Mapping[str, Any]) -> None:
        with self._lock:
            self.groups.add(group)

    def add_volume(self, volume: Mapping[str, Any]) -> None:
        with self._lock:
            self.volumes.add(volume)

    def add_boot_volume(self, boot_volume: Mapping[str, Any]) -> None:
        with self._lock:
            self.boot_volumes.add(boot_volume)

    def add_volume_group_backup(
        self,
        backup: Mapping[str, Any],
        *,
        available_after_seconds: float | None = None,
        available_after_gets: int | None = None,
    ) -> None:
        """Add a backup; one in a transitional state becomes AVAILABLE per the lifecycle settings."""
        with self._lock:
            self.group_backups.add(
                backup,
                available_after_seconds=available_after_seconds,
                available_after_gets=available_after_gets,
            )

    def add_volume_backup(self, backup: Mapping[str, Any], **timer: Any) -> None:
        """Add a volume backup; without tags of its own it gets its volume's (as OCI stamps them)."""
        with self._lock:
            self.volume_backups.add(self._stamped(backup, "volumeId", self.volumes), **timer)

    def add_boot_volume_backup(self, backup: Mapping[str, Any], **timer: Any) -> None:
        """Add a boot volume backup; without tags of its own it gets its boot volume's."""
        with self._lock:
            self.boot_volume_backups.add(self._stamped(backup, "bootVolumeId", self.boot_volumes), **timer)

    @staticmethod
    def _stamped(backup: Mapping[str, Any], source_field: str, sources: ResourceStore) -> Json:
        # "Source volume tags are automatically assigned to all backups when they are created"
        # (Block Volume backups overview); a seed that gives a backup's tags gives them all.
        data = dict(backup)
        source = sources.find(str(data.get(source_field)))
        if source is not None:
            for name in ("freeformTags", "definedTags"):
                data.setdefault(name, copy.deepcopy(source.data.get(name) or {}))
        return data

    def _any_backup(self, backup_id: str) -> tuple[ResourceStore, Resource]:
        for store in self._backup_stores:
            res = store.find(backup_id)
            if res is not None:
                return store, res
        raise not_found("backup", backup_id)

    def set_lifecycle_state(
        self,
        backup_id: str,
        state: str,
        *,
        available_after_seconds: float | None = None,
        available_after_gets: int | None = None,
    ) -> None:
        """Admin: put a backup of any kind in a state (e.g. CREATING) as the service would."""
        with self._lock:
            store, res = self._any_backup(backup_id)
            res.data["lifecycleState"] = state
            res.version += 1
            store.arm(res, available_after_seconds, available_after_gets)

    def mutate_as_other_writer(self, backup_id: str) -> str | None:
        """Change a backup as a concurrent writer would (freeform tag other-writer); new etag."""
        with self._lock:
            try:
                _, res = self._any_backup(backup_id)
            except EmulatorError:
                return None
            self._other_writer_count += 1
            tags = dict(res.data.get("freeformTags") or {})
            tags["other-writer"] = str(self._other_writer_count)
            res.data["freeformTags"] = tags
            res.version += 1
            return res.etag

    # ---- API operations: backups -----------------------------------------------------------

    def get_volume_group_backup(self, backup_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.group_backups.get(backup_id)

    def get_volume_backup(self, backup_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.volume_backups.get(backup_id)

    def get_boot_volume_backup(self, backup_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.boot_volume_backups.get(backup_id)

    def update_volume_group_backup(self, backup_id: str, body: Any, if_match: str | None) -> tuple[Json, str]:
        """UpdateVolumeGroupBackup: a map sent replaces the stored map; absent or null keeps it."""
        return self._update(self.group_backups, backup_id, body, if_match, _GROUP_UPDATE_FIELDS)

    def update_volume_backup(self, backup_id: str, body: Any, if_match: str | None) -> tuple[Json, str]:
        """UpdateVolumeBackup: as UpdateVolumeGroupBackup, plus kmsKeyId."""
        return self._update(self.volume_backups, backup_id, body, if_match, _BACKUP_UPDATE_FIELDS)

    def update_boot_volume_backup(self, backup_id: str, body: Any, if_match: str | None) -> tuple[Json, str]:
        """UpdateBootVolumeBackup: as UpdateVolumeGroupBackup, plus kmsKeyId."""
        return self._update(self.boot_volume_backups, backup_id, body, if_match, _BACKUP_UPDATE_FIELDS)

    def _update(
        self, store: ResourceStore, backup_id: str, body: Any, if_match: str | None, fields: frozenset[str]
    ) -> tuple[Json, str]:
        with self._lock:
            res = store.resource(backup_id)
            store.advance(res, counts_as_get=False)
            if if_match is not None and if_match != res.etag:
                raise EmulatorError(
                    412,
                    "NoEtagMatch",
                    f"The if-match value '{if_match}' does not match the current etag "
                    f"of {store.kind} {backup_id}",
                )
            state = res.data["lifecycleState"]
            if state in NOT_UPDATABLE:
                raise EmulatorError(
                    409,
                    "IncorrectState",
                    f"{store.kind.capitalize()} {backup_id} is in state {state} and cannot be updated",
                )
            changes = self._validate_update(res.data, body, fields)
            res.data.update(changes)
            res.version += 1
            return copy.deepcopy(res.data), res.etag

    def _validate_update(self, current: Mapping[str, Any], body: Any, fields: frozenset[str]) -> Json:
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        unknown = sorted(set(body) - fields)
        if unknown:
            raise invalid(f"Unknown field(s) in the update details: {', '.join(unknown)}")
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
                changes["definedTags"],
                lim,
                self._identity.tag_definition,
                current.get("definedTags"),
                self.tag_checks,
            )
        check_tag_budget(current, changes, lim)
        return changes

    def _list(
        self, store: ResourceStore, compartment_id: str, filters: Mapping[str, str | None], **kw: Any
    ) -> tuple[list[Json], str | None]:
        with self._lock:
            self._check_compartment(store, compartment_id)
            return store.list_page(compartment_id, filters, **kw)

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
        filters = {"volumeGroupId": volume_group_id, "displayName": display_name}
        return self._list(
            self.group_backups,
            compartment_id,
            filters,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            page=page,
        )

    def list_volume_backups(
        self,
        compartment_id: str,
        volume_id: str | None = None,
        display_name: str | None = None,
        source_volume_backup_id: str | None = None,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListVolumeBackups (the query parameters of oci 2.189.0's list_volume_backups)."""
        filters = {
            "volumeId": volume_id,
            "displayName": display_name,
            "sourceVolumeBackupId": source_volume_backup_id,
        }
        return self._list(
            self.volume_backups,
            compartment_id,
            filters,
            lifecycle_state=lifecycle_state,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            page=page,
        )

    def list_boot_volume_backups(
        self,
        compartment_id: str,
        boot_volume_id: str | None = None,
        display_name: str | None = None,
        source_boot_volume_backup_id: str | None = None,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListBootVolumeBackups (the query parameters of oci 2.189.0's list_boot_volume_backups)."""
        filters = {
            "bootVolumeId": boot_volume_id,
            "displayName": display_name,
            "sourceBootVolumeBackupId": source_boot_volume_backup_id,
        }
        return self._list(
            self.boot_volume_backups,
            compartment_id,
            filters,
            lifecycle_state=lifecycle_state,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            page=page,
        )

    def _check_compartment(self, store: ResourceStore, compartment_id: str) -> None:
        if not self._identity.has_compartments():
            return
        if not self._identity.is_compartment(compartment_id) and not store.has_compartment(compartment_id):
            raise not_found("compartment", compartment_id)

    # ---- API operations: volumes -----------------------------------------------------------

    def get_volume_group(self, group_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.groups.get(group_id)

    def get_volume(self, volume_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.volumes.get(volume_id)

    def get_boot_volume(self, boot_volume_id: str) -> tuple[Json, str]:
        with self._lock:
            return self.boot_volumes.get(boot_volume_id)

    def list_volumes(
        self,
        compartment_id: str,
        availability_domain: str | None = None,
        display_name: str | None = None,
        volume_group_id: str | None = None,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListVolumes (compartmentId required here; README, "Not confirmed")."""
        filters = {
            "availabilityDomain": availability_domain,
            "displayName": display_name,
            "volumeGroupId": volume_group_id,
        }
        return self._list(
            self.volumes,
            compartment_id,
            filters,
            lifecycle_state=lifecycle_state,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            page=page,
        )

    def list_boot_volumes(
        self,
        compartment_id: str,
        availability_domain: str | None = None,
        volume_group_id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListBootVolumes: no sort or state parameters in the API; newest first here."""
        filters = {"availabilityDomain": availability_domain, "volumeGroupId": volume_group_id}
        return self._list(
            self.boot_volumes, compartment_id, filters, sort_by=None, sort_order=None, limit=limit, page=page
        )

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """This service's part of the seed format (with each resource's current etag)."""
        with self._lock:
            return {
                "volumeGroups": self.groups.snapshot(),
                "volumeGroupBackups": self.group_backups.snapshot(),
                "volumes": self.volumes.snapshot(),
                "bootVolumes": self.boot_volumes.snapshot(),
                "volumeBackups": self.volume_backups.snapshot(),
                "bootVolumeBackups": self.boot_volume_backups.snapshot(),
            }
