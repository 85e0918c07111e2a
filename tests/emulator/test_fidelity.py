"""Fidelity switches and answers: transient 4xx, drips and stalls, OCI's tag limits, parse and route errors."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import oci
import pytest

from sync.emulator import SAMPLE_SEED_PATH, ApiKey, Backend, EmulatorServer, Faults, load_seed
from sync.emulator.ocilimits import OCI_LIMITS
from tests.emulator_fixtures import raw, signed_headers

GB1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
VB = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BVB = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaaexampletenancy0000000000000000000000000000000000000"
GroupDetails = oci.core.models.UpdateVolumeGroupBackupDetails


def service_error(fn: Any, *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def unsigned() -> Iterator[EmulatorServer]:
    """The sample seed without signature checks, for raw HTTP (a dripping body is read by hand)."""
    server = EmulatorServer(load_seed(SAMPLE_SEED_PATH), require_signatures=False)
    with server:
        yield server


def open_get(server: EmulatorServer, path: str) -> tuple[socket.socket, bytes, int]:
    """Send a GET on a raw socket; (socket, the first body bytes read, Content-Length)."""
    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "connection closed before the headers ended"
        head += chunk
    header_text, _, body = head.partition(b"\r\n\r\n")
    length = int(next(h for h in header_text.split(b"\r\n") if h.lower().startswith(b"content-length:"))[15:])
    return sock, body, length


# ---- transient 4xx ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "NotAuthorizedOrNotFound"),
        (400, "RelatedResourceNotAuthorizedOrNotFound"),
        (401, "NotAuthenticated"),
    ],
)
def test_transient_4xx_answers_a_set_number_of_times(
    core_client: Any, emulator: EmulatorServer, status: int, code: str
) -> None:
    emulator.faults.update(
        {"transient_errors": [{"status": status, "count": 2, "operations": ["GetVolumeBackup"]}]}
    )
    assert core_client.get_volume_group_backup(GB1).status == 200  # another operation: untouched
    for _ in range(2):
        err = service_error(core_client.get_volume_backup, VB)
        assert (err.status, err.code) == (status, code) and err.request_id and err.message
    assert core_client.get_volume_backup(VB).status == 200  # spent
    assert [r.fault for r in emulator.backend.log.requests("GetVolumeBackup")] == [
        f"transient:{status}"
    ] * 2 + [None]
    assert emulator.faults.to_dict()["transient_errors"][0]["count"] == 0


def test_transient_rules_are_used_in_order_and_checked() -> None:
    faults = Faults(transient_errors=[{"status": 404, "count": 1}, {"status": 401, "count": 1}])
    assert [faults.decide("Any").status for _ in range(3)] == [404, 401, None]
    for bad in ({"status": 500, "count": 1}, {"status": 404}, {"status": 404, "count": -1}, {"x": 1}):
        with pytest.raises(ValueError):
            faults.update({"transient_errors": [bad]})
    assert faults.transient_errors[0]["count"] == 0  # a refused update changes nothing


# ---- drips and stalls ------------------------------------------------------------------------


def test_a_dripping_answer_sends_headers_then_one_byte_per_interval(unsigned: EmulatorServer) -> None:
    unsigned.faults.update({"drip_seconds": 0.2, "drip_operations": ["GetVolumeBackup"]})
    sock, body, length = open_get(unsigned, f"/20160918/volumeBackups/{VB}")
    try:
        assert length > 100 and len(body) <= 1
        start = time.monotonic()
        while len(body) < 6:
            body += sock.recv(1)
        assert time.monotonic() - start >= 4 * 0.2  # sleeps bound this from below, whatever the load
        assert body.startswith(b'{"')
    finally:
        sock.close()
    # Other operations answer whole and at once.
    status, _, whole = raw(unsigned, "GET", f"/20160918/volumeGroupBackups/{GB1}")
    assert status == 200 and json.loads(whole)["id"] == GB1
    assert unsigned.backend.log.requests("GetVolumeBackup")[0].fault == "drip"


def test_a_stalled_answer_sends_half_its_body_and_closes(unsigned: EmulatorServer) -> None:
    unsigned.faults.update({"stall_seconds": 0.3, "stall_operations": ["GetBootVolumeBackup"]})
    sock, body, length = open_get(unsigned, f"/20160918/bootVolumeBackups/{BVB}")
    try:
        while chunk := sock.recv(4096):
            body += chunk
    finally:
        sock.close()
    assert len(body) == length // 2  # then the server closed the connection
    assert unsigned.backend.log.requests("GetBootVolumeBackup")[0].fault == "stall"


def test_stopping_the_server_ends_a_drip() -> None:
    server = EmulatorServer(
        load_seed(SAMPLE_SEED_PATH), require_signatures=False, faults=Faults(drip_seconds=600)
    )
    server.start()
    sock, body, _ = open_get(server, f"/20160918/volumeBackups/{VB}")
    try:
        sock.settimeout(30)
        server.stop()
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
        assert len(body + rest) <= 2  # the drip ended with the server, not 600 s later
    finally:
        sock.close()
        server.stop()


def test_a_drip_outlasts_the_sdks_read_timeout_without_tripping_it(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    # ~600 bytes at one per 5 ms: at least 3 s in all, against a 2 s read timeout that each
    # byte's gap stays far below. The call succeeds late: only a total time cap can stop it.
    emulator.faults.update({"drip_seconds": 0.005, "drip_operations": ["GetVolumeGroup"]})
    kwargs = {
        "service_endpoint": emulator.url,
        "retry_strategy": oci.retry.NoneRetryStrategy(),
        "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
        "timeout": (5, 2),
    }
    client = oci.core.BlockstorageClient(oci.config.from_file(str(api_key.config_path)), **kwargs)
    group_id = client.get_volume_group_backup(GB1).data.volume_group_id
    start = time.monotonic()
    got = client.get_volume_group(group_id)
    assert time.monotonic() - start > 2.0 and got.status == 200 and got.data.id == group_id
    assert emulator.backend.log.requests("GetVolumeGroup")[0].fault == "drip"


# ---- parse and route errors, TERMINATED --------------------------------------------------------


def test_malformed_json_is_400_cannot_parse_request(emulator: EmulatorServer, api_key: ApiKey) -> None:
    path = f"/20160918/volumeBackups/{VB}"
    body = b'{"displayName": "x"'
    status, headers, payload = raw(
        emulator, "PUT", path, body, signed_headers(api_key, emulator, "PUT", path, body)
    )
    assert (status, json.loads(payload)["code"]) == (400, "CannotParseRequest") and headers["opc-request-id"]


def test_an_unsupported_route_is_404_not_found(emulator: EmulatorServer, api_key: ApiKey) -> None:
    for method, path in (("GET", "/20160918/volumeBackupz"), ("DELETE", f"/20160918/volumeBackups/{VB}")):
        status, _, payload = raw(
            emulator, method, path, headers=signed_headers(api_key, emulator, method, path)
        )
        assert (status, json.loads(payload)["code"]) == (404, "NotFound")


@pytest.mark.parametrize("state", ["TERMINATED", "TERMINATING"])
def test_a_put_on_a_terminated_backup_is_409(core_client: Any, emulator: EmulatorServer, state: str) -> None:
    for backup_id in (GB1, VB, BVB):
        emulator.backend.blockstorage.set_lifecycle_state(backup_id, state)
    err = service_error(core_client.update_volume_group_backup, GB1, GroupDetails(display_name="x"))
    assert (err.status, err.code) == (409, "IncorrectState") and state in err.message
    details = oci.core.models.UpdateVolumeBackupDetails(display_name="x")
    assert service_error(core_client.update_volume_backup, VB, details).status == 409
    boot = oci.core.models.UpdateBootVolumeBackupDetails(display_name="x")
    assert service_error(core_client.update_boot_volume_backup, BVB, boot).status == 409
    assert core_client.get_volume_backup(VB).data.lifecycle_state == state


# ---- ListCompartments ------------------------------------------------------------------------


def test_list_compartments_sorts_as_asked(identity_client: Any) -> None:
    def names(**kwargs: Any) -> list[str]:
        return [c.name for c in identity_client.list_compartments(TENANCY, **kwargs).data]

    assert names() == ["dev", "prod"]  # no sortBy: NAME ascending (the emulator's choice)
    assert names(sort_by="NAME", sort_order="DESC") == ["prod", "dev"]
    assert names(sort_by="TIMECREATED") == ["dev", "prod"]  # newest first by default
    assert names(sort_by="TIMECREATED", sort_order="ASC") == ["prod", "dev"]
    subtree = [
        c.name
        for c in identity_client.list_compartments(
            TENANCY, compartment_id_in_subtree=True, sort_by="TIMECREATED", sort_order="ASC"
        ).data
    ]
    assert subtree == ["prod", "prod-db", "dev"]


def test_list_compartments_matches_lifecycle_state_ignoring_case() -> None:
    backend = load_seed(SAMPLE_SEED_PATH)
    backend.identity.add_compartment(
        {
            "id": "ocid1.compartment.oc1..gone",
            "compartmentId": TENANCY,
            "name": "gone",
            "lifecycleState": "DELETED",
        }
    )
    for state in ("ACTIVE", "active", "Active"):
        assert [c["name"] for c in backend.identity.list_compartments(TENANCY, lifecycle_state=state)[0]] == [
            "dev",
            "prod",
        ]
    assert [c["name"] for c in backend.identity.list_compartments(TENANCY, lifecycle_state="deleted")[0]] == [
        "gone"
    ]
    with pytest.raises(Exception, match="sortBy"):
        backend.identity.list_compartments(TENANCY, sort_by="SIZE")


# ---- OCI's tag limits, the emulator's own ----------------------------------------------------


def test_limits_are_oracles_published_numbers() -> None:
    lim = OCI_LIMITS
    assert (lim.freeform_tags_max, lim.defined_tags_max, lim.total_tags_bytes_max) == (10, 64, 5120)
    assert (lim.tag_name_max, lim.tag_value_max) == (100, 256)


def test_ten_freeform_tags_pass_and_eleven_do_not(core_client: Any) -> None:
    ten = {f"k{i}": "v" for i in range(10)}
    assert core_client.update_volume_group_backup(GB1, GroupDetails(freeform_tags=ten)).status == 200
    err = service_error(
        core_client.update_volume_group_backup, GB1, GroupDetails(freeform_tags={**ten, "k10": "v"})
    )
    assert (err.status, err.code) == (400, "InvalidParameter") and "10" in err.message


def test_values_count_characters_and_names_100_characters() -> None:
    backend = load_seed(SAMPLE_SEED_PATH)
    backend.blockstorage.update_volume_group_backup(
        GB1, {"freeformTags": {"k": "é" * 256}}, None
    )  # 512 bytes, 256 chars
    with pytest.raises(Exception, match="256"):
        backend.blockstorage.update_volume_group_backup(GB1, {"freeformTags": {"k": "é" * 257}}, None)
    backend.blockstorage.update_volume_group_backup(GB1, {"freeformTags": {"k" * 100: "v"}}, None)
    with pytest.raises(Exception, match="100"):
        backend.blockstorage.update_volume_group_backup(GB1, {"freeformTags": {"k" * 101: "v"}}, None)


def test_oracle_tags_count_in_the_byte_budget() -> None:
    backend = load_seed(SAMPLE_SEED_PATH)
    data, _ = backend.blockstorage.get_volume_group_backup(GB1)
    oracle = json.dumps(data["definedTags"], separators=(",", ":"), ensure_ascii=False).encode()
    assert b"Oracle-Tags" in oracle

    def freeform_of(size: int) -> dict[str, str]:
        # Nine values of 256 "é" (512 bytes each) and one sized so the JSON is `size` bytes.
        tags = {f"k{i}": "é" * 256 for i in range(9)}
        base = len(json.dumps({**tags, "z": ""}, separators=(",", ":"), ensure_ascii=False).encode())
        tags["z"] = "é" * ((size - base) // 2) + "v" * ((size - base) % 2)
        return tags

    fits_alone = freeform_of(OCI_LIMITS.total_tags_bytes_max - 2)  # + "{}" for empty defined tags
    with pytest.raises(Exception, match="Total size"):  # with the backup's Oracle-Tags it is too much
        backend.blockstorage.update_volume_group_backup(GB1, {"freeformTags": fits_alone}, None)
    backend.blockstorage.update_volume_group_backup(
        GB1, {"freeformTags": fits_alone, "definedTags": {}}, None
    )
    with_oracle = freeform_of(OCI_LIMITS.total_tags_bytes_max - len(oracle))
    fresh = load_seed(SAMPLE_SEED_PATH)
    fresh.blockstorage.update_volume_group_backup(
        GB1, {"freeformTags": with_oracle}, None
    )  # exactly the budget


# ---- validating every defined tag ------------------------------------------------------------


def _retired_on_backup(backend: Backend) -> dict[str, Any]:
    """GB1 with a value of the retired key Operations.LegacyProject, as if set before it was retired."""
    data, _ = backend.blockstorage.get_volume_group_backup(GB1)
    defined = {**data["definedTags"], "Operations": {"LegacyProject": "apollo"}}
    backend.blockstorage.add_volume_group_backup({**data, "definedTags": defined})
    return defined


def test_by_default_values_already_on_the_backup_are_not_checked(
    core_client: Any, emulator: EmulatorServer
) -> None:
    defined = _retired_on_backup(emulator.backend)
    sent = {**defined, "Operations": {**defined["Operations"], "Owner": "team"}}
    assert core_client.update_volume_group_backup(GB1, GroupDetails(defined_tags=sent)).status == 200


def test_validate_all_refuses_a_retired_key_already_on_the_backup(
    core_client: Any, emulator: EmulatorServer
) -> None:
    defined = _retired_on_backup(emulator.backend)
    emulator.backend.tag_checks.update({"validateAllDefinedTags": True})
    sent = {**defined, "Operations": {**defined["Operations"], "Owner": "team"}}
    err = service_error(core_client.update_volume_group_backup, GB1, GroupDetails(defined_tags=sent))
    assert (err.status, err.code) == (400, "InvalidParameter") and "LegacyProject" in err.message
    assert "Owner" not in core_client.get_volume_group_backup(GB1).data.defined_tags["Operations"]
    # Freeform tags alone leave definedTags out of the body: nothing to check.
    assert core_client.update_volume_group_backup(GB1, GroupDetails(freeform_tags={"a": "b"})).status == 200


def test_unusable_namespaces_refuse_oracle_tags_sent_back(core_client: Any, emulator: EmulatorServer) -> None:
    current = core_client.get_volume_group_backup(GB1).data.defined_tags
    sent = {**current, "Operations": {"Owner": "team"}}
    emulator.backend.tag_checks.update({"unusableTagNamespaces": ["oracle-tags"]})
    # Unchanged Oracle-Tags values pass unless every key is validated ...
    assert core_client.update_volume_group_backup(GB1, GroupDetails(defined_tags=sent)).status == 200
    changed = {**sent, "Oracle-Tags": {**current["Oracle-Tags"], "CreatedBy": "someone"}}
    err = service_error(core_client.update_volume_group_backup, GB1, GroupDetails(defined_tags=changed))
    assert (err.status, err.code) == (400, "RelatedResourceNotAuthorizedOrNotFound")
    # ... and with validateAllDefinedTags, sending them back at all is refused.
    emulator.backend.tag_checks.update({"validateAllDefinedTags": True})
    again = {**sent, "Operations": {"Owner": "other"}}
    err = service_error(core_client.update_volume_group_backup, GB1, GroupDetails(defined_tags=again))
    assert (err.status, err.code) == (400, "RelatedResourceNotAuthorizedOrNotFound")
    assert "'Oracle-Tags'" in err.message


def test_tag_checks_admin_endpoint(emulator: EmulatorServer) -> None:
    def call(payload: Any = None) -> tuple[int, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        status, _, body = raw(emulator, "POST" if data else "GET", "/_emulator/tag-checks", data or b"")
        return status, json.loads(body)

    assert call() == (200, {"validateAllDefinedTags": False, "unusableTagNamespaces": []})
    status, got = call({"validateAllDefinedTags": True, "unusableTagNamespaces": ["Oracle-Tags"]})
    assert status == 200 and got == {"validateAllDefinedTags": True, "unusableTagNamespaces": ["Oracle-Tags"]}
    assert emulator.backend.tag_checks.validate_all_defined
    assert call({"validateAllDefinedTags": "yes"})[0] == 400
    assert call({"nope": 1})[0] == 400
    assert emulator.backend.tag_checks.validate_all_defined  # unchanged by refused updates


def test_cli_switches_build_the_faults_and_checks() -> None:
    from sync.emulator.cli import build_parser, faults_from_args, tag_checks_from_args

    args = build_parser().parse_args(
        [
            "--transient-error",
            "404:2:GetVolumeBackup,GetBootVolumeBackup",
            "--transient-error",
            "401:1",
            "--drip-seconds",
            "0.5",
            "--drip-operations",
            "PostMetricData",
            "--stall-seconds",
            "3",
            "--stall-operations",
            "GetVolumeBackup",
            "--validate-all-defined-tags",
            "--unusable-tag-namespaces",
            "Oracle-Tags",
        ]
    )
    faults = faults_from_args(args)
    assert faults.transient_errors == [
        {"status": 404, "count": 2, "operations": ["GetVolumeBackup", "GetBootVolumeBackup"]},
        {"status": 401, "count": 1, "operations": None},
    ]
    assert (faults.drip_seconds, faults.drip_operations) == (0.5, ["PostMetricData"])
    assert (faults.stall_seconds, faults.stall_operations) == (3, ["GetVolumeBackup"])
    assert tag_checks_from_args(args) == {
        "validateAllDefinedTags": True,
        "unusableTagNamespaces": ["Oracle-Tags"],
    }
    with pytest.raises(ValueError):
        faults_from_args(build_parser().parse_args(["--transient-error", "404"]))
