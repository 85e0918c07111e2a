"""Volume backups, boot volume backups, volumes and boot volumes through the real SDK's BlockstorageClient."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import oci
import pytest

from sync.emulator import SAMPLE_SEED_PATH, ApiKey, EmulatorServer
from tests.emulator_fixtures import raw, signed_headers

PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
PRODDB = "ocid1.compartment.oc1..aaaaaaaaproddbcompartment00000000000000000000000000000000"
GB1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
GB7 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000007"
VB71 = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup00070000000000000000000000000000001"
BVB71 = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup0007000000000000000000000000001"
VB_STANDALONE = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BVB_STANDALONE = (
    "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"
)
VOL1 = "ocid1.volume.oc1.iad.abuwcljrexamplevolume0001"
VOL5 = "ocid1.volume.oc1.iad.abuwcljrexamplevolume0005"
VOL6 = "ocid1.volume.oc1.iad.abuwcljrexamplevolume0006"
BOOT1 = "ocid1.bootvolume.oc1.iad.abuwcljrexamplebootvolume0001"
BOOT2 = "ocid1.bootvolume.oc1.iad.abuwcljrexamplebootvolume0002"


class Kind:
    """One backup kind's SDK calls, so each test runs for volume and boot volume backups."""

    def __init__(self, name: str, backup_id: str, source_field: str, source_id: str) -> None:
        self.name = name
        self.backup_id = backup_id
        self.source_field = source_field
        self.source_id = source_id
        self.update_op = f"Update{name}"

    def get(self, client: Any, backup_id: str | None = None) -> Any:
        fn = client.get_volume_backup if self.name == "VolumeBackup" else client.get_boot_volume_backup
        return fn(backup_id or self.backup_id)

    def update(self, client: Any, backup_id: str | None = None, **kwargs: Any) -> Any:
        if_match = kwargs.pop("if_match", None)
        if self.name == "VolumeBackup":
            details = oci.core.models.UpdateVolumeBackupDetails(**kwargs)
            return client.update_volume_backup(backup_id or self.backup_id, details, if_match=if_match)
        boot_details = oci.core.models.UpdateBootVolumeBackupDetails(**kwargs)
        return client.update_boot_volume_backup(backup_id or self.backup_id, boot_details, if_match=if_match)

    def list_fn(self, client: Any) -> Callable[..., Any]:
        return client.list_volume_backups if self.name == "VolumeBackup" else client.list_boot_volume_backups


KINDS = [
    Kind("VolumeBackup", VB_STANDALONE, "volume_id", VOL6),
    Kind("BootVolumeBackup", BVB_STANDALONE, "boot_volume_id", BOOT2),
]


