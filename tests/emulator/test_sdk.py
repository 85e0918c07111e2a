"""The real oci SDK against the emulator over HTTP: what the engine relies on."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from sync.emulator import EmulatorServer
from sync.emulator.ocilimits import OCI_LIMITS
from tests.emulator_fixtures import OS_NAMESPACE

B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
B5 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000005"
PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
VG1 = "ocid1.volumegroup.oc1.iad.abuwcljrexamplevolumegroup000000000000000000000000000001"

Details = oci.core.models.UpdateVolumeGroupBackupDetails


def service_error(fn: Any, *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as info:
        fn(*args, **kwargs)
    return info.value


def test_get_update_round_trip_with_etag(core_client: Any, emulator: EmulatorServer) -> None:
    got = core_client.get_volume_group_backup(B1)
    assert got.status == 200
    assert got.data.display_name.startswith("Auto-backup for prod-db-vg")
    assert got.data.source_type == "SCHEDULED"
    etag = got.headers["etag"]
    tags = {**got.data.freeform_tags, "backup-kind": "scheduled"}
    put = core_client.update_volume_group_backup(
        B1, Details(display_name="prod-db-vg-incremental", freeform_tags=tags), if_match=etag
    )
    assert put.status == 200
    assert put.data.display_name == "prod-db-vg-incremental"
    assert put.data.freeform_tags == tags
    assert put.headers["etag"] != etag
    again = core_client.get_volume_group_backup(B1)
    assert again.headers["etag"] == put.headers["etag"]
    assert again.data.defined_tags == got.data.defined_tags
    (rec,) = emulator.backend.log.requests("UpdateVolumeGroupBackup")
    assert rec.if_match == etag
    assert rec.body is not None and '"displayName"' in rec.body
    assert "definedTags" not in rec.body  # the SDK omits None fields


def test_stale_if_match_is_412_no_etag_match(core_client: Any) -> None:
    etag = core_client.get_volume_group_backup(B1).headers["etag"]
    core_client.update_volume_group_backup(B1, Details(display_name="one"), if_match=etag)
    err = service_error(
        core_client.update_volume_group_backup, B1, Details(display_name="two"), if_match=etag
    )
    assert (err.status, err.code) == (412, "NoEtagMatch")
    assert err.request_id
    assert core_client.get_volume_group_backup(B1).data.display_name == "one"


def test_sending_a_map_replaces_it_whole(core_client: Any) -> None:
    before = core_client.get_volume_group_backup(B1).data
    assert before.freeform_tags and before.defined_tags
    after = core_client.update_volume_group_backup(B1, Details(freeform_tags={"only": "this"})).data
    assert after.freeform_tags == {"only": "this"}
    assert after.defined_tags == before.defined_tags
    wiped = core_client.update_volume_group_backup(B1, Details(defined_tags={})).data
    assert wiped.defined_tags == {}
    assert wiped.freeform_tags == {"only": "this"}


def test_unknown_backup_is_404(core_client: Any) -> None:
    err = service_error(core_client.get_volume_group_backup, "ocid1.volumegroupbackup.oc1..nope")
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    err = service_error(
        core_client.update_volume_group_backup, "ocid1.volumegroupbackup.oc1..nope", Details()
    )
    assert err.status == 404


def test_update_while_creating_is_409_incorrect_state(core_client: Any) -> None:
    got = core_client.get_volume_group_backup(B5)
    assert got.data.lifecycle_state == "CREATING"
    err = service_error(
        core_client.update_volume_group_backup,
        B5,
        Details(display_name="x"),
        if_match=got.headers["etag"],
    )
    assert (err.status, err.code) == (409, "IncorrectState")


@pytest.mark.parametrize(
    "details",
    [
        Details(display_name="x" * (OCI_LIMITS.display_name_max + 1)),
        Details(freeform_tags={"has space": "v"}),
        Details(freeform_tags={"k": "v" * (OCI_LIMITS.tag_value_max + 1)}),
    ],
)
def test_limit_violations_are_400_invalid_parameter(core_client: Any, details: Any) -> None:
    err = service_error(core_client.update_volume_group_backup, B1, details)
    assert (err.status, err.code) == (400, "InvalidParameter")
    assert err.message


def test_get_volume_group(core_client: Any) -> None:
    vg = core_client.get_volume_group(VG1)
    assert vg.data.display_name == "prod-db-vg"
    assert vg.data.freeform_tags == {"env": "prod", "app": "billing"}
    assert vg.headers["etag"]


def test_list_pages_through_many_backups(core_client: Any, emulator: EmulatorServer) -> None:
    for i in range(250):
        emulator.backend.blockstorage.add_volume_group_backup(
            {
                "id": f"ocid1.volumegroupbackup.oc1.iad.bulk{i:05d}",
                "compartmentId": "ocid1.compartment.oc1..bulk",
                "displayName": f"bulk-{i}",
                "timeCreated": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z",
                "type": "FULL",
                "sourceType": "MANUAL",
            }
        )
    first = core_client.list_volume_group_backups("ocid1.compartment.oc1..bulk")
    assert len(first.data) == 100  # the documented default page size
    assert first.next_page
    everything = oci.pagination.list_call_get_all_results(
        core_client.list_volume_group_backups, "ocid1.compartment.oc1..bulk", limit=40
    ).data
    assert len({b.id for b in everything}) == 250
    times = [b.time_created for b in everything]
    assert times == sorted(times, reverse=True)
    assert emulator.backend.log.count("ListVolumeGroupBackups") == 1 + 7  # ceil(250 / 40)
    last = core_client.list_volume_group_backups("ocid1.compartment.oc1..bulk", limit=1000)
    assert len(last.data) == 250 and last.next_page is None


def test_list_compartments_recursive(identity_client: Any, api_key: Any) -> None:
    subtree = oci.pagination.list_call_get_all_results(
        identity_client.list_compartments,
        api_key.tenancy,
        compartment_id_in_subtree=True,
        access_level="ANY",
        limit=1,
    ).data
    assert sorted(c.name for c in subtree) == ["dev", "prod", "prod-db"]
    children = identity_client.list_compartments(PROD).data
    assert [c.name for c in children] == ["prod-db"]


def test_get_object_and_304_on_matching_if_none_match(os_client: Any) -> None:
    """The SDK surfaces 304 Not Modified as oci.exceptions.ServiceError, not as a Response.

    BaseClient.call_api raises for any status outside 200-299, so a conditional GetObject
    whose if_none_match equals the current etag raises ServiceError with status 304,
    code None and an empty message (the body is empty); e.headers still carries the etag
    and e.request_id the opc-request-id. Callers must catch it and reuse their cached copy.
    """
    got = os_client.get_object(OS_NAMESPACE, "tag-policies", "tag_policy.yaml")
    assert got.status == 200
    assert got.data.content.startswith(b"version: 1")
    assert got.headers["content-type"] == "application/x-yaml"
    etag = got.headers["etag"]
    err = service_error(
        os_client.get_object, OS_NAMESPACE, "tag-policies", "tag_policy.yaml", if_none_match=etag
    )
    assert err.status == 304
    assert err.code is None
    assert err.headers["etag"] == etag
    assert err.request_id
    os_client.put_object(OS_NAMESPACE, "tag-policies", "tag_policy.yaml", b"version: 1\nrules: []\n")
    fresh = os_client.get_object(OS_NAMESPACE, "tag-policies", "tag_policy.yaml", if_none_match=etag)
    assert fresh.status == 200 and fresh.headers["etag"] != etag
    assert fresh.data.content == b"version: 1\nrules: []\n"


def test_object_not_found_codes_and_odd_names(os_client: Any) -> None:
    err = service_error(os_client.get_object, OS_NAMESPACE, "tag-policies", "missing.yaml")
    assert (err.status, err.code) == (404, "ObjectNotFound")
    err = service_error(os_client.get_object, OS_NAMESPACE, "no-bucket", "x")
    assert (err.status, err.code) == (404, "BucketNotFound")
    name = "dir/sub dir/policy+v2.yaml"
    os_client.put_object(OS_NAMESPACE, "tag-policies", name, b"odd")
    assert os_client.get_object(OS_NAMESPACE, "tag-policies", name).data.content == b"odd"
    head = os_client.head_object(OS_NAMESPACE, "tag-policies", name)
    assert head.status == 200 and head.headers["content-length"] == "3"
    os_client.delete_object(OS_NAMESPACE, "tag-policies", name)
    assert service_error(os_client.get_object, OS_NAMESPACE, "tag-policies", name).status == 404


def test_opc_request_id_echoes_the_clients_id_as_prefix(core_client: Any, emulator: EmulatorServer) -> None:
    first = core_client.get_volume_group_backup(B1).headers["opc-request-id"]
    second = core_client.get_volume_group_backup(B1).headers["opc-request-id"]
    assert first != second
    records = emulator.backend.log.requests()
    assert [r.opc_request_id for r in records] == [first, second]
    for rec, rid in zip(records, (first, second), strict=True):
        assert rec.client_request_id  # the SDK sends one on every call
        assert rid.startswith(rec.client_request_id + "/")
        assert len(rid.split("/")) == 3


def test_concurrent_read_modify_write_loses_no_tag(emulator: EmulatorServer, api_key: Any) -> None:
    """Eight writers, each adding its own tag with etag-guarded PUTs and retrying on 412."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.emulator_fixtures import client_kwargs, oci_config

    def writer(n: int) -> int:
        client = oci.core.BlockstorageClient(oci_config(api_key), **client_kwargs(emulator.url))
        for attempt in range(50):
            got = client.get_volume_group_backup(B1)
            tags = {**got.data.freeform_tags, f"writer-{n}": "yes"}
            try:
                client.update_volume_group_backup(
                    B1, Details(freeform_tags=tags), if_match=got.headers["etag"]
                )
                return attempt
            except oci.exceptions.ServiceError as err:
                assert err.status == 412
        raise AssertionError("writer never won")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    final = emulator.backend.blockstorage.get_volume_group_backup(B1)[0]["freeformTags"]
    assert {f"writer-{n}" for n in range(8)} <= set(final)
    assert emulator.backend.log.count("UpdateVolumeGroupBackup", status=200) == 8
