"""The log fields that name a backup: `backup_id` and `kind` for every kind, and the older name for groups."""

from __future__ import annotations

from typing import Any

from sync.domain.resources import Kind


def backup_fields(backup_id: str | None) -> dict[str, Any]:
    """`backup_id` and `kind`; group backups keep `volume_group_backup_id`, which log queries already use."""
    kind = Kind.of(backup_id) if backup_id else None
    fields: dict[str, Any] = {"backup_id": backup_id, "kind": kind.value if kind else None}
    if kind is Kind.VOLUME_GROUP_BACKUP or (backup_id and kind is None):
        fields["volume_group_backup_id"] = backup_id
    return fields
