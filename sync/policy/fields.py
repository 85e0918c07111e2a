"""The names a policy may read: backup, volume group and event fields (snake_case, as the SDK)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Fields of oci.core.models.VolumeGroupBackup (tests check this list against the SDK).
BACKUP_FIELDS: frozenset[str] = frozenset(
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

EVENT_FIELDS: frozenset[str] = frozenset(
    {"event_type", "event_id", "event_time", "compartment_name", "resource_name"}
)

TAG_FIELDS = frozenset({"freeform_tags", "defined_tags"})

ROOTS: Mapping[str, frozenset[str]] = {
    "backup": BACKUP_FIELDS,
    "volume_group": VOLUME_GROUP_FIELDS,
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
