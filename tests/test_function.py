"""The function end to end: real FDK on a unix socket, real oci SDK, the emulator as OCI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.clock import CLOCK_FILE_ENV, FileClock
from sync.emulator import ApiKey, EmulatorServer, generate_api_key
from sync.function.fnrunner import FdkProcess

EVENTS = Path(__file__).resolve().parent / "data" / "events"
BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
CREATE_EVENT = (EVENTS / "createvolumegroupbackup-end.json").read_bytes()


def function_env(emulator: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "info", **emulator.client_env(key), **extra}


@pytest.fixture
def fn(emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path) -> Iterator[FdkProcess]:
    """The function on a test clock (sync/clock.py): its deadlines and backoff run in that time
    only, so a loaded machine cannot eat a call's budget."""
    clock = FileClock(str(tmp_path / "clock"), start=time.time())
    with FdkProcess(function_env(emulator, api_key, **{CLOCK_FILE_ENV: clock.path})) as proc:
        yield proc


def backup(emulator: EmulatorServer, backup_id: str = BACKUP_1) -> dict[str, Any]:
    return emulator.backend.blockstorage.get_volume_group_backup(backup_id)[0]


def test_scheduled_backup_is_renamed_and_tagged_keeping_other_tags(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    before = backup(emulator)
    reply = fn.call(CREATE_EVENT)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    answer = reply.json()
    assert answer["status"] == "updated"
    assert answer["volumeGroupBackupId"] == BACKUP_1
    after = backup(emulator)
    assert after["displayName"] == "prod-db-vg-incremental-20261127-0400"
    assert after["freeformTags"]["backup-kind"] == "scheduled"
    assert after["freeformTags"]["source-volume-group"] == "prod-db-vg"
    assert after["definedTags"]["Operations"]["CostCenter"] == "cc-1234"
    # Nothing the backup had is lost: other people's freeform tags and Oracle-Tags stay.
    for key, value in before["freeformTags"].items():
        assert after["freeformTags"][key] == value
    for ns, keys in before["definedTags"].items():
        for key, value in keys.items():
            assert after["definedTags"][ns][key] == value
    puts = emulator.backend.log.requests("UpdateVolumeGroupBackup")
    assert len(puts) == 1 and puts[0].if_match  # guarded by the GET's etag
    assert answer["opcRequestId"] == puts[0].opc_request_id
    updated = [e for e in fn.log_lines() if e.get("message") == "updated"]
    assert updated and updated[0]["opc_request_id"] == puts[0].opc_request_id
    assert updated[0]["fn_call_id"] == reply.call_id


def test_same_event_twice_is_unchanged_with_no_second_put(fn: FdkProcess, emulator: EmulatorServer) -> None:
    assert fn.call(CREATE_EVENT).json()["status"] == "updated"
    second = fn.call(CREATE_EVENT).json()
    assert second["status"] == "unchanged" and second["changes"] == {}
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 1


def test_own_update_event_is_ignored_without_any_oci_call(fn: FdkProcess, emulator: EmulatorServer) -> None:
    reply = fn.call((EVENTS / "updatevolumegroupbackup.json").read_bytes())
    assert reply.status == 200 and reply.json()["status"] == "ignored"
    assert emulator.backend.log.requests() == []


def test_manual_dry_run_plans_and_writes_nothing(fn: FdkProcess, emulator: EmulatorServer) -> None:
    answer = fn.call((EVENTS / "manual.json").read_bytes()).json()
    assert answer["status"] == "planned"
    assert answer["changes"]["displayName"]["new"] == "prod-db-vg-incremental-20261127-0400"
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_412_race_keeps_the_other_writers_change_and_the_policys(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    emulator.faults.update({"race_412_next": 2})
    answer = fn.call(CREATE_EVENT).json()
    assert answer["status"] == "updated"
    after = backup(emulator)
    assert after["freeformTags"]["other-writer"] == "2"  # the other writer's last change
    assert after["freeformTags"]["backup-kind"] == "scheduled"
    assert after["displayName"] == "prod-db-vg-incremental-20261127-0400"
    assert emulator.backend.log.count("UpdateVolumeGroupBackup", 412) == 2
    assert emulator.backend.log.count("UpdateVolumeGroupBackup", 200) == 1
    assert emulator.backend.log.count("GetVolumeGroupBackup") == 3  # read again after each 412


def test_injected_500s_end_failed_with_the_servers_request_id_logged(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    # Warm the container first (the FDK imports func.py inside the first call): on a loaded
    # machine that import alone can eat the 2 s this test leaves for the retries.
    assert fn.call((EVENTS / "updatevolumegroupbackup.json").read_bytes()).json()["status"] == "ignored"
    emulator.faults.update(
        {"error_rate": 1.0, "error_mix": {500: 1.0}, "operations": ["UpdateVolumeGroupBackup"], "seed": 1}
    )
    reply = fn.call(CREATE_EVENT, deadline_seconds=4)
    # Transient and out of time: the invocation fails so the platform counts it.
    assert reply.status == 502
    answer = reply.json()
    assert answer["status"] == "failed"
    last_put = emulator.backend.log.requests("UpdateVolumeGroupBackup")[-1]
    assert last_put.status == 500
    assert answer["opcRequestId"] == last_put.opc_request_id
    errors = [
        e for e in fn.log_lines() if e["level"] == "error" and e.get("operation") == "UpdateVolumeGroupBackup"
    ]
    assert {e["opc_request_id"] for e in errors} == {
        r.opc_request_id for r in emulator.backend.log.requests("UpdateVolumeGroupBackup")
    }
    for entry in errors:
        assert entry["status"] == 500 and entry["code"] and entry["message"]
        assert entry["volume_group_backup_id"] == BACKUP_1
    assert errors[-1]["will_retry"] is False


def test_missing_backup_is_not_found(fn: FdkProcess, emulator: EmulatorServer) -> None:
    body = {"volumeGroupBackupId": "ocid1.volumegroupbackup.oc1.iad.doesnotexist"}
    reply = fn.call(body)
    assert reply.status == 200
    answer = reply.json()
    assert answer["status"] == "not_found"
    assert answer["opcRequestId"] == emulator.backend.log.requests("GetVolumeGroupBackup")[0].opc_request_id


def test_bad_signature_fails_with_401_and_its_request_id(emulator: EmulatorServer, tmp_path: Path) -> None:
    stranger = generate_api_key(tmp_path)  # a key the emulator does not know
    with FdkProcess(function_env(emulator, stranger)) as proc:
        reply = proc.call(CREATE_EVENT)
        lines = proc.log_lines()
    assert reply.status == 200  # permanent: an answer, not a failed invocation
    answer = reply.json()
    assert answer["status"] == "failed" and "401" in answer["error"]
    rec = emulator.backend.log.requests("GetVolumeGroupBackup")
    assert len(rec) == 1 and rec[0].status == 401  # not retried
    assert answer["opcRequestId"] == rec[0].opc_request_id
    logged = [e for e in lines if e.get("code") == "NotAuthenticated"]
    assert logged and logged[0]["opc_request_id"] == rec[0].opc_request_id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"\xff\xfe\x00",
        b"[]",
        b'{"volumeGroupBackupId": "ocid1.volume.oc1.iad.aaaa"}',
        b'{"eventType": "com.oraclecloud.blockvolumes.createvolumegroupbackup.end", "data": {}}',
        b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}',
    ],
    ids=["empty", "truncated", "not-utf8", "list", "wrong-ocid", "no-resource", "huge"],
)
def test_malformed_bodies_are_rejected_with_200(
    fn: FdkProcess, emulator: EmulatorServer, body: bytes
) -> None:
    reply = fn.call(body)
    assert reply.status == 200
    answer = reply.json()
    assert answer["status"] == "rejected" and answer["error"]
    assert emulator.backend.log.requests() == []


