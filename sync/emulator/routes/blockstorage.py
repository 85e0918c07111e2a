"""Block Storage routes (Core API 20160918): volume group backups and volume groups."""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, int_param, json_body, json_reply, list_reply, required


def get_volume_group_backup(backend: Backend, req: Request) -> Reply:
    data, etag = backend.get_volume_group_backup(req.params[0])
    return json_reply(200, data, {"etag": etag})


def update_volume_group_backup(backend: Backend, req: Request) -> Reply:
    payload = json_body(req.body)
    data, etag = backend.update_volume_group_backup(req.params[0], payload, req.headers.get("if-match"))
    return json_reply(200, data, {"etag": etag})


def list_volume_group_backups(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.list_volume_group_backups(
        required(query, "compartmentId"),
        volume_group_id=query.get("volumeGroupId"),
        display_name=query.get("displayName"),
        limit=int_param(query, "limit"),
        page=query.get("page"),
        sort_by=query.get("sortBy"),
        sort_order=query.get("sortOrder"),
    )
    return list_reply(items, next_page)


def get_volume_group(backend: Backend, req: Request) -> Reply:
    data, etag = backend.get_volume_group(req.params[0])
    return json_reply(200, data, {"etag": etag})


ROUTES = [
    Route("GET", "/20160918/volumeGroupBackups/{id}", "GetVolumeGroupBackup", get_volume_group_backup),
    Route("PUT", "/20160918/volumeGroupBackups/{id}", "UpdateVolumeGroupBackup", update_volume_group_backup),
    Route("GET", "/20160918/volumeGroupBackups", "ListVolumeGroupBackups", list_volume_group_backups),
    Route("GET", "/20160918/volumeGroups/{id}", "GetVolumeGroup", get_volume_group),
]
