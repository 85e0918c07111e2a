"""Fault switches, seen through the real SDK, and the unsigned admin endpoints."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import oci
import pytest

from sync.emulator import EmulatorServer, Faults

B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
Details = oci.core.models.UpdateVolumeGroupBackupDetails


def admin(emulator: EmulatorServer, path: str, payload: Any = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(
        f"{emulator.url}/_emulator/{path}", data=data, method="GET" if data is None else "POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def service_error(fn: Any, *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as info:
        fn(*args, **kwargs)
    return info.value


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_latency_is_added_to_every_request(core_client: Any, emulator: EmulatorServer) -> None:
    emulator.faults.update({"latency_ms": 200})
    start = time.monotonic()
    core_client.get_volume_group_backup(B1)
    assert time.monotonic() - start >= 0.2
    assert [r.fault for r in emulator.backend.log.requests()] == [None]


@pytest.mark.parametrize(
    ("status", "code"), [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable")]
)
def test_error_rate_answers_the_configured_status(
    core_client: Any, emulator: EmulatorServer, status: int, code: str
) -> None:
    emulator.faults.update({"error_rate": 1.0, "error_mix": {status: 1}})
    err = service_error(core_client.get_volume_group_backup, B1)
    assert (err.status, err.code) == (status, code)
    assert err.request_id
    assert ("retry-after" in {k.lower() for k in err.headers}) == (status == 429)
    (rec,) = emulator.backend.log.requests()
    assert rec.fault == f"error:{status}"


def test_injected_errors_only_hit_the_named_operations(core_client: Any, emulator: EmulatorServer) -> None:
    emulator.faults.update({"error_rate": 1.0, "operations": ["UpdateVolumeGroupBackup"]})
    etag = core_client.get_volume_group_backup(B1).headers["etag"]
    err = service_error(core_client.update_volume_group_backup, B1, Details(), if_match=etag)
    assert err.status in (429, 500, 503)


def test_rate_limit_answers_429_with_retry_after(core_client: Any, emulator: EmulatorServer) -> None:
    emulator.faults.update({"rate_limit_rps": 0.5, "rate_limit_burst": 2, "retry_after_seconds": 3})
    assert core_client.get_volume_group_backup(B1).status == 200
    assert core_client.get_volume_group_backup(B1).status == 200
    err = service_error(core_client.get_volume_group_backup, B1)
    assert (err.status, err.code) == (429, "TooManyRequests")
    assert err.headers["retry-after"] == "3"


def test_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    faults = Faults(rate_limit_rps=2, clock=clock)
    assert [faults.decide("Op").status for _ in range(3)] == [None, None, 429]
    clock.now += 0.5
    assert faults.decide("Op").status is None
    assert faults.decide("Op").status == 429
    clock.now += 10
    assert [faults.decide("Op").status for _ in range(3)] == [None, None, 429]


def test_race_412_next_makes_the_next_puts_stale(core_client: Any, emulator: EmulatorServer) -> None:
    emulator.faults.update({"race_412_next": 2})
    for round_ in (1, 2):
        got = core_client.get_volume_group_backup(B1)
        err = service_error(
            core_client.update_volume_group_backup,
            B1,
            Details(display_name=f"try-{round_}"),
            if_match=got.headers["etag"],
        )
        assert (err.status, err.code) == (412, "NoEtagMatch")
    got = core_client.get_volume_group_backup(B1)
    assert got.data.freeform_tags["other-writer"] == "2"
    assert got.data.display_name.startswith("Auto-backup")
    done = core_client.update_volume_group_backup(
        B1,
        Details(display_name="third", freeform_tags=got.data.freeform_tags),
        if_match=got.headers["etag"],
    )
    assert done.status == 200 and done.data.display_name == "third"
    assert emulator.faults.race_412_next == 0


def test_drop_closes_the_connection_without_an_answer(core_client: Any, emulator: EmulatorServer) -> None:
    emulator.faults.update({"drop_rate": 1.0})
    with pytest.raises(oci.exceptions.RequestException):
        core_client.get_volume_group_backup(B1)
    emulator.faults.update({"drop_rate": 0.0})
    assert core_client.get_volume_group_backup(B1).status == 200
    assert [r.fault for r in emulator.backend.log.requests()] == ["drop", None]


def test_slow_answers_outlast_a_short_client_timeout(emulator: EmulatorServer, api_key: Any) -> None:
    from tests.emulator_fixtures import client_kwargs, oci_config

    emulator.faults.update({"slow_rate": 1.0, "slow_seconds": 0.6})
    impatient = oci.core.BlockstorageClient(
        oci_config(api_key), **{**client_kwargs(emulator.url), "timeout": (2, 0.2)}
    )
    start = time.monotonic()
    with pytest.raises(oci.exceptions.RequestException):
        impatient.get_volume_group_backup(B1)
    assert time.monotonic() - start < 0.55
    patient = oci.core.BlockstorageClient(oci_config(api_key), **client_kwargs(emulator.url))
    start = time.monotonic()
    assert patient.get_volume_group_backup(B1).status == 200
    assert time.monotonic() - start >= 0.6


def test_seeded_faults_repeat_exactly() -> None:
    def run() -> list[str | None]:
        faults = Faults(error_rate=0.3, drop_rate=0.1, slow_rate=0.2, slow_seconds=1, seed=42)
        return [faults.decide("GetVolumeGroupBackup").label for _ in range(200)]

    first, second = run(), run()
    assert first == second
    labels = set(first)
    assert {"drop", "error:429", "error:500", "error:503", "slow", None} <= labels


def test_error_mix_weights_are_respected() -> None:
    faults = Faults(error_rate=1.0, error_mix={500: 3, 503: 1}, seed=7)
    statuses = [faults.decide("Op").status for _ in range(2000)]
    share = statuses.count(500) / len(statuses)
    assert 0.7 < share < 0.8
    assert set(statuses) == {500, 503}


def test_invalid_fault_updates_are_refused_and_change_nothing() -> None:
    faults = Faults(latency_ms=5)
    for bad in ({"error_rate": 2}, {"nope": 1}, {"error_mix": {418: 1}}, {"latency_ms": -1}):
        with pytest.raises(ValueError):
            faults.update(bad)
    assert faults.to_dict()["latency_ms"] == 5
    assert faults.to_dict()["error_rate"] == 0.0
    faults.reset()
    assert faults.latency_ms == 0


def test_admin_endpoints(core_client: Any, emulator: EmulatorServer) -> None:
    core_client.get_volume_group_backup(B1)
    status, records = admin(emulator, "requests")
    assert status == 200
    assert [r["operation"] for r in records] == ["GetVolumeGroupBackup"]
    assert records[0]["status"] == 200 and records[0]["opc_request_id"]

    status, faults = admin(emulator, "faults", {"latency_ms": 1, "race_412_next": 1})
    assert status == 200 and faults["race_412_next"] == 1
    assert emulator.faults.latency_ms == 1
    status, err = admin(emulator, "faults", {"error_rate": 5})
    assert status == 400 and err["code"] == "InvalidParameter"
    assert admin(emulator, "faults")[1]["error_rate"] == 0.0

    status, state = admin(emulator, "state")
    assert status == 200
    ids = [b["id"] for b in state["volumeGroupBackups"]]
    assert B1 in ids and all(b["etag"] for b in state["volumeGroupBackups"])

    status, _ = admin(emulator, "lifecycle", {"id": B1, "lifecycleState": "CREATING"})
    assert status == 200
    err_ = service_error(core_client.update_volume_group_backup, B1, Details(display_name="x"))
    assert err_.status == 409

    assert admin(emulator, "reset-log", {})[0] == 200
    assert admin(emulator, "requests")[1] == []
    assert admin(emulator, "nope")[0] == 404


def test_make_emulator_and_seed_endpoint(make_emulator: Any, api_key: Any) -> None:
    from tests.emulator_fixtures import client_kwargs, oci_config

    server = make_emulator(None, creating_seconds=None)
    client = oci.core.BlockstorageClient(oci_config(api_key), **client_kwargs(server.url))
    backup = {"id": "ocid1.volumegroupbackup.oc1..new", "compartmentId": "c", "lifecycleState": "CREATING"}
    assert admin(server, "seed", {"volumeGroupBackups": [backup]})[0] == 200
    assert admin(server, "seed", [1])[0] == 400
    got = client.get_volume_group_backup("ocid1.volumegroupbackup.oc1..new")
    assert got.data.lifecycle_state == "CREATING"  # creating_seconds=None: stays until told
    err = service_error(client.update_volume_group_backup, "ocid1.volumegroupbackup.oc1..new", Details())
    assert err.status == 409