def test_invalid_policy_rejects_every_call_with_the_reason(emulator: EmulatorServer, api_key: ApiKey) -> None:
    env = function_env(
        emulator, api_key, TAG_POLICY="version: 1\nrules: [{name: a, display_name: '${backup.nope}'}]"
    )
    with FdkProcess(env) as proc:
        answers = [proc.call(CREATE_EVENT).json() for _ in range(2)]
    for answer in answers:
        assert answer["status"] == "rejected"
        assert "rule 'a' (rules[0]): display_name: unknown name" in answer["error"]
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_no_credential_in_any_log_line(emulator: EmulatorServer, api_key: ApiKey) -> None:
    env = function_env(emulator, api_key, LOG_LEVEL="debug")
    with FdkProcess(env) as proc:
        emulator.faults.update({"race_412_next": 1})
        proc.call(CREATE_EVENT)
        proc.call({"volumeGroupBackupId": "ocid1.volumegroupbackup.oc1.iad.doesnotexist"})
        text = proc.stderr_text()
    assert text.strip(), "expected log output at debug level"
    key_pem = api_key.private_key_path.read_text()
    key_lines = [line for line in key_pem.splitlines() if line and "-----" not in line]
    forbidden = [
        "PRIVATE KEY",
        "Signature version",
        'signature="',
        "keyId=",
        '"authorization"',
        "authorization:",
        *key_lines,
    ]
    for needle in forbidden:
        assert needle.lower() not in text.lower(), needle
    for line in text.splitlines():
        if line.startswith("{"):
            json.loads(line)  # every line we write is one JSON object


def test_update_denied_is_failed_naming_the_permission(fn: FdkProcess, emulator: EmulatorServer) -> None:
    # OCI answers 404 NotAuthorizedOrNotFound to a caller without the permission.
    emulator.faults.update({"denied_operations": ["UpdateVolumeGroupBackup"]})
    reply = fn.call(CREATE_EVENT)
    assert reply.status == 200  # permanent: an answer, not a failed invocation
    answer = reply.json()
    assert answer["status"] == "failed"
    assert "VOLUME_GROUP_BACKUP_UPDATE" in answer["error"]
    put = emulator.backend.log.requests("UpdateVolumeGroupBackup")
    assert len(put) == 1 and put[0].status == 404  # not retried
    assert answer["opcRequestId"] == put[0].opc_request_id


