"""Backend behaviour without HTTP: validation, lifecycle, paging, compartments, seeding."""

from __future__ import annotations

from typing import Any

import pytest

from sync.emulator import SAMPLE_SEED_PATH, Backend, EmulatorError, NotModified, load_seed
from sync.emulator.ocilimits import OCI_LIMITS

B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
B5 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000005"
PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
VG1 = "ocid1.volumegroup.oc1.iad.abuwcljrexamplevolumegroup000000000000000000000000000001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def seeded(**kwargs: Any) -> Backend:
    return load_seed(SAMPLE_SEED_PATH, **kwargs)


def error_of(fn: Any, *args: Any, **kwargs: Any) -> EmulatorError:
    with pytest.raises(EmulatorError) as info:
        fn(*args, **kwargs)
    return info.value


def test_sample_seed_matches_the_sample_event() -> None:
    backend = seeded()
    data, _ = backend.blockstorage.get_volume_group_backup(B1)
    assert data["displayName"] == "Auto-backup for prod-db-vg via policy: gold on 2026-11-27 04:00:00"
    assert (data["sourceType"], data["type"], data["lifecycleState"]) == (
        "SCHEDULED",
        "INCREMENTAL",
        "AVAILABLE",
    )
    assert data["compartmentId"] == PROD
    assert data["volumeGroupId"] == VG1
    assert "CreatedBy" in data["definedTags"]["Oracle-Tags"]
    assert data["freeformTags"]
    group, _ = backend.blockstorage.get_volume_group(VG1)
    assert group["displayName"] == "prod-db-vg"
    assert group["freeformTags"] == {"env": "prod", "app": "billing"}
    assert group["definedTags"] == {"Operations": {"CostCenter": "cc-1234"}}


def test_update_replaces_maps_and_keeps_absent_or_null_fields() -> None:
    backend = seeded()
    before, etag = backend.blockstorage.get_volume_group_backup(B1)
    after, etag2 = backend.blockstorage.update_volume_group_backup(
        B1, {"freeformTags": {"k": "v"}, "definedTags": None}, etag
    )
    assert after["freeformTags"] == {"k": "v"}
    assert after["definedTags"] == before["definedTags"]
    assert after["displayName"] == before["displayName"]
    assert etag2 != etag
    wiped, _ = backend.blockstorage.update_volume_group_backup(B1, {"definedTags": {}}, None)
    assert wiped["definedTags"] == {}
    assert wiped["freeformTags"] == {"k": "v"}


def test_every_accepted_put_gets_a_new_etag_even_without_changes() -> None:
    backend = seeded()
    _, e1 = backend.blockstorage.get_volume_group_backup(B1)
    _, e2 = backend.blockstorage.update_volume_group_backup(B1, {}, e1)
    assert e1 != e2


def test_stale_if_match_is_412_and_changes_nothing() -> None:
    backend = seeded()
    _, etag = backend.blockstorage.get_volume_group_backup(B1)
    backend.blockstorage.update_volume_group_backup(B1, {"displayName": "first"}, etag)
    err = error_of(backend.blockstorage.update_volume_group_backup, B1, {"displayName": "second"}, etag)
    assert (err.status, err.code) == (412, "NoEtagMatch")
    assert backend.blockstorage.get_volume_group_backup(B1)[0]["displayName"] == "first"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"displayName": ""}, "displayName"),
        ({"displayName": "x" * (OCI_LIMITS.display_name_max + 1)}, "displayName"),
        ({"freeformTags": {"bad key": "v"}}, "bad key"),
        ({"freeformTags": {"a.b": "v"}}, "a.b"),
        ({"freeformTags": {"k": "v" * (OCI_LIMITS.tag_value_max + 1)}}, "'k'"),
        ({"freeformTags": {f"k{i}": "v" for i in range(OCI_LIMITS.freeform_tags_max + 1)}}, "limit"),
        ({"definedTags": {"Operations": {"Tier": "t" * (OCI_LIMITS.tag_value_max + 1)}}}, "Tier"),
        ({"definedTags": {"Operations": "flat"}}, "definedTags"),
        ({"lifecycleState": "AVAILABLE"}, "lifecycleState"),
        ({"freeformTags": ["not", "a", "map"]}, "freeformTags"),
    ],
)
def test_invalid_updates_are_400_invalid_parameter(body: dict[str, Any], needle: str) -> None:
    backend = seeded()
    before, etag = backend.blockstorage.get_volume_group_backup(B1)
    err = error_of(backend.blockstorage.update_volume_group_backup, B1, body, etag)
    assert (err.status, err.code) == (400, "InvalidParameter")
    assert needle in err.message
    assert backend.blockstorage.get_volume_group_backup(B1) == (before, etag)


