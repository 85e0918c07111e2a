"""Backups and the resources they were taken from, as frozen typed values (no etag, no wire shape).

The kind of a backup comes from its OCID's resource type. `fields` keeps every field OCI
returned, snake_case as the SDK names them, for the policy's templates and conditions
(`backup.<field>`, `volume_group.<field>`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sync.domain.ocid import ocid_kind

Tags = Mapping[str, Any]


class Kind(StrEnum):
    """The three kinds of block storage backup; values are the policy's names for them."""

    VOLUME_GROUP_BACKUP = "volume_group_backup"
    VOLUME_BACKUP = "volume_backup"
    BOOT_VOLUME_BACKUP = "boot_volume_backup"

    @property
    def ocid_type(self) -> str:
        """The OCID resource type of this kind (`ocid1.<type>.`)."""
        return _KIND_OCID_TYPES[self]

    @property
    def source_kind(self) -> SourceKind:
        return _KIND_SOURCES[self]

    @classmethod
    def of(cls, backup_id: str) -> Kind | None:
        """The kind an OCID names, or None when it is not a backup OCID."""
        found = ocid_kind(backup_id)
        return next((k for k, t in _KIND_OCID_TYPES.items() if t == found), None)


class SourceKind(StrEnum):
    """What a backup is taken from."""

    VOLUME_GROUP = "volume_group"
    VOLUME = "volume"
    BOOT_VOLUME = "boot_volume"

    @property
    def ocid_type(self) -> str:
        return self.value.replace("_", "")


_KIND_OCID_TYPES = {
    Kind.VOLUME_GROUP_BACKUP: "volumegroupbackup",
    Kind.VOLUME_BACKUP: "volumebackup",
    Kind.BOOT_VOLUME_BACKUP: "bootvolumebackup",
}
_KIND_SOURCES = {
    Kind.VOLUME_GROUP_BACKUP: SourceKind.VOLUME_GROUP,
    Kind.VOLUME_BACKUP: SourceKind.VOLUME,
    Kind.BOOT_VOLUME_BACKUP: SourceKind.BOOT_VOLUME,
}
# The field of each kind's API resource that names its source.
SOURCE_ID_FIELDS = {
    Kind.VOLUME_GROUP_BACKUP: "volume_group_id",
    Kind.VOLUME_BACKUP: "volume_id",
    Kind.BOOT_VOLUME_BACKUP: "boot_volume_id",
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _tags(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _shared(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a backup and a source both have, from OCI's snake_case fields (untrusted: typed here)."""
    return {
        "id": str(fields.get("id") or ""),
        "display_name": _text(fields.get("display_name")),
        "compartment_id": _text(fields.get("compartment_id")),
        "lifecycle_state": _text(fields.get("lifecycle_state")),
        "freeform_tags": _tags(fields.get("freeform_tags")),
        "defined_tags": _tags(fields.get("defined_tags")),
        "fields": dict(fields),
    }


@dataclass(frozen=True)
class Backup:
    """One backup as OCI described it (its etag travels apart, with the read that returned it)."""

    kind: Kind
    id: str
    display_name: str | None
    compartment_id: str | None
    lifecycle_state: str | None
    time_created: str | None
    source_id: str | None
    freeform_tags: Tags = field(default_factory=dict)
    defined_tags: Tags = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, kind: Kind, fields: Mapping[str, Any]) -> Backup:
        """From the resource's snake_case fields (oci.util.to_dict's shape)."""
        return cls(
            kind=kind,
            time_created=_text(fields.get("time_created")),
            source_id=_text(fields.get(SOURCE_ID_FIELDS[kind])),
            **_shared(fields),
        )


@dataclass(frozen=True)
class Source:
    """The volume group, volume or boot volume a backup was taken from."""

    kind: SourceKind
    id: str
    display_name: str | None
    compartment_id: str | None
    lifecycle_state: str | None
    freeform_tags: Tags = field(default_factory=dict)
    defined_tags: Tags = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, kind: SourceKind, fields: Mapping[str, Any]) -> Source:
        """From the resource's snake_case fields (oci.util.to_dict's shape)."""
        return cls(kind=kind, **_shared(fields))
