"""Block Storage routes (Core API 20160918): backups of all three kinds, volumes and volume groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, int_param, json_body, json_reply, list_reply, required

Json = dict[str, Any]


def _get(
    operation: Callable[[Backend], Callable[[str], tuple[Json, str]]],
) -> Callable[[Backend, Request], Reply]:
    def handler(backend: Backend, req: Request) -> Reply:
        data, etag = operation(backend)(req.params[0])
        return json_reply(200, data, {"etag": etag})

    return handler


def _update(
    operation: Callable[[Backend], Callable[[str, Any, str | None], tuple[Json, str]]],
) -> Callable[[Backend, Request], Reply]:
    def handler(backend: Backend, req: Request) -> Reply:
        payload = json_body(req.body)
        data, etag = operation(backend)(req.params[0], payload, req.headers.get("if-match"))
        return json_reply(200, data, {"etag": etag})

    return handler


def _paging(query: dict[str, str]) -> dict[str, Any]:
    return {"limit": int_param(query, "limit"), "page": query.get("page")}


def _sorting(query: dict[str, str]) -> dict[str, Any]:
    return {"sort_by": query.get("sortBy"), "sort_order": query.get("sortOrder")}


def list_volume_group_backups(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.blockstorage.list_volume_group_backups(
        required(query, "compartmentId"),
        volume_group_id=query.get("volumeGroupId"),
        display_name=query.get("displayName"),
        **_paging(query),
        **_sorting(query),
    )
    return list_reply(items, next_page)


def list_volume_backups(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.blockstorage.list_volume_backups(
        required(query, "compartmentId"),
        volume_id=query.get("volumeId"),
        display_name=query.get("displayName"),
        source_volume_backup_id=query.get("sourceVolumeBackupId"),
        lifecycle_state=query.get("lifecycleState"),
        **_paging(query),
        **_sorting(query),
    )
    return list_reply(items, next_page)


def list_boot_volume_backups(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.blockstorage.list_boot_volume_backups(
        required(query, "compartmentId"),
        boot_volume_id=query.get("bootVolumeId"),
        display_name=query.get("displayName"),
        source_boot_volume_backup_id=query.get("sourceBootVolumeBackupId"),
        lifecycle_state=query.get("lifecycleState"),
        **_paging(query),
        **_sorting(query),
    )
    return list_reply(items, next_page)


def list_volumes(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.blockstorage.list_volumes(
        required(query, "compartmentId"),
        availability_domain=query.get("availabilityDomain"),
        display_name=query.get("displayName"),
        volume_group_id=query.get("volumeGroupId"),
        lifecycle_state=query.get("lifecycleState"),
        **_paging(query),
        **_sorting(query),
    )
    return list_reply(items, next_page)


def list_boot_volumes(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.blockstorage.list_boot_volumes(
        required(query, "compartmentId"),
        availability_domain=query.get("availabilityDomain"),
        volume_group_id=query.get("volumeGroupId"),
        **_paging(query),
    )
    return list_reply(items, next_page)


_V = "/20160918"
ROUTES = [
    Route(
        "GET",
        f"{_V}/volumeGroupBackups/{{id}}",
        "GetVolumeGroupBackup",
        _get(lambda b: b.blockstorage.get_volume_group_backup),
    ),
    Route(
        "PUT",
        f"{_V}/volumeGroupBackups/{{id}}",
        "UpdateVolumeGroupBackup",
        _update(lambda b: b.blockstorage.update_volume_group_backup),
    ),
    Route("GET", f"{_V}/volumeGroupBackups", "ListVolumeGroupBackups", list_volume_group_backups),
    Route(
        "GET",
        f"{_V}/volumeBackups/{{id}}",
        "GetVolumeBackup",
        _get(lambda b: b.blockstorage.get_volume_backup),
    ),
    Route(
        "PUT",
        f"{_V}/volumeBackups/{{id}}",
        "UpdateVolumeBackup",
        _update(lambda b: b.blockstorage.update_volume_backup),
    ),
    Route("GET", f"{_V}/volumeBackups", "ListVolumeBackups", list_volume_backups),
    Route(
        "GET",
        f"{_V}/bootVolumeBackups/{{id}}",
        "GetBootVolumeBackup",
        _get(lambda b: b.blockstorage.get_boot_volume_backup),
    ),
    Route(
        "PUT",
        f"{_V}/bootVolumeBackups/{{id}}",
        "UpdateBootVolumeBackup",
        _update(lambda b: b.blockstorage.update_boot_volume_backup),
    ),
    Route("GET", f"{_V}/bootVolumeBackups", "ListBootVolumeBackups", list_boot_volume_backups),
    Route(
        "GET", f"{_V}/volumeGroups/{{id}}", "GetVolumeGroup", _get(lambda b: b.blockstorage.get_volume_group)
    ),
    Route("GET", f"{_V}/volumes/{{id}}", "GetVolume", _get(lambda b: b.blockstorage.get_volume)),
    Route("GET", f"{_V}/volumes", "ListVolumes", list_volumes),
    Route("GET", f"{_V}/bootVolumes/{{id}}", "GetBootVolume", _get(lambda b: b.blockstorage.get_boot_volume)),
    Route("GET", f"{_V}/bootVolumes", "ListBootVolumes", list_boot_volumes),
]