def service_error(fn: Any, *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_get_update_round_trip_with_etag(core_client: Any, emulator: EmulatorServer, kind: Kind) -> None:
    got = kind.get(core_client)
    assert got.status == 200 and got.data.lifecycle_state == "AVAILABLE"
    assert getattr(got.data, kind.source_field) == kind.source_id
    assert got.data.volume_group_backup_id is None  # standalone
    etag = got.headers["etag"]
    tags = {**got.data.freeform_tags, "backup-kind": "scheduled"}
    put = kind.update(core_client, display_name="renamed", freeform_tags=tags, if_match=etag)
    assert put.status == 200 and put.data.display_name == "renamed" and put.data.freeform_tags == tags
    assert put.data.defined_tags == got.data.defined_tags  # a map not sent is kept
    assert put.headers["etag"] != etag
    assert kind.get(core_client).headers["etag"] == put.headers["etag"]
    (rec,) = emulator.backend.log.requests(kind.update_op)
    assert rec.if_match == etag and rec.method == "PUT"
    wiped = kind.update(core_client, freeform_tags={}).data
    assert wiped.freeform_tags == {} and wiped.defined_tags == got.data.defined_tags


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_stale_etag_is_412_and_changes_nothing(core_client: Any, kind: Kind) -> None:
    etag = kind.get(core_client).headers["etag"]
    kind.update(core_client, display_name="one", if_match=etag)
    err = service_error(kind.update, core_client, display_name="two", if_match=etag)
    assert (err.status, err.code) == (412, "NoEtagMatch") and err.request_id
    assert kind.get(core_client).data.display_name == "one"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_creating_is_409_until_available(core_client: Any, emulator: EmulatorServer, kind: Kind) -> None:
    emulator.backend.blockstorage.set_lifecycle_state(kind.backup_id, "CREATING", available_after_gets=2)
    got = kind.get(core_client)
    assert got.data.lifecycle_state == "CREATING"
    err = service_error(kind.update, core_client, display_name="early", if_match=got.headers["etag"])
    assert (err.status, err.code) == (409, "IncorrectState")
    kind.get(core_client)
    ready = kind.get(core_client)  # the GET that makes it AVAILABLE
    assert ready.data.lifecycle_state == "AVAILABLE" and ready.headers["etag"] != got.headers["etag"]
    assert kind.update(core_client, display_name="now", if_match=ready.headers["etag"]).status == 200


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_unknown_id_is_404(core_client: Any, kind: Kind) -> None:
    err = service_error(kind.get, core_client, kind.backup_id + "x")
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    # A group backup's id is not a volume backup's: each kind has its own collection.
    assert service_error(kind.get, core_client, GB1).status == 404
    assert service_error(kind.update, core_client, kind.backup_id + "x", display_name="x").status == 404


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_tag_checks_apply_as_for_group_backups(core_client: Any, kind: Kind) -> None:
    err = service_error(kind.update, core_client, defined_tags={"NoSuchNs": {"k": "v"}})
    assert (err.status, err.code) == (400, "RelatedResourceNotAuthorizedOrNotFound")
    err = service_error(kind.update, core_client, freeform_tags={f"k{i}": "v" for i in range(11)})
    assert (err.status, err.code) == (400, "InvalidParameter")
    got = kind.update(core_client, defined_tags={"operations": {"costcenter": "cc-1"}}).data
    assert got.defined_tags == {"Operations": {"CostCenter": "cc-1"}}  # stored in the tenancy's casing


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_race_412_fault_hits_each_kind(core_client: Any, emulator: EmulatorServer, kind: Kind) -> None:
    emulator.faults.update({"race_412_next": 1})
    etag = kind.get(core_client).headers["etag"]
    err = service_error(kind.update, core_client, display_name="lost", if_match=etag)
    assert err.status == 412
    again = kind.get(core_client)
    assert again.data.freeform_tags["other-writer"] == "1"
    assert kind.update(core_client, display_name="won", if_match=again.headers["etag"]).status == 200


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_faults_can_target_one_operation(core_client: Any, emulator: EmulatorServer, kind: Kind) -> None:
    emulator.faults.update({"error_rate": 1.0, "error_mix": {503: 1}, "operations": [f"Get{kind.name}"]})
    assert service_error(kind.get, core_client).status == 503
    assert core_client.get_volume_group_backup(GB1).status == 200


def test_requests_must_be_signed(emulator: EmulatorServer, api_key: ApiKey) -> None:
    for path in (f"/20160918/volumeBackups/{VB71}", f"/20160918/bootVolumeBackups/{BVB71}"):
        status, _, body = raw(emulator, "GET", path)
        assert (status, json.loads(body)["code"]) == (401, "NotAuthenticated")
        status, headers, body = raw(
            emulator, "GET", path, headers=signed_headers(api_key, emulator, "GET", path)
        )
        assert status == 200 and headers["etag"] and json.loads(body)["id"] == path.rsplit("/", 1)[1]


def test_group_backup_members_are_real_backups_in_their_volumes_compartments(core_client: Any) -> None:
    prefixes = {"ocid1.volumebackup.": "VolumeBackup", "ocid1.bootvolumebackup.": "BootVolumeBackup"}
    by_name = {k.name: k for k in KINDS}
    for group_backup_id in [f"{GB1[:-1]}{n}" for n in range(1, 8)]:
        group = core_client.get_volume_group_backup(group_backup_id).data
        assert group.volume_backup_ids
        for member_id in group.volume_backup_ids:
            (kind_name,) = [name for prefix, name in prefixes.items() if member_id.startswith(prefix)]
            member = by_name[kind_name].get(core_client, member_id).data
            assert member.volume_group_backup_id == group.id
            assert (member.source_type, member.type) == (group.source_type, group.type)
            source = (
                core_client.get_volume(member.volume_id).data
                if kind_name == "VolumeBackup"
                else core_client.get_boot_volume(member.boot_volume_id).data
            )
            assert member.compartment_id == source.compartment_id
            assert source.volume_group_id == group.volume_group_id
    seven = core_client.get_volume_group_backup(GB7).data
    assert seven.volume_backup_ids == [VB71, BVB71]  # a volume member and a boot volume member
    member = core_client.get_volume_backup(VB71).data
    assert member.compartment_id == PRODDB != seven.compartment_id


def test_backups_carry_the_tags_their_volume_stamped(core_client: Any) -> None:
    volume = core_client.get_volume(VOL5).data
    member = core_client.get_volume_backup(VB71).data
    assert volume.freeform_tags and member.freeform_tags == volume.freeform_tags
    for ns, keys in volume.defined_tags.items():
        assert member.defined_tags[ns] == keys
    assert "Oracle-Tags" in member.defined_tags  # what OCI's tag defaults add at creation
    boot = core_client.get_boot_volume(BOOT1).data
    assert core_client.get_boot_volume_backup(BVB71).data.freeform_tags == boot.freeform_tags


def test_a_new_backup_without_tags_gets_its_volumes_tags(
    make_emulator: Callable[..., EmulatorServer],
) -> None:
    server = make_emulator(SAMPLE_SEED_PATH)
    backend = server.backend
    backend.blockstorage.add_volume_backup(
        {"id": "ocid1.volumebackup.oc1..new", "volumeId": VOL1, "compartmentId": PRODDB}
    )
    backend.blockstorage.add_boot_volume_backup(
        {"id": "ocid1.bootvolumebackup.oc1..new", "bootVolumeId": BOOT1, "compartmentId": PROD}
    )
    backend.blockstorage.add_volume_backup(
        {"id": "ocid1.volumebackup.oc1..own", "volumeId": VOL1, "compartmentId": PRODDB, "freeformTags": {}}
    )
    volume, _ = backend.blockstorage.get_volume(VOL1)
    new, _ = backend.blockstorage.get_volume_backup("ocid1.volumebackup.oc1..new")
    assert (new["freeformTags"], new["definedTags"]) == (volume["freeformTags"], volume["definedTags"])
    boot_new, _ = backend.blockstorage.get_boot_volume_backup("ocid1.bootvolumebackup.oc1..new")
    assert boot_new["definedTags"] == backend.blockstorage.get_boot_volume(BOOT1)[0]["definedTags"]
    own, _ = backend.blockstorage.get_volume_backup("ocid1.volumebackup.oc1..own")
    assert own["freeformTags"] == {} and own["definedTags"] == volume["definedTags"]


def test_volumes_and_boot_volumes_get_and_list(core_client: Any) -> None:
    volume = core_client.get_volume(VOL1)
    assert volume.headers["etag"] and volume.data.display_name == "prod-db-data"
    assert volume.data.lifecycle_state == "AVAILABLE"
    boot = core_client.get_boot_volume(BOOT1).data
    assert boot.image_id and boot.volume_group_id
    listed = oci.pagination.list_call_get_all_results(
        core_client.list_volumes, compartment_id=PRODDB, limit=1
    )
    ids = [v.id for v in listed.data]
    assert len(ids) == len(set(ids)) == 3 and VOL1 in ids
    assert [
        v.id for v in core_client.list_volumes(compartment_id=PROD, display_name="prod-reports").data
    ] == [VOL6]
    boots = oci.pagination.list_call_get_all_results(
        core_client.list_boot_volumes, compartment_id=PROD, limit=1
    )
    assert sorted(b.id for b in boots.data) == [BOOT1, BOOT2]
    err = service_error(core_client.get_volume, VOL1 + "x")
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_list_by_compartment_pages_filters_and_sorts(
    core_client: Any, emulator: EmulatorServer, kind: Kind
) -> None:
    comp = "ocid1.compartment.oc1..many"
    field = "volumeId" if kind.name == "VolumeBackup" else "bootVolumeId"
    add = (
        emulator.backend.blockstorage.add_volume_backup
        if kind.name == "VolumeBackup"
        else emulator.backend.blockstorage.add_boot_volume_backup
    )
    for i in range(25):
        add(
            {
                "id": f"{kind.backup_id[:30]}many{i:03d}",
                "compartmentId": comp,
                field: "src-even" if i % 2 == 0 else "src-odd",
                "displayName": f"b-{i:03d}",
                "timeCreated": f"2026-01-01T00:{i:02d}:00.000Z",
                "lifecycleState": "AVAILABLE" if i % 5 else "FAULTY",
            }
        )
    list_fn = kind.list_fn(core_client)
    first = list_fn(comp, limit=10)
    assert len(first.data) == 10 and first.has_next_page
    assert [b.display_name for b in first.data][:2] == ["b-024", "b-023"]  # TIMECREATED: newest first
    every = oci.pagination.list_call_get_all_results(list_fn, comp, limit=7).data
    assert len(every) == len({b.id for b in every}) == 25
    by_name = list_fn(comp, sort_by="DISPLAYNAME", limit=3).data
    assert [b.display_name for b in by_name] == ["b-000", "b-001", "b-002"]
    source_filter = {kind.source_field: "src-even"}
    even = oci.pagination.list_call_get_all_results(list_fn, comp, **source_filter).data
    assert len(even) == 13 and all(getattr(b, kind.source_field) == "src-even" for b in even)
    faulty = list_fn(comp, lifecycle_state="FAULTY").data
    assert sorted(b.display_name for b in faulty) == ["b-000", "b-005", "b-010", "b-015", "b-020"]
    assert [b.id for b in list_fn(comp, display_name="b-007").data] == [f"{kind.backup_id[:30]}many007"]
    err = service_error(list_fn, "ocid1.compartment.oc1..nope")
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    token = first.next_page
    err = service_error(list_fn, comp, page=token, sort_by="DISPLAYNAME")
    assert err.status == 400  # a page token belongs to its sort order


def test_sample_seed_lists_members_and_standalone_backups_by_compartment(core_client: Any) -> None:
    prod_db = oci.pagination.list_call_get_all_results(core_client.list_volume_backups, PRODDB).data
    assert {b.volume_id for b in prod_db} >= {VOL1, VOL5}
    assert any(b.volume_group_backup_id is None for b in prod_db)  # a manual standalone backup too
    prod_boot = core_client.list_boot_volume_backups(PROD).data
    assert sorted(b.id for b in prod_boot) == sorted([BVB71, BVB_STANDALONE])
    in_prod = core_client.list_volume_backups(PROD).data
    assert VB_STANDALONE in {b.id for b in in_prod} and VB71 not in {b.id for b in in_prod}