def test_defined_tag_count_and_total_size_limits() -> None:
    backend = seeded()
    keys = [f"K{i}" for i in range(OCI_LIMITS.defined_tags_max + 1)]
    backend.identity.register_tag_namespace("Big", keys)
    too_many = {"Big": {k: "v" for k in keys}}
    err = error_of(backend.blockstorage.update_volume_group_backup, B1, {"definedTags": too_many}, None)
    assert "definedTags has" in err.message
    # Within every per-tag limit (256 characters a value), but 2 UTF-8 bytes a character put the
    # two maps over the byte budget; the same in ASCII fits.
    ascii_ = {f"k{i}": "v" * OCI_LIMITS.tag_value_max for i in range(OCI_LIMITS.freeform_tags_max)}
    bulky = {f"k{i}": "é" * OCI_LIMITS.tag_value_max for i in range(OCI_LIMITS.freeform_tags_max)}
    err = error_of(backend.blockstorage.update_volume_group_backup, B1, {"freeformTags": bulky}, None)
    assert err.status == 400 and "Total size" in err.message
    backend.blockstorage.update_volume_group_backup(B1, {"freeformTags": ascii_}, None)
    exact = {"Big": {k: "v" for k in keys[: OCI_LIMITS.defined_tags_max]}}
    backend.blockstorage.update_volume_group_backup(B1, {"definedTags": exact, "freeformTags": {}}, None)


def test_unknown_ids_are_404() -> None:
    backend = seeded()
    for fn in (backend.blockstorage.get_volume_group_backup, backend.blockstorage.get_volume_group):
        err = error_of(fn, "ocid1.nothing")
        assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    err = error_of(backend.blockstorage.update_volume_group_backup, "ocid1.nothing", {}, None)
    assert err.status == 404


def test_creating_backup_refuses_updates_until_available_after_seconds() -> None:
    clock = FakeClock()
    backend = seeded(clock=clock, creating_seconds=30.0)
    data, etag = backend.blockstorage.get_volume_group_backup(B5)
    assert data["lifecycleState"] == "CREATING"
    err = error_of(backend.blockstorage.update_volume_group_backup, B5, {"displayName": "x"}, etag)
    assert (err.status, err.code) == (409, "IncorrectState")
    clock.now += 29
    assert backend.blockstorage.get_volume_group_backup(B5)[0]["lifecycleState"] == "CREATING"
    clock.now += 2
    data, etag2 = backend.blockstorage.get_volume_group_backup(B5)
    assert data["lifecycleState"] == "AVAILABLE"
    assert etag2 != etag
    backend.blockstorage.update_volume_group_backup(B5, {"displayName": "x"}, etag2)


def test_creating_backup_becomes_available_after_n_gets() -> None:
    backend = seeded(creating_seconds=None, creating_gets=2)
    states = [backend.blockstorage.get_volume_group_backup(B5)[0]["lifecycleState"] for _ in range(3)]
    assert states == ["CREATING", "CREATING", "AVAILABLE"]
    backend.blockstorage.set_lifecycle_state(B1, "REQUEST_RECEIVED", available_after_gets=0)
    err = error_of(backend.blockstorage.update_volume_group_backup, B1, {}, None)
    assert err.status == 409
    assert backend.blockstorage.get_volume_group_backup(B1)[0]["lifecycleState"] == "AVAILABLE"


def _many(n: int) -> Backend:
    backend = Backend()
    for i in range(n):
        backend.blockstorage.add_volume_group_backup(
            {
                "id": f"ocid1.volumegroupbackup.oc1.iad.b{i:04d}",
                "compartmentId": "c1",
                "displayName": f"name-{(i * 7) % n:04d}",
                # several share a timestamp: paging must still serve each exactly once
                "timeCreated": f"2026-01-01T00:{(i // 3) % 60:02d}:00Z",
                "volumeGroupId": "vg-even" if i % 2 == 0 else "vg-odd",
            }
        )
    return backend


@pytest.mark.parametrize(("sort_by", "sort_order"), [("TIMECREATED", None), ("DISPLAYNAME", "DESC")])
def test_paging_serves_each_backup_once_in_order(sort_by: str, sort_order: str | None) -> None:
    backend = _many(95)
    seen: list[dict[str, Any]] = []
    page: str | None = None
    pages = 0
    while True:
        items, page = backend.blockstorage.list_volume_group_backups(
            "c1", limit=10, page=page, sort_by=sort_by, sort_order=sort_order
        )
        seen += items
        pages += 1
        if page is None:
            break
    assert pages == 10
    assert len({b["id"] for b in seen}) == 95
    field = "timeCreated" if sort_by == "TIMECREATED" else "displayName"
    values = [b[field] for b in seen]
    assert values == sorted(values, reverse=True)


def test_paging_is_stable_while_backups_are_updated() -> None:
    backend = _many(30)
    first, token = backend.blockstorage.list_volume_group_backups("c1", limit=10)
    for b in first:
        backend.blockstorage.update_volume_group_backup(b["id"], {"freeformTags": {"touched": "yes"}}, None)
    rest: list[dict[str, Any]] = []
    while token:
        items, token = backend.blockstorage.list_volume_group_backups("c1", limit=10, page=token)
        rest += items
    assert len(rest) == 20
    assert not {b["id"] for b in first} & {b["id"] for b in rest}


