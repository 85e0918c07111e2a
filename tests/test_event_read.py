"""A 404 right after the create event is read again inside the deadline; a manual request answers at once."""

from __future__ import annotations

import time

from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_deadline import warm
from tests.test_function import BACKUP_1, CREATE_EVENT, function_env


def not_found(count: int) -> dict[str, object]:
    """The next `count` GetVolumeGroupBackup answer 404 NotAuthorizedOrNotFound, then the backup."""
    return {"transient_errors": [{"status": 404, "count": count, "operations": ["GetVolumeGroupBackup"]}]}


def test_the_event_path_reads_a_missing_backup_again_and_updates_it(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update(not_found(2))
        reply = fn.call(CREATE_EVENT, deadline_seconds=20)
        lines = fn.log_lines()
    assert reply.status == 200 and reply.json()["status"] == "updated", reply.json()
    gets = emulator.backend.log.requests("GetVolumeGroupBackup")
    assert [r.status for r in gets] == [404, 404, 200]
    again = [e for e in lines if "reading it again" in str(e.get("message"))]
    assert len(again) == 2 and again[0]["opc_request_id"] == gets[0].opc_request_id


def test_the_event_path_gives_up_within_a_few_seconds_and_inside_the_deadline(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update(not_found(100))
        start = time.monotonic()
        reply = fn.call(CREATE_EVENT, deadline_seconds=20)
        elapsed = time.monotonic() - start
        # A short deadline: no wait starts that the time left could not cover.
        emulator.backend.log.reset()
        short = time.monotonic()
        quick = fn.call(CREATE_EVENT, deadline_seconds=3.5)
        short_elapsed = time.monotonic() - short
    assert reply.status == 200 and reply.json()["status"] == "not_found"
    assert emulator.backend.log.count("GetVolumeGroupBackup") <= 3  # the short call's reads
    assert 3.5 <= elapsed < 3.5 + 5.0  # 0.5 + 1 + 2 s of waits, then the answer
    assert quick.json()["status"] == "not_found" and short_elapsed < 3.5


def test_a_manual_request_keeps_its_quick_answer(emulator: EmulatorServer, api_key: ApiKey) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update(not_found(1))
        reply = fn.call({"volumeGroupBackupId": BACKUP_1}, deadline_seconds=20)
    assert reply.status == 200 and reply.json()["status"] == "not_found"
    assert emulator.backend.log.count("GetVolumeGroupBackup") == 1