@pytest.mark.parametrize("where", ["TAG_POLICY", "bundled file"])
def test_policy_loading_stops_at_the_deadline_and_is_not_a_cached_verdict(
    emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path, where: str
) -> None:
    """An invocation whose deadline leaves no time to load the policy answers at once, saying
    so, as a transient failure; the next invocation loads the policy and does the work."""
    from sync.cloud.retry import DEADLINE_MARGIN_SECONDS

    clock = FileClock(str(tmp_path / "clock"), start=time.time())  # no time passes unless slept
    extra = {CLOCK_FILE_ENV: clock.path}
    if where == "TAG_POLICY":
        extra["TAG_POLICY"] = (Path(__file__).resolve().parents[1] / "tag_policy.yaml").read_text()
    with FdkProcess(function_env(emulator, api_key, **extra)) as proc:
        # Fn-Deadline inside the margin the function keeps for answering: no time left to load.
        late = proc.call(CREATE_EVENT, deadline_seconds=DEADLINE_MARGIN_SECONDS / 2)
        assert emulator.backend.log.requests() == []  # nothing was read or sent
        again = proc.call(CREATE_EVENT)
        lines = proc.log_lines()
    assert late.status == 502  # transient: the platform counts it, a retry may succeed
    answer = late.json()
    assert answer["status"] == "failed" and answer["volumeGroupBackupId"] == BACKUP_1
    assert "loading stopped: the time allowed for it ran out" in answer["error"]
    assert "the next call loads it again" in answer["error"]
    assert again.status == 200 and again.json()["status"] == "updated"  # no cached rejection
    stopped = [e for e in lines if "stopped at the caller's deadline" in e.get("message", "")]
    assert len(stopped) == 1 and stopped[0]["level"] == "warning"
    assert stopped[0]["fn_call_id"] == late.call_id
    assert not [e for e in lines if "is invalid" in e.get("message", "")]


def test_a_tenancy_that_checks_every_defined_tag_refuses_oracle_tags_sent_back(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    """OCI replaces definedTags whole, so a PUT that adds Operations.CostCenter sends the
    backup's Oracle-Tags back too. Where every defined key is checked and the function may not
    `use` Oracle-Tags, that PUT is refused: the answer and the log name the namespace and the
    request id, nothing is written, and a rule that leaves defined tags alone still applies."""
    before = backup(emulator)
    assert "Oracle-Tags" in before["definedTags"]  # the sample backup carries OCI's own tags
    emulator.backend.tag_checks.update(
        {"validateAllDefinedTags": True, "unusableTagNamespaces": ["Oracle-Tags"]}
    )
    reply = fn.call(CREATE_EVENT)
    assert reply.status == 200  # permanent: an answer, not a failed invocation to retry
    answer = reply.json()
    assert answer["status"] == "failed"
    assert (
        "400 RelatedResourceNotAuthorizedOrNotFound" in answer["error"] and "Oracle-Tags" in answer["error"]
    )
    [put] = emulator.backend.log.requests("UpdateVolumeGroupBackup")  # not retried
    assert put.status == 400 and answer["opcRequestId"] == put.opc_request_id
    assert backup(emulator) == before  # nothing half-applied
    [logged] = [e for e in fn.log_lines() if e.get("operation") == "UpdateVolumeGroupBackup"]
    assert logged["level"] == "error" and logged["code"] == "RelatedResourceNotAuthorizedOrNotFound"
    assert "Oracle-Tags" in logged["message"] and logged["opc_request_id"] == put.opc_request_id
    assert logged["volume_group_backup_id"] == BACKUP_1


def test_where_every_defined_tag_is_checked_rules_leaving_defined_tags_alone_still_apply(
    emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path
) -> None:
    policy = "version: 1\nrules:\n  - name: kind\n    freeform_tags: {backup-kind: '${backup.source_type|lower}'}\n"
    emulator.backend.tag_checks.update(
        {"validateAllDefinedTags": True, "unusableTagNamespaces": ["Oracle-Tags"]}
    )
    clock = FileClock(str(tmp_path / "clock"), start=time.time())
    with FdkProcess(
        function_env(emulator, api_key, TAG_POLICY=policy, **{CLOCK_FILE_ENV: clock.path})
    ) as proc:
        answer = proc.call(CREATE_EVENT).json()
    assert answer["status"] == "updated"
    [put] = emulator.backend.log.requests("UpdateVolumeGroupBackup")
    assert put.body is not None and "definedTags" not in json.loads(put.body)  # Oracle-Tags not sent back
    assert "Oracle-Tags" in backup(emulator)["definedTags"]