def test_list_filters_defaults_and_bad_parameters() -> None:
    backend = _many(10)
    items, token = backend.blockstorage.list_volume_group_backups("c1", volume_group_id="vg-even")
    assert len(items) == 5 and token is None
    items, _ = backend.blockstorage.list_volume_group_backups("c1", display_name="name-0007")
    assert [b["id"] for b in items] == ["ocid1.volumegroupbackup.oc1.iad.b0001"]
    assert len(_many(150).blockstorage.list_volume_group_backups("c1")[0]) == 100
    for kwargs in ({"limit": 0}, {"limit": 1001}, {"page": "garbage!"}, {"sort_by": "SIZE"}):
        assert error_of(backend.blockstorage.list_volume_group_backups, "c1", **kwargs).status == 400
    _, token = backend.blockstorage.list_volume_group_backups("c1", limit=2)
    err = error_of(backend.blockstorage.list_volume_group_backups, "c1", page=token, sort_by="DISPLAYNAME")
    assert err.status == 400


def test_list_unknown_compartment_is_404_when_compartments_are_seeded() -> None:
    backend = seeded()
    assert error_of(backend.blockstorage.list_volume_group_backups, "ocid1.compartment.nope").status == 404
    items, _ = backend.blockstorage.list_volume_group_backups(PROD)
    assert {b["compartmentId"] for b in items} == {PROD}
    assert len(items) == 6


def test_list_compartments_children_and_subtree() -> None:
    backend = seeded()
    tenancy = backend.tenancy_id
    assert tenancy
    children, _ = backend.identity.list_compartments(tenancy)
    assert sorted(c["name"] for c in children) == ["dev", "prod"]
    everything, _ = backend.identity.list_compartments(tenancy, compartment_id_in_subtree=True)
    assert sorted(c["name"] for c in everything) == ["dev", "prod", "prod-db"]
    sub, _ = backend.identity.list_compartments(PROD)
    assert [c["name"] for c in sub] == ["prod-db"]
    assert error_of(backend.identity.list_compartments, PROD, compartment_id_in_subtree=True).status == 400
    page1, token = backend.identity.list_compartments(tenancy, compartment_id_in_subtree=True, limit=2)
    page2, token2 = backend.identity.list_compartments(tenancy, compartment_id_in_subtree=True, page=token)
    assert len(page1) == 2 and len(page2) == 1 and token2 is None


def test_objects_etags_304_and_not_found_codes() -> None:
    backend = seeded()
    obj = backend.objectstorage.get_object("examplens", "tag-policies", "tag_policy.yaml")
    assert obj.data.startswith(b"version: 1")
    with pytest.raises(NotModified):
        backend.objectstorage.get_object(
            "examplens", "tag-policies", "tag_policy.yaml", if_none_match=obj.etag
        )
    newer = backend.objectstorage.put_object("examplens", "tag-policies", "tag_policy.yaml", b"version: 1\n")
    assert newer.etag != obj.etag
    assert backend.objectstorage.get_object(
        "examplens", "tag-policies", "tag_policy.yaml", obj.etag
    ).data == (b"version: 1\n")
    assert (
        error_of(backend.objectstorage.get_object, "examplens", "tag-policies", "nope").code
        == "ObjectNotFound"
    )
    assert error_of(backend.objectstorage.get_object, "examplens", "nope", "x").code == "BucketNotFound"
    assert error_of(backend.objectstorage.put_object, "examplens", "nope", "x", b"").code == "BucketNotFound"
    backend.objectstorage.delete_object("examplens", "tag-policies", "tag_policy.yaml")
    assert (
        error_of(backend.objectstorage.get_object, "examplens", "tag-policies", "tag_policy.yaml").status
        == 404
    )


def test_snapshot_round_trips_through_from_seed() -> None:
    backend = seeded()
    backend.blockstorage.update_volume_group_backup(B1, {"freeformTags": {"x": "y"}}, None)
    clone = Backend.from_seed(backend.snapshot())
    assert clone.blockstorage.get_volume_group_backup(B1)[0]["freeformTags"] == {"x": "y"}
    assert clone.snapshot()["objects"][0]["content"] == backend.snapshot()["objects"][0]["content"]
    assert clone.tenancy_id == backend.tenancy_id


def test_two_backends_share_nothing() -> None:
    a, b = seeded(), seeded()
    a.blockstorage.update_volume_group_backup(B1, {"displayName": "only-in-a"}, None)
    assert b.blockstorage.get_volume_group_backup(B1)[0]["displayName"] != "only-in-a"
    assert a.log.count("GetVolumeGroupBackup") == 0
