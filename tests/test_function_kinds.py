"""Every backup kind through the real FDK and the real SDK against the emulator: events, members, requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_function import function_env

EVENTS = Path(__file__).resolve().parent / "data" / "events"
GROUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
GROUP_7 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000007"
MEMBERS_1 = [
    "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup00010000000000000000000000000000001",
    "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup00010000000000000000000000000000002",
]
BOOT_MEMBER_7 = (
    "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup0007000000000000000000000000001"
)
VOLUME_BACKUP = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BOOT_BACKUP = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"
GROUP_EVENT = (EVENTS / "createvolumegroupbackup-end.json").read_bytes()
VOLUME_EVENT = (EVENTS / "createvolumebackup-end.json").read_bytes()
BOOT_EVENT = (EVENTS / "createbootvolumebackup-end.json").read_bytes()
COPY_EVENT = (EVENTS / "copyvolumebackup-end.json").read_bytes()
MEMBER_TAGS = {"backup-kind": "scheduled", "backup-type": "incremental", "source-volume-group": "prod-db-vg"}
UPDATES = ("UpdateVolumeGroupBackup", "UpdateVolumeBackup", "UpdateBootVolumeBackup")


@pytest.fixture
def fn(emulator: EmulatorServer, api_key: ApiKey) -> Iterator[FdkProcess]:
    with FdkProcess(function_env(emulator, api_key)) as proc:
        yield proc


def event(base: bytes, **changes: Any) -> bytes:
    """The event with `data` fields changed (`additionalDetails` merged)."""
    body = json.loads(base)
    details = changes.pop("additionalDetails", None)
    body["data"].update(changes)
    if details:
        body["data"]["additionalDetails"].update(details)
    return json.dumps(body).encode()


def ops(emulator: EmulatorServer) -> list[str]:
    return [r.operation for r in emulator.backend.log.requests()]


def puts(emulator: EmulatorServer) -> int:
    return sum(emulator.backend.log.count(op) for op in UPDATES)


def test_a_volume_backup_event_names_and_tags_it_from_its_volume(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    before = emulator.backend.blockstorage.get_volume_backup(VOLUME_BACKUP)[0]
    reply = fn.call(VOLUME_EVENT)
    answer = reply.json()
    assert reply.status == 200 and answer["status"] == "updated", answer
    assert answer["backupId"] == VOLUME_BACKUP and answer["kind"] == "volume_backup"
    assert "volumeGroupBackupId" not in answer and "members" not in answer  # members: group backups only
    after = emulator.backend.blockstorage.get_volume_backup(VOLUME_BACKUP)[0]
    assert after["freeformTags"]["source-volume"] == "prod-reports"
    assert after["freeformTags"]["backup-kind"] == "scheduled"
    for key, value in before["freeformTags"].items():
        assert after["freeformTags"][key] == value
    assert after["definedTags"] == before["definedTags"]  # Oracle-Tags and the volume's stamps kept
    # GET, the volume (the rule reads source.display_name), one guarded PUT.
    assert ops(emulator) == ["GetVolumeBackup", "GetVolume", "UpdateVolumeBackup"]
    (put,) = emulator.backend.log.requests("UpdateVolumeBackup")
    assert put.if_match and answer["opcRequestId"] == put.opc_request_id
    updated = [e for e in fn.log_lines() if e.get("message") == "updated"]
    assert updated[0]["backup_id"] == VOLUME_BACKUP and updated[0]["kind"] == "volume_backup"
    assert updated[0]["operation"] == "UpdateVolumeBackup" and "volume_group_backup_id" not in updated[0]
    # Every line of the call names the backup and its kind, the answer's line included.
    lines = [e for e in fn.log_lines() if e.get("fn_call_id") == reply.call_id]
    assert lines and all(e["backup_id"] == VOLUME_BACKUP and e["kind"] == "volume_backup" for e in lines)
    assert any(e["message"] == "answered updated" for e in lines)


def test_a_boot_volume_backup_event(fn: FdkProcess, emulator: EmulatorServer) -> None:
    answer = fn.call(BOOT_EVENT).json()
    assert answer["status"] == "updated" and answer["kind"] == "boot_volume_backup", answer
    after = emulator.backend.blockstorage.get_boot_volume_backup(BOOT_BACKUP)[0]
    assert after["freeformTags"]["source-boot-volume"] == "prod-bastion (Boot Volume)"
    assert after["freeformTags"]["role"] == "bastion"  # the boot volume's stamp, kept
    assert ops(emulator) == ["GetBootVolumeBackup", "GetBootVolume", "UpdateBootVolumeBackup"]
    # Delivered twice: compliant, so the second sends no PUT (the rule still reads the boot volume).
    emulator.backend.log.reset()
    assert fn.call(BOOT_EVENT).json()["status"] == "unchanged"
    assert ops(emulator) == ["GetBootVolumeBackup", "GetBootVolume"]


def test_a_copy_event_tags_the_copy_found_in_this_region(fn: FdkProcess, emulator: EmulatorServer) -> None:
    answer = fn.call(COPY_EVENT).json()
    assert answer["status"] == "updated" and answer["backupId"] == VOLUME_BACKUP, answer


def test_a_copy_event_for_a_backup_in_another_region_is_ignored(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    elsewhere = "ocid1.volumebackup.oc1.phx.abyhqljrexamplecopyinphoenix0000000000000000000000000001"
    reply = fn.call(event(COPY_EVENT, resourceId=elsewhere))
    answer = reply.json()
    assert reply.status == 200 and answer["status"] == "ignored", answer
    assert "not in this function's region" in answer["error"]
    assert answer["opcRequestId"] == emulator.backend.log.requests()[-1].opc_request_id
    assert ops(emulator) == ["GetVolumeBackup"]
    # A create event for a missing backup is still not_found: only a copy may live elsewhere.
    missing = fn.call(event(VOLUME_EVENT, resourceId=elsewhere)).json()
    assert missing["status"] == "not_found"


def test_a_failed_operation_event_is_ignored_with_no_call(fn: FdkProcess, emulator: EmulatorServer) -> None:
    for body in (
        event(VOLUME_EVENT, status="operationFailed"),
        event(BOOT_EVENT, additionalDetails={"status": "operationFailed"}),
        event(GROUP_EVENT, additionalDetails={"status": "operationFailed"}),
    ):
        reply = fn.call(body)
        answer = reply.json()
        assert reply.status == 200 and answer["status"] == "ignored", answer
        assert "did not succeed" in answer["error"] and "operationFailed" in answer["error"]
    assert emulator.backend.log.requests() == []


def test_a_group_backup_tags_its_members_keeping_their_own_tags(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    before = {m: emulator.backend.blockstorage.get_volume_backup(m)[0] for m in MEMBERS_1}
    answer = fn.call(GROUP_EVENT).json()
    assert answer["status"] == "updated" and answer["volumeGroupBackupId"] == GROUP_1, answer
    assert answer["kind"] == "volume_group_backup" and answer["backupId"] == GROUP_1
    assert answer["members"] == {"counts": {"updated": 2}, "failures": [], "failuresOmitted": 0}
    for member in MEMBERS_1:
        after = emulator.backend.blockstorage.get_volume_backup(member)[0]
        for key, value in MEMBER_TAGS.items():
            assert after["freeformTags"][key] == value
        for key, value in before[member]["freeformTags"].items():
            assert after["freeformTags"][key] == value  # the volume's stamps (app, role) kept
        assert after["definedTags"] == before[member]["definedTags"]
        assert after["displayName"] == before[member]["displayName"]  # only tags go to members
    # GET group, GET volume group, PUT group; then each member: GET, PUT (etag-guarded).
    assert (
        emulator.backend.log.count("GetVolumeBackup") == 2
        and emulator.backend.log.count("UpdateVolumeBackup") == 2
    )
    assert all(r.if_match for r in emulator.backend.log.requests("UpdateVolumeBackup"))
    # (The tag schema is read once per container, for the copied defined tag: not per backup.)
    storage = [op for op in ops(emulator) if "Tag" not in op]
    assert storage == ["GetVolumeGroupBackup", "GetVolumeGroup", "UpdateVolumeGroupBackup"] + [
        "GetVolumeBackup",
        "UpdateVolumeBackup",
    ] * len(MEMBERS_1)
    member_lines = [e for e in fn.log_lines() if e.get("operation") == "UpdateVolumeBackup"]
    assert {e["backup_id"] for e in member_lines} == set(MEMBERS_1)
    assert {e["group_backup_id"] for e in member_lines} == {GROUP_1}

    # The same event again: everything compliant, no PUT at all, one GET per member.
    emulator.backend.log.reset()
    again = fn.call(GROUP_EVENT).json()
    assert again["status"] == "unchanged" and again["members"]["counts"] == {"unchanged": 2}
    assert puts(emulator) == 0
    assert ops(emulator) == ["GetVolumeGroupBackup", "GetVolumeGroup"] + ["GetVolumeBackup"] * len(MEMBERS_1)


def test_a_group_with_a_boot_volume_member_routes_it_by_its_ocid(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    answer = fn.call({"backupId": GROUP_7}).json()
    assert answer["members"]["counts"] == {"updated": 2}, answer
    boot = emulator.backend.blockstorage.get_boot_volume_backup(BOOT_MEMBER_7)[0]
    assert boot["freeformTags"]["source-volume-group"] == "prod-payments-vg"
    assert emulator.backend.log.count("UpdateBootVolumeBackup") == 1


def test_a_412_race_on_a_member_re_reads_that_member(fn: FdkProcess, emulator: EmulatorServer) -> None:
    assert fn.call(GROUP_EVENT).json()["members"]["counts"] == {"updated": 2}
    # Someone drops a tag from one member; the group itself stays compliant.
    member = MEMBERS_1[1]
    data, etag = emulator.backend.blockstorage.get_volume_backup(member)
    tags = {k: v for k, v in data["freeformTags"].items() if k != "backup-type"}
    emulator.backend.blockstorage.update_volume_backup(member, {"freeformTags": tags}, etag)
    emulator.backend.log.reset()
    emulator.faults.update({"race_412_next": 1})  # the next backup update finds it changed again

    answer = fn.call(GROUP_EVENT).json()

    assert answer["status"] == "unchanged" and answer["members"]["counts"] == {"unchanged": 1, "updated": 1}
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0
    assert emulator.backend.log.count("UpdateVolumeBackup", 412) == 1
    assert emulator.backend.log.count("UpdateVolumeBackup", 200) == 1
    gets = [r.path for r in emulator.backend.log.requests("GetVolumeBackup")]
    assert sum(p.endswith(member) for p in gets) == 2  # read again after the 412
    assert sum(p.endswith(MEMBERS_1[0]) for p in gets) == 1
    after = emulator.backend.blockstorage.get_volume_backup(member)[0]
    assert after["freeformTags"]["backup-type"] == "incremental"
    assert "other-writer" in after["freeformTags"]  # the other writer's change is kept


def test_a_creating_member_is_deferred_not_retried(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = make_emulator(creating_seconds=None)  # CREATING stays CREATING
    server.backend.blockstorage.set_lifecycle_state(MEMBERS_1[1], "CREATING")
    with FdkProcess(function_env(server, api_key)) as proc:
        reply = proc.call(GROUP_EVENT, deadline_seconds=60)
    answer = reply.json()
    assert reply.status == 200 and answer["status"] == "updated", answer
    assert answer["members"]["counts"] == {"updated": 1, "deferred": 1}
    # Read once, never written: no PUT refused with 409 and retried until the deadline.
    gets = [r.path for r in server.backend.log.requests("GetVolumeBackup")]
    assert sum(p.endswith(MEMBERS_1[1]) for p in gets) == 1
    assert [r.path.rsplit("/", 1)[1] for r in server.backend.log.requests("UpdateVolumeBackup")] == [
        MEMBERS_1[0]
    ]


def test_a_creating_backup_is_deferred_on_the_event_path(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = make_emulator(creating_seconds=None)
    server.backend.blockstorage.set_lifecycle_state(VOLUME_BACKUP, "CREATING")
    with FdkProcess(function_env(server, api_key)) as proc:
        answer = proc.call(VOLUME_EVENT).json()
    assert answer["status"] == "deferred" and "CREATING" in answer["error"], answer
    assert [r.operation for r in server.backend.log.requests()] == ["GetVolumeBackup"]


def test_a_member_id_of_another_kind_is_a_failure_with_no_call(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    odd = "ocid1.volume.oc1.iad.abuwcljrexamplevolume0001"
    group, _ = emulator.backend.blockstorage.get_volume_group_backup(GROUP_1)
    # A standalone volume backup (it names no group), a volume's OCID, a path.
    emulator.backend.blockstorage.add_volume_group_backup(
        {**group, "id": GROUP_1[:-3] + "099", "volumeBackupIds": [VOLUME_BACKUP, odd, "../x"]}
    )
    answer = fn.call({"backupId": GROUP_1[:-3] + "099"}).json()
    members = answer["members"]
    assert members["counts"] == {"updated": 1, "failed": 2}, answer
    assert [f["id"] for f in members["failures"]] == [odd, "../x"]
    assert "not a volume or boot volume backup OCID" in members["failures"][0]["error"]
    paths = [r.path for r in emulator.backend.log.requests()]
    assert not any(odd in p or p.endswith("/x") for p in paths)


@pytest.mark.parametrize(
    ("body", "kind", "operation"),
    [
        ({"backupId": VOLUME_BACKUP, "dryRun": True}, "volume_backup", None),
        ({"backupId": BOOT_BACKUP}, "boot_volume_backup", "UpdateBootVolumeBackup"),
        ({"backupId": GROUP_1}, "volume_group_backup", "UpdateVolumeGroupBackup"),
        ({"volumeGroupBackupId": GROUP_1, "dryRun": True}, "volume_group_backup", None),
    ],
)
def test_a_manual_request_by_each_kind(
    fn: FdkProcess, emulator: EmulatorServer, body: dict[str, Any], kind: str, operation: str | None
) -> None:
    reply = fn.call(body)
    answer = reply.json()
    assert reply.status == 200 and answer["kind"] == kind, answer
    assert answer["status"] == ("planned" if body.get("dryRun") else "updated")
    assert answer["changes"]
    if operation is None:
        assert puts(emulator) == 0
        if kind == "volume_group_backup":  # a dry run plans the members too
            assert answer["members"]["counts"] == {"planned": 2}
    else:
        assert emulator.backend.log.count(operation) == 1


def test_an_ocid_of_another_kind_is_rejected(fn: FdkProcess, emulator: EmulatorServer) -> None:
    answer = fn.call({"backupId": "ocid1.volume.oc1.iad.abuwcljrexamplevolume0001"}).json()
    assert answer["status"] == "rejected" and "expected an ocid1.volumegroupbackup" in answer["error"]
    assert emulator.backend.log.requests() == []
