"""The emulator's tag namespaces through the real SDK: Identity's tag API, and the checks on update."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync.emulator import SAMPLE_SEED_PATH, Backend, EmulatorServer

TENANCY = "ocid1.tenancy.oc1..aaaaaaaaexampletenancy0000000000000000000000000000000000000"
B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"


def service_error(fn: Any, *args: Any, **kwargs: Any) -> Any:
    import oci

    with pytest.raises(oci.exceptions.ServiceError) as info:
        fn(*args, **kwargs)
    return info.value


def operations_id(identity_client: Any) -> str:
    namespaces = identity_client.list_tag_namespaces(TENANCY, include_subcompartments=True).data
    return next(ns.id for ns in namespaces if ns.name == "Operations")


def test_list_tag_namespaces_pages_like_the_other_lists(make_emulator: Any, api_key: Any) -> None:
    import oci

    from tests.emulator_fixtures import client_kwargs, oci_config

    seed = json.loads(SAMPLE_SEED_PATH.read_text())
    seed["tagNamespaces"] = {f"Ns{i:02d}": ["K"] for i in range(25)}
    server = make_emulator(seed=seed)
    client = oci.identity.IdentityClient(oci_config(api_key), **client_kwargs(server.url))
    first = client.list_tag_namespaces(TENANCY, limit=10)
    assert [ns.name for ns in first.data] == [f"Ns{i:02d}" for i in range(10)]
    assert first.has_next_page
    every = oci.pagination.list_call_get_all_results(
        client.list_tag_namespaces, TENANCY, include_subcompartments=True, limit=10
    ).data
    assert len(every) == 25 and all(ns.lifecycle_state == "ACTIVE" and not ns.is_retired for ns in every)
    assert server.backend.log.count("ListTagNamespaces") == 4


def test_list_tags_and_get_tag_with_validators(identity_client: Any) -> None:
    ns_id = operations_id(identity_client)
    summaries = {t.name: t for t in identity_client.list_tags(ns_id).data}
    assert set(summaries) == {"CostCenter", "Environment", "LegacyProject", "Owner", "Tier"}
    assert summaries["LegacyProject"].is_retired and summaries["CostCenter"].is_cost_tracking
    env = identity_client.get_tag(ns_id, "Environment").data
    assert env.validator.validator_type == "ENUM" and env.validator.values == ["prod", "staging", "dev"]
    assert env.tag_namespace_name == "Operations" and env.lifecycle_state == "ACTIVE"
    assert identity_client.get_tag(ns_id, "Owner").data.validator is None
    err = service_error(identity_client.get_tag, ns_id, "NoSuchKey")
    assert (err.status, err.code) == (404, "NotAuthorizedOrNotFound")
    err = service_error(identity_client.list_tags, "ocid1.tagnamespace.oc1..aaaaaaaanope")
    assert err.status == 404


def test_update_matches_names_ignoring_case_and_stores_the_canonical_casing(core_client: Any) -> None:
    import oci

    details = oci.core.models.UpdateVolumeGroupBackupDetails(
        defined_tags={"operations": {"costcenter": "cc-9", "ENVIRONMENT": "dev"}, "Oracle-Tags": {}}
    )
    got = core_client.update_volume_group_backup(B1, details).data
    assert got.defined_tags["Operations"] == {"CostCenter": "cc-9", "Environment": "dev"}
    assert "operations" not in got.defined_tags


@pytest.mark.parametrize(
    ("defined", "status", "code", "needle"),
    [
        ({"Finance": {"Budget": "x"}}, 400, "RelatedResourceNotAuthorizedOrNotFound", "'Finance'"),
        (
            {"Operations": {"Budget": "x"}},
            400,
            "RelatedResourceNotAuthorizedOrNotFound",
            "TagDefinition Budget in TagNamespace Operations does not exists",
        ),
        ({"Operations": {"LegacyProject": "x"}}, 400, "InvalidParameter", "retired"),
        ({"Operations": {"Environment": "Prod"}}, 400, "InvalidParameter", "prod, staging, dev"),
        (
            {"Operations": {"Tier": "a"}, "OPERATIONS": {"tier": "b"}},
            400,
            "InvalidParameter",
            "more than once",
        ),
    ],
)
def test_unknown_retired_and_disallowed_tags_are_refused(
    core_client: Any, emulator: EmulatorServer, defined: dict[str, Any], status: int, code: str, needle: str
) -> None:
    import oci

    before = emulator.backend.blockstorage.get_volume_group_backup(B1)
    details = oci.core.models.UpdateVolumeGroupBackupDetails(defined_tags=defined)
    err = service_error(core_client.update_volume_group_backup, B1, details)
    assert (err.status, err.code) == (status, code)
    assert needle in err.message
    assert emulator.backend.blockstorage.get_volume_group_backup(B1) == before


def test_values_already_on_the_backup_may_be_sent_back() -> None:
    seed = json.loads(SAMPLE_SEED_PATH.read_text())
    seed["volumeGroupBackups"][0]["definedTags"]["Operations"] = {"LegacyProject": "old", "Environment": "qa"}
    backend = Backend.from_seed(seed)
    _, etag = backend.blockstorage.get_volume_group_backup(B1)
    data, _ = backend.blockstorage.update_volume_group_backup(
        B1, {"definedTags": {"operations": {"legacyproject": "old", "environment": "qa", "Tier": "t"}}}, etag
    )
    assert data["definedTags"] == {"Operations": {"LegacyProject": "old", "Environment": "qa", "Tier": "t"}}


def test_snapshot_round_trips_the_seed_formats() -> None:
    seed = json.loads(SAMPLE_SEED_PATH.read_text())
    snap = Backend.from_seed(seed).snapshot()
    assert snap["tagNamespaces"]["Oracle-Tags"] == ["CreatedBy", "CreatedOn"]
    ops = snap["tagNamespaces"]["Operations"]["tags"]
    assert ops["Environment"]["validator"]["values"] == ["prod", "staging", "dev"]
    assert ops["LegacyProject"] == {"isRetired": True} and ops["Owner"] == {}
    assert Backend.from_seed(snap).snapshot()["tagNamespaces"] == snap["tagNamespaces"]
