"""The names a policy may read: backup, source, volume group, group backup and event fields (as the SDK)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Fields of oci.core.models.VolumeGroupBackup (tests check these lists against the SDK).
GROUP_BACKUP_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "display_name",
        "compartment_id",
        "volume_group_id",
        "volume_backup_ids",
        "type",
        "source_type",
        "lifecycle_state",
        "time_created",
        "time_request_received",
        "expiration_time",
        "size_in_gbs",
        "size_in_mbs",
        "unique_size_in_gbs",
        "unique_size_in_mbs",
        "source_volume_group_backup_id",
        "time_retention_expires_at",
        "freeform_tags",
        "defined_tags",
    }
)
# Fields of oci.core.models.VolumeBackup and BootVolumeBackup beyond the group backup's.
MEMBER_BACKUP_FIELDS: frozenset[str] = frozenset(
    {
        "volume_id",
        "boot_volume_id",
        "image_id",
        "kms_key_id",
        "volume_group_backup_id",
        "source_volume_backup_id",
        "source_boot_volume_backup_id",
    }
)
# Any backup's fields, and its kind (from the OCID when the mapping does not say).
BACKUP_FIELDS: frozenset[str] = GROUP_BACKUP_FIELDS | MEMBER_BACKUP_FIELDS | {"kind"}

# Fields of oci.core.models.VolumeGroup that are plain values.
VOLUME_GROUP_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "display_name",
        "compartment_id",
        "availability_domain",
        "lifecycle_state",
        "size_in_gbs",
        "size_in_mbs",
        "time_created",
        "volume_ids",
        "is_hydrated",
        "freeform_tags",
        "defined_tags",
    }
)
# What a backup was taken from: oci.core.models.Volume, BootVolume or VolumeGroup (plain values).
SOURCE_FIELDS: frozenset[str] = VOLUME_GROUP_FIELDS | {
    "volume_group_id",
    "image_id",
    "kms_key_id",
    "vpus_per_gb",
    "is_auto_tune_enabled",
}

KINDS = ("volume_group_backup", "volume_backup", "boot_volume_backup")
GROUP_KIND = "volume_group_backup"
_KIND_OF_PREFIX = {
    "ocid1.volumegroupbackup.": "volume_group_backup",
    "ocid1.volumebackup.": "volume_backup",
    "ocid1.bootvolumebackup.": "boot_volume_backup",
}


def kind_of_id(ocid: str) -> str | None:
    """The backup kind an OCID names, or None for any other OCID."""
    for prefix, kind in _KIND_OF_PREFIX.items():
        if ocid.startswith(prefix):
            return kind
    return None


def backup_kind(backup: Mapping[str, Any]) -> str | None:
    """The backup's `kind`, or the one its OCID names; None when neither says."""
    kind = backup.get("kind")
    if kind in KINDS:
        return str(kind)
    ocid = backup.get("id")
    return kind_of_id(ocid) if isinstance(ocid, str) else None


def with_kind(backup: Mapping[str, Any]) -> Mapping[str, Any]:
    """The backup with `kind` set when its OCID names one (the input is not changed)."""
    if "kind" in backup:
        return backup
    kind = backup_kind(backup)
    return backup if kind is None else {**backup, "kind": kind}


EVENT_FIELDS: frozenset[str] = frozenset(
    {"event_type", "event_id", "event_time", "compartment_name", "resource_name"}
)

TAG_FIELDS = frozenset({"freeform_tags", "defined_tags"})

ROOTS: Mapping[str, frozenset[str]] = {
    "backup": BACKUP_FIELDS,
    "source": SOURCE_FIELDS,
    "volume_group": VOLUME_GROUP_FIELDS,
    "group_backup": GROUP_BACKUP_FIELDS,
    "event": EVENT_FIELDS,
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(name: str) -> str:
    """`sizeInGBs` -> `size_in_gbs`, `timeCreated` -> `time_created`."""
    return _CAMEL.sub("_", name).lower().replace("g_bs", "gbs").replace("m_bs", "mbs")


def from_api_json(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A resource as the REST API returns it (camelCase) in the SDK's snake_case shape.

    Tag maps keep their keys: only the top-level field names change.
    """
    return {snake_case(key): value for key, value in obj.items()}
