"""Seed data (the sample_seed.json format): reading it and handing each part to its service."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync.emulator.blockstorage import BlockStorageBackend
from sync.emulator.identity import IdentityBackend
from sync.emulator.objectstorage import ObjectStorageBackend

SAMPLE_SEED_PATH = Path(__file__).with_name("sample_seed.json")


def read_seed(path: str | Path) -> Any:
    """The JSON in a seed file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def lifecycle_settings(seed: Mapping[str, Any]) -> dict[str, Any]:
    """Backend keyword defaults from the seed's lifecycle section."""
    lifecycle = seed.get("lifecycle") or {}
    return {
        "creating_seconds": lifecycle.get("creatingSeconds", 2.0),
        "creating_gets": lifecycle.get("creatingGets"),
    }


def load_into(
    seed: Mapping[str, Any],
    identity: IdentityBackend,
    blockstorage: BlockStorageBackend,
    objectstorage: ObjectStorageBackend,
) -> None:
    """Add everything in a seed dict to the services (callers hold the shared lock)."""
    if seed.get("tenancyId"):
        identity.tenancy_id = str(seed["tenancyId"])
    for ns, keys in (seed.get("tagNamespaces") or {}).items():
        identity.register_tag_namespace(ns, keys)
    for comp in seed.get("compartments") or []:
        identity.add_compartment(comp)
    for group in seed.get("volumeGroups") or []:
        blockstorage.add_volume_group(group)
    for volume in seed.get("volumes") or []:
        blockstorage.add_volume(volume)
    for boot_volume in seed.get("bootVolumes") or []:
        blockstorage.add_boot_volume(boot_volume)
    for backup in seed.get("volumeGroupBackups") or []:
        blockstorage.add_volume_group_backup(backup)
    # After the volumes: a backup seeded without tags gets its volume's.
    for backup in seed.get("volumeBackups") or []:
        blockstorage.add_volume_backup(backup)
    for backup in seed.get("bootVolumeBackups") or []:
        blockstorage.add_boot_volume_backup(backup)
    for bucket in seed.get("buckets") or []:
        objectstorage.create_bucket(bucket["namespace"], bucket["name"])
    for obj in seed.get("objects") or []:
        content = obj.get("content", "")
        data = content.encode() if isinstance(content, str) else bytes(content)
        objectstorage.put_object(
            obj["namespace"],
            obj["bucket"],
            obj["name"],
            data,
            obj.get("contentType", "application/octet-stream"),
            create_bucket=True,
        )
