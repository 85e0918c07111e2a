"""Slow OCI, unknown write outcomes, refused endpoints and path-bearing ids: real FDK, SDK, emulator."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync.clock import CLOCK_FILE_ENV, FileClock
from sync.emulator import SAMPLE_SEED_PATH, ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_function import BACKUP_1, CREATE_EVENT, function_env

ROOT = Path(__file__).resolve().parents[1]
BACKUP_2 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000002"
HOSTILE_VG = f"ocid1.volumegroup.oc1..x/../../volumeGroupBackups/{BACKUP_2}"


def seed_with(**backup_1: Any) -> dict[str, Any]:
    seed: dict[str, Any] = json.loads(SAMPLE_SEED_PATH.read_text())
    seed["volumeGroupBackups"][0].update(backup_1)
    return seed


def warm(fn: FdkProcess, emulator: EmulatorServer) -> None:
    """One dry run first, so the measured call is not also the container's cold start."""
    assert fn.call({"volumeGroupBackupId": BACKUP_2, "dryRun": True}).status == 200
    emulator.backend.log.reset()


def wait_for(
    emulator: EmulatorServer, operation: str, status: int | None = None, seconds: float = 6.0
) -> None:
    """The emulator logs a request once it has answered it (after any injected latency)."""
    until = time.monotonic() + seconds
    while emulator.backend.log.count(operation, status) < 1 and time.monotonic() < until:
        time.sleep(0.05)


def test_slow_oci_answers_before_the_deadline(emulator: EmulatorServer, api_key: ApiKey) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update({"latency_ms": 2500})
        start = time.monotonic()
        reply = fn.call(CREATE_EVENT, deadline_seconds=4)
        elapsed = time.monotonic() - start
        logs = fn.log_lines()
    assert elapsed < 4.0
    # The GET could not finish in the time left: transient, so the platform retries the event.
    assert reply.status == 502
    answer = reply.json()
    assert answer["status"] == "failed" and "no answer in time" in answer["error"]
    assert [e for e in logs if str(e.get("message", "")).startswith("answered failed")]
    # Only one call was started: none began when the time left could not cover it.
    wait_for(emulator, "GetVolumeGroupBackup")
    time.sleep(0.5)
    assert emulator.backend.log.count("GetVolumeGroupBackup") == 1
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_a_write_without_an_answer_is_transient_and_the_next_delivery_is_idempotent(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update(
            {"slow_rate": 1.0, "slow_seconds": 4.0, "operations": ["UpdateVolumeGroupBackup"]}
        )
        start = time.monotonic()
        reply = fn.call(CREATE_EVENT, deadline_seconds=5)
        assert time.monotonic() - start < 5.0
        assert reply.status == 502, (
            reply.json(),
            fn.log_lines(),
            [r.to_dict() for r in emulator.backend.log.requests()],
        )
        answer = reply.json()
        assert answer["status"] == "failed" and "may or may not have been applied" in answer["error"]
        unknown = [e for e in fn.log_lines() if e.get("message") == "UpdateVolumeGroupBackup outcome unknown"]
        assert len(unknown) == 1
        assert unknown[0]["volume_group_backup_id"] == BACKUP_1 and unknown[0]["outcome"] == "unknown"
        assert unknown[0]["changes"]["displayName"]["new"]
        # The slow PUT lands after we gave up; the redelivery re-reads and finds nothing to do.
        wait_for(emulator, "UpdateVolumeGroupBackup", 200)
        emulator.faults.update({"slow_rate": 0.0})
        again = fn.call(CREATE_EVENT)
    assert again.status == 200 and again.json()["status"] == "unchanged"
    assert emulator.backend.log.count("UpdateVolumeGroupBackup", 200) == 1


def test_a_path_bearing_volume_group_id_never_becomes_a_path(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = make_emulator(seed=seed_with(volumeGroupId=HOSTILE_VG))
    other_before = server.backend.blockstorage.get_volume_group_backup(BACKUP_2)[0]
    with FdkProcess(function_env(server, api_key)) as fn:
        reply = fn.call(CREATE_EVENT)
        warnings = [e for e in fn.log_lines() if e.get("level") == "warning"]
    answer = reply.json()
    assert reply.status == 200
    assert any("is not a volume group OCID" in w for w in answer.get("warnings", []))
    assert any("is not a volume group OCID" in str(w.get("message")) for w in warnings)
    paths = {(r.method, r.path) for r in server.backend.log.requests()}
    # The group backup and (the shipped policy tags members) its own member backups, nothing else.
    members = server.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]["volumeBackupIds"]
    allowed = {f"/20160918/volumeGroupBackups/{BACKUP_1}", *(f"/20160918/volumeBackups/{m}" for m in members)}
    assert {path for _, path in paths} <= allowed and {method for method, _ in paths} <= {"GET", "PUT"}
    assert server.backend.log.count("GetVolumeGroup") == 0
    # The rule that needs the volume group did not match: nothing came from the other backup.
    after = server.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
    assert other_before["displayName"] not in after["displayName"]


def test_a_listed_backup_id_that_is_not_an_ocid_fails_without_a_request(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    from sync.cloud.clients import Clients, OciSettings
    from sync.cloud.engine import Engine
    from sync.cloud.retry import Deadline
    from sync.policy.loader import load_policy

    server = make_emulator()
    policy = load_policy((ROOT / "tag_policy.yaml").read_text(), "tag_policy.yaml")
    engine = Engine.on(Clients(OciSettings.from_env(server.client_env(api_key))), lambda: policy)
    hostile = f"{BACKUP_1}/../../volumeGroups/x"
    outcome = engine.sync_backup(hostile, dry_run=False, deadline=Deadline.after(10))
    assert outcome.status == "rejected" and not outcome.transient
    assert "is not the OCID of a volume group, volume or boot volume backup" in str(outcome.error)
    assert server.backend.log.requests() == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_apply_against_a_refused_endpoint_fails_fast_with_the_whole_message(
    api_key: ApiKey, tmp_path: Path
) -> None:
    port = _closed_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OCI_AUTH": "config_file",
        "OCI_CONFIG_FILE": str(api_key.config_path),
        "OCI_CORE_ENDPOINT": f"http://127.0.0.1:{port}",
    }
    # The retries' waits run on a test clock (sync/clock.py), so the machine's load cannot add to
    # them: `elapsed` is the time the command spent waiting, in that clock; nothing else counts.
    clock = FileClock(str(tmp_path / "clock"), start=1_000_000.0)
    env[CLOCK_FILE_ENV] = clock.path
    startup = 0.0
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "apply", "--backup", BACKUP_1, "--policy", "tag_policy.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = clock.time() - 1_000_000.0
    # A refused endpoint is a setting to fix: the command checks it before any call (exit 2).
    assert proc.returncode == 2
    assert elapsed - startup < 5.5  # not the whole --timeout
    assert proc.stderr == (
        f"error: cannot reach http://127.0.0.1:{port} (OCI_CORE_ENDPOINT): Connection refused; "
        "check the setting and the network\n"
    )
