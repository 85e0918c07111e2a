"""Request parsing: the shipped sample events, manual and sweep requests, and every bad shape."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.requests.bodies import BackupRequest, Ignored, Rejected, SweepRequest, parse_request

# Copies of ../shared/events, so the tests do not depend on where shared/ is laid.
EVENTS = Path(__file__).resolve().parent / "data" / "events"
BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
BACKUP_2 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000002"


def sample(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def test_cloudevents_01_sample() -> None:
    req = parse_request(sample("createvolumegroupbackup-end.json"))
    assert isinstance(req, BackupRequest)
    assert req.backup_id == BACKUP_1 and req.dry_run is False
    assert req.event is not None
    assert req.event.event_id == "6f1b2f2e-3c1a-4d8e-9a77-0c5d1a2b3c4d"
    assert req.event.compartment_name == "prod"
    assert req.event.resource_name.startswith("Auto-backup")


def test_cloudevents_10_sample() -> None:
    req = parse_request(sample("createvolumegroupbackup-end.cloudevents-1.0.json"))
    assert isinstance(req, BackupRequest) and req.backup_id == BACKUP_2
    assert req.event is not None and req.event.event_time == "2026-11-27T05:12:03Z"


def test_manual_sample() -> None:
    req = parse_request(sample("manual.json"))
    assert req == BackupRequest(BACKUP_1, dry_run=True)


def test_own_update_event_is_ignored() -> None:
    req = parse_request(sample("updatevolumegroupbackup.json"))
    assert isinstance(req, Ignored) and "updatevolumegroupbackup" in req.reason


def test_sweep_request() -> None:
    body = {"sweep": {"compartmentId": "ocid1.compartment.oc1..aaaa", "since": "2026-11-01T00:00:00Z"}}
    req = parse_request(json.dumps(body))
    assert req == SweepRequest("ocid1.compartment.oc1..aaaa", datetime(2026, 11, 1, tzinfo=UTC))


def test_failed_operation_event_is_ignored() -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    event["data"]["additionalDetails"]["operationFailed"] = True
    assert isinstance(parse_request(json.dumps(event)), Ignored)


def test_other_event_types_are_ignored() -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    own = ("updatevolumegroupbackup", "updatevolumebackup", "updatebootvolumebackup")
    for kind in (
        "createvolumegroupbackup.begin",
        "deletevolumegroupbackup.end",
        "createvolumebackup.begin",
        *own,
    ):
        event["eventType"] = f"com.oraclecloud.blockvolumes.{kind}"
        assert isinstance(parse_request(json.dumps(event)), Ignored)


VOLUME_BACKUP = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BOOT_BACKUP = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"


@pytest.mark.parametrize(
    ("name", "backup_id", "copy"),
    [
        ("createvolumegroupbackup-end.json", BACKUP_1, False),
        ("createvolumebackup-end.json", VOLUME_BACKUP, False),
        ("createbootvolumebackup-end.json", BOOT_BACKUP, False),
        ("copyvolumebackup-end.json", VOLUME_BACKUP, True),
    ],
)
def test_each_kinds_events(name: str, backup_id: str, copy: bool) -> None:
    req = parse_request(sample(name))
    assert isinstance(req, BackupRequest) and req.backup_id == backup_id
    assert req.event is not None and req.event.copy is copy
    assert "copy" not in req.event.as_context()  # not a template name


@pytest.mark.parametrize(
    ("event_type", "resource_id", "copy"),
    [
        ("copybootvolumebackup.end", BOOT_BACKUP, True),
        ("copyvolumegroupbackup.end", BACKUP_1, True),
        ("createbootvolumebackup.end", BOOT_BACKUP, False),
    ],
)
def test_copy_and_boot_events(event_type: str, resource_id: str, copy: bool) -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    event["eventType"] = f"com.oraclecloud.blockvolumes.{event_type}"
    event["data"]["resourceId"] = resource_id
    req = parse_request(json.dumps(event))
    assert isinstance(req, BackupRequest) and req.backup_id == resource_id
    assert req.event is not None and req.event.copy is copy


@pytest.mark.parametrize(
    ("event_type", "resource_id"),
    [
        ("createvolumebackup.end", BACKUP_1),
        ("createbootvolumebackup.end", VOLUME_BACKUP),
        ("copyvolumebackup.end", BOOT_BACKUP),
    ],
)
def test_an_event_naming_a_backup_of_another_kind_is_rejected(event_type: str, resource_id: str) -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    event["eventType"] = f"com.oraclecloud.blockvolumes.{event_type}"
    event["data"]["resourceId"] = resource_id
    req = parse_request(json.dumps(event))
    assert isinstance(req, Rejected) and "data.resourceId: expected an ocid1." in req.error


@pytest.mark.parametrize("where", [("status",), ("additionalDetails", "status")])
def test_an_event_for_a_failed_operation_is_ignored_wherever_the_status_sits(where: tuple[str, ...]) -> None:
    event = json.loads(sample("createvolumebackup-end.json"))
    target = event["data"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "operationFailed"
    req = parse_request(json.dumps(event))
    assert isinstance(req, Ignored) and "did not succeed" in req.reason and "operationFailed" in req.reason
    target[where[-1]] = "operationSucceed"
    assert isinstance(parse_request(json.dumps(event)), BackupRequest)


def test_manual_request_by_any_kind() -> None:
    for backup_id in (BACKUP_1, VOLUME_BACKUP, BOOT_BACKUP):
        assert parse_request(json.dumps({"backupId": backup_id})) == BackupRequest(backup_id, False)
    assert parse_request(json.dumps({"backupId": BOOT_BACKUP, "dryRun": True})) == BackupRequest(
        BOOT_BACKUP, True
    )
    # The older name keeps working, for group backups only.
    assert parse_request(json.dumps({"volumeGroupBackupId": BACKUP_1})) == BackupRequest(BACKUP_1, False)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"backupId": "ocid1.volume.oc1.iad.aaaa"}, "got an ocid1.volume"),
        ({"backupId": "nope"}, "is not an OCID"),
        ({"backupId": BACKUP_1, "volumeGroupBackupId": BACKUP_1}, "volumeGroupBackupId: unknown field"),
        ({"backupId": VOLUME_BACKUP, "dryRun": 1}, "dryRun"),
    ],
)
def test_manual_request_by_any_kind_refusals(body: dict[str, object], fragment: str) -> None:
    req = parse_request(json.dumps(body))
    assert isinstance(req, Rejected) and fragment in req.error, req


def _event_with(**data_changes: object) -> bytes:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    event["data"].update(data_changes)
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{", "not JSON"),
        (b"[1, 2]", "JSON object, not list"),
        (b'"text"', "JSON object, not str"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{}", "top-level keys: none"),
        (b'{"hello": 1}', "top-level keys: hello"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        (b'{"x": "' + b"a" * (1024 * 1024) + b'"}', "limit is 1048576"),
        (b'{"volumeGroupBackupId": "ocid1.volumebackup.oc1.iad.aaaa"}', "got an ocid1.volumebackup"),
        (b'{"volumeGroupBackupId": "not-an-ocid"}', "is not an OCID"),
        (b'{"volumeGroupBackupId": 5}', "volumeGroupBackupId"),
        (b'{"volumeGroupBackupId": "' + BACKUP_1.encode() + b'", "dryrun": true}', "dryrun: unknown field"),
        (b'{"volumeGroupBackupId": "' + BACKUP_1.encode() + b'", "dryRun": "yes"}', "dryRun"),
        (b'{"sweep": {"compartmentId": "ocid1.volume.oc1..a"}}', "expected an ocid1.compartment"),
        (b'{"sweep": {"compartmentId": "ocid1.compartment.oc1..a", "since": "yesterday"}}', "since"),
        (
            b'{"sweep": {"compartmentId": "ocid1.compartment.oc1..a", "since": "2026-11-01T00:00:00"}}',
            "time zone",
        ),
        (b'{"sweep": "all"}', "sweep"),
        (b'{"eventType": 5}', "eventType"),
        (b'{"specversion": "1.0"}', "type"),
    ],
)
def test_rejections_say_why(body: bytes, fragment: str) -> None:
    req = parse_request(body)
    assert isinstance(req, Rejected), req
    assert fragment in req.error


def test_event_missing_resource_id() -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    del event["data"]["resourceId"]
    req = parse_request(json.dumps(event))
    assert isinstance(req, Rejected) and "resourceId" in req.error


def test_event_without_data() -> None:
    event = json.loads(sample("createvolumegroupbackup-end.json"))
    del event["data"]
    req = parse_request(json.dumps(event))
    assert isinstance(req, Rejected) and "no data" in req.error


def test_event_with_wrong_ocid_kind() -> None:
    req = parse_request(_event_with(resourceId="ocid1.volumebackup.oc1.iad.aaaa"))
    assert isinstance(req, Rejected) and "ocid1.volumebackup" in req.error


def test_str_body_with_lone_surrogate_is_rejected_not_raised() -> None:
    assert isinstance(parse_request("\ud800"), Rejected)
