"""The OCI port serves every backup kind: get, etag-guarded update, paginated list, and each kind's source."""

from __future__ import annotations

import pytest

from sync.cloud.clients import Clients, OciSettings
from sync.cloud.leanport import LeanPort, operation_names
from sync.cloud.outcome import CallFailed
from sync.cloud.port import TagUpdate
from sync.cloud.retry import Deadline
from sync.domain.resources import Kind, SourceKind
from sync.emulator import ApiKey, EmulatorServer

PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
PROD_DB = "ocid1.compartment.oc1..aaaaaaaaproddbcompartment00000000000000000000000000000000"
BACKUPS = {
    Kind.VOLUME_GROUP_BACKUP: "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001",
    Kind.VOLUME_BACKUP: "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001",
    Kind.BOOT_VOLUME_BACKUP: "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001",
}
SOURCES = {
    Kind.VOLUME_GROUP_BACKUP: "ocid1.volumegroup.oc1.iad.abuwcljrexamplevolumegroup000000000000000000000000000001",
    Kind.VOLUME_BACKUP: "ocid1.volume.oc1.iad.abuwcljrexamplevolume0006",
    Kind.BOOT_VOLUME_BACKUP: "ocid1.bootvolume.oc1.iad.abuwcljrexamplebootvolume0002",
}


def port_on(emulator: EmulatorServer, api_key: ApiKey) -> LeanPort:
    return LeanPort(Clients(OciSettings.from_env(emulator.client_env(api_key))))


def operations(emulator: EmulatorServer) -> list[str]:
    return [r.operation for r in emulator.backend.log.requests()]


@pytest.mark.parametrize("kind", list(Kind))
def test_get_and_guarded_update_of_each_kind(emulator: EmulatorServer, api_key: ApiKey, kind: Kind) -> None:
    port = port_on(emulator, api_key)
    deadline = Deadline.after(60)
    got = port.get_backup(kind, BACKUPS[kind], deadline)
    assert got.value.kind is kind and got.value.id == BACKUPS[kind]
    assert got.etag and got.request_id
    assert got.value.source_id == SOURCES[kind]
    tags = {**got.value.freeform_tags, "added": "yes"}
    put = port.update_backup(kind, BACKUPS[kind], TagUpdate(freeform_tags=tags), got.etag, deadline)
    assert put.value.freeform_tags == tags and put.etag != got.etag
    with pytest.raises(CallFailed) as stale:  # the old etag no longer matches
        port.update_backup(kind, BACKUPS[kind], TagUpdate(display_name="x"), got.etag, deadline)
    assert stale.value.status == 412
    get, update, _ = operation_names(kind)
    assert operations(emulator) == [get, update, update]


@pytest.mark.parametrize(
    ("kind", "compartment"),
    [(Kind.VOLUME_GROUP_BACKUP, PROD), (Kind.VOLUME_BACKUP, PROD_DB), (Kind.BOOT_VOLUME_BACKUP, PROD)],
)
def test_list_of_each_kind_is_paginated_newest_first(
    emulator: EmulatorServer, api_key: ApiKey, kind: Kind, compartment: str
) -> None:
    port = port_on(emulator, api_key)
    seen, page, pages = [], None, 0
    while True:
        got = port.list_backups(kind, compartment, Deadline.after(60), page=page, limit=1)
        pages += 1
        seen += got.items
        page = got.next_page
        if not page:
            break
    assert len(seen) >= 2 and pages >= len(seen)
    assert all(b.kind is kind for b in seen)
    times = [b.time_created or "" for b in seen]
    assert times == sorted(times, reverse=True)
    assert set(operations(emulator)) == {operation_names(kind)[2]}


@pytest.mark.parametrize("kind", list(Kind))
def test_source_of_each_kind(emulator: EmulatorServer, api_key: ApiKey, kind: Kind) -> None:
    port = port_on(emulator, api_key)
    source = port.get_source(kind.source_kind, SOURCES[kind], BACKUPS[kind], Deadline.after(60))
    assert source is not None and source.kind is kind.source_kind and source.id == SOURCES[kind]
    assert source.display_name
    missing = SOURCES[kind].rsplit(".", 1)[0] + ".gone"
    assert port.get_source(kind.source_kind, missing, BACKUPS[kind], Deadline.after(60)) is None
    # An id that is not an OCID of the source's kind is never sent.
    other = next(s for k, s in SOURCES.items() if k is not kind)
    assert port.get_source(kind.source_kind, other, BACKUPS[kind], Deadline.after(60)) is None
    assert len(operations(emulator)) == 2


def test_source_kinds_name_their_ocids() -> None:
    assert {k.ocid_type for k in SourceKind} == {"volumegroup", "volume", "bootvolume"}


def test_members_only_for_group_backups_even_when_a_rule_for_every_kind_says_so(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    from sync.cloud.engine import Engine
    from sync.policy.loader import load_policy

    policy = load_policy(
        "version: 1\nrules:\n  - name: all\n    freeform_tags: {k: v}\n    members: tags\n", "every-kind"
    )
    engine = Engine.on(Clients(OciSettings.from_env(emulator.client_env(api_key))), lambda: policy)
    alone = engine.sync_backup(BACKUPS[Kind.VOLUME_BACKUP], dry_run=False, deadline=Deadline.after(60))
    assert alone.status == "updated" and alone.members is None and "members" not in alone.to_json()
    group = engine.sync_backup(BACKUPS[Kind.VOLUME_GROUP_BACKUP], dry_run=True, deadline=Deadline.after(60))
    assert group.members is not None and dict(group.members.counts) == {"planned": 2}
