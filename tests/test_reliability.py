"""Reliability under races, duplicate deliveries and faults: the function under the real FDK.

Counts are small in `make test`; `make bench` (tests/bench/run_all.py) sets the full ones:
RACE_TRIALS=200, DELIVERY_ROUNDS=50, FAULT_EVENTS=500. Each test prints a one-line summary
(visible with `pytest -s`).
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sync.emulator import ApiKey, Backend, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_function import BACKUP_1, CREATE_EVENT, function_env

RACE_TRIALS = int(os.environ.get("RACE_TRIALS", "24"))
DELIVERY_ROUNDS = int(os.environ.get("DELIVERY_ROUNDS", "6"))
FAULT_EVENTS = int(os.environ.get("FAULT_EVENTS", "24"))
FAULT_WORKERS = int(os.environ.get("FAULT_WORKERS", "4"))

UPDATE = "UpdateVolumeGroupBackup"
EXPECTED_NAME = "prod-db-vg-incremental-20261127-0400"

# The rename only applies to service-made names, so a name set by hand in a race must survive;
# provenance tags do not overwrite, so a value set by hand for one of them must survive too.
RACE_POLICY = """
version: 1
rules:
  - name: rename-auto
    match: {display_name: {regex: "^Auto-backup"}}
    display_name: "${volume_group.display_name|slug}-${backup.type|lower}-${backup.time_created|date:%Y%m%d-%H%M}"
  - name: provenance
    freeform_tags:
      backup-kind: "${backup.source_type|lower}"
      source-volume-group: "${volume_group.display_name}"
    copy_tags_from_volume_group: true
    overwrite: false
"""


def event_for(backup_id: str) -> bytes:
    body = json.loads(CREATE_EVENT)
    body["data"]["resourceId"] = backup_id
    return json.dumps(body).encode()


def effective_writes(backend: Backend, backup_id: str) -> int:
    """PUTs that changed the backup (200), from the emulator's request log."""
    return sum(
        1 for r in backend.log.requests(UPDATE) if r.status == 200 and r.path.endswith("/" + backup_id)
    )


def assert_clean_stderr(proc: FdkProcess) -> None:
    text = proc.stderr_text()
    assert "Traceback" not in text
    for line in text.splitlines():
        if line.strip():
            assert isinstance(json.loads(line), dict), line


class OtherWriter:
    """Changes a backup as another writer would, after our GET and just before our PUT lands."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.original = backend.blockstorage.update_volume_group_backup
        self.pending: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        backend.blockstorage.update_volume_group_backup = self.update  # type: ignore[method-assign]

    def update(self, backup_id: str, body: Any, if_match: str | None) -> tuple[dict[str, Any], str]:
        change, self.pending = self.pending, None
        if change is not None:
            current = self.backend.blockstorage.get_volume_group_backup(backup_id)[0]
            self.original(backup_id, change(current), None)
        return self.original(backup_id, body, if_match)


@pytest.fixture
def pristine(emulator: EmulatorServer) -> Callable[[], None]:
    original = copy.deepcopy(emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0])

    def reset() -> None:
        emulator.backend.blockstorage.add_volume_group_backup(original)
        emulator.backend.log.reset()

    return reset


def test_races_between_get_and_put_lose_no_other_writers_change(
    emulator: EmulatorServer, api_key: ApiKey, pristine: Callable[[], None]
) -> None:
    writer = OtherWriter(emulator.backend)
    kinds = ("tag", "policy-tag", "name")
    seen: Counter[str] = Counter()
    with FdkProcess(function_env(emulator, api_key, TAG_POLICY=RACE_POLICY)) as fn:
        for trial in range(RACE_TRIALS):
            pristine()
            kind = kinds[trial % len(kinds)]
            mark = f"by-hand-{trial}"
            if kind == "tag":
                writer.pending = lambda b, m=mark: {"freeformTags": {**b["freeformTags"], "other": m}}
            elif kind == "policy-tag":
                writer.pending = lambda b, m=mark: {"freeformTags": {**b["freeformTags"], "backup-kind": m}}
            else:
                writer.pending = lambda b, m=mark: {"displayName": m}
            answer = fn.call(CREATE_EVENT).json()
            seen[answer["status"]] += 1
            after = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
            tags = after["freeformTags"]
            # Ours: written once, after reading the other writer's version (one 412 first).
            assert answer["status"] == "updated", answer
            assert emulator.backend.log.count(UPDATE, 412) == 1
            assert effective_writes(emulator.backend, BACKUP_1) == 1  # theirs is not an HTTP PUT
            assert tags["ticket"] == "OPS-4711" and tags["env"] == "prod"
            assert tags["source-volume-group"] == "prod-db-vg"
            if kind == "tag":
                assert tags["other"] == mark and tags["backup-kind"] == "scheduled"
                assert after["displayName"] == EXPECTED_NAME
            elif kind == "policy-tag":
                assert tags["backup-kind"] == mark  # overwrite: false keeps theirs
                assert after["displayName"] == EXPECTED_NAME
            else:
                assert after["displayName"] == mark  # no longer a service-made name
                assert tags["backup-kind"] == "scheduled"
            assert after["definedTags"]["Oracle-Tags"]["CreatedBy"]
        assert_clean_stderr(fn)
    print(f"\nraces: {RACE_TRIALS} trials ({', '.join(kinds)}), answers {dict(seen)}, 0 lost changes")


def test_fdk_serves_one_call_at_a_time_per_container(emulator: EmulatorServer, api_key: ApiKey) -> None:
    """Five calls sent at once to one FDK process are handled one after another.

    The FDK runs a synchronous handler on its asyncio loop, so a container never runs two
    invocations at once (Fn also sends a hot container one call at a time); concurrency for
    one backup comes from several containers, which the next test runs.
    """
    with FdkProcess(function_env(emulator, api_key)) as fn:
        fn.call(CREATE_EVENT)  # warm: imports and clients
        emulator.faults.update({"latency_ms": 100})  # compliant now: 2 calls, >= 0.2 s each
        start = time.monotonic()
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda _: fn.call(CREATE_EVENT).json()["status"], range(5)))
        elapsed = time.monotonic() - start
    assert answers == ["unchanged"] * 5
    assert elapsed >= 5 * 0.2 * 0.9, elapsed  # serial: ~1.0 s; concurrent would be ~0.2 s
    print(f"\nfdk concurrency: 5 calls at once to one process took {elapsed:.2f} s (serial)")


@pytest.fixture
def containers(emulator: EmulatorServer, api_key: ApiKey) -> Iterator[list[FdkProcess]]:
    procs = [FdkProcess(function_env(emulator, api_key)) for _ in range(5)]
    try:
        with ThreadPoolExecutor(5) as pool:
            list(pool.map(lambda p: p.start(), procs))
        yield procs
    finally:
        for proc in procs:
            proc.cleanup()


def test_same_event_delivered_five_times_at_once_writes_once(
    emulator: EmulatorServer, containers: list[FdkProcess], pristine: Callable[[], None]
) -> None:
    outcomes: Counter[str] = Counter()
    for round_ in range(DELIVERY_ROUNDS):
        pristine()
        if round_ % 2:
            # Half the rounds, another writer also changes the backup mid-flight.
            emulator.faults.update({"race_412_next": 1})
        barrier = threading.Barrier(len(containers))

        def deliver(proc: FdkProcess, barrier: threading.Barrier = barrier) -> tuple[int, str]:
            barrier.wait()
            reply = proc.call(CREATE_EVENT)
            return reply.status, reply.json()["status"]

        with ThreadPoolExecutor(len(containers)) as pool:
            replies = list(pool.map(deliver, containers))
        statuses = Counter(status for _, status in replies)
        outcomes.update(statuses)
        assert all(code == 200 for code, _ in replies), replies
        assert statuses["updated"] == 1 and statuses["unchanged"] == 4, replies
        ours = effective_writes(emulator.backend, BACKUP_1)
        assert ours == 1, f"round {round_}: {ours} effective writes"
        after = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
        assert after["displayName"] == EXPECTED_NAME
        assert after["freeformTags"]["backup-kind"] == "scheduled"
        if round_ % 2:
            assert "other-writer" in after["freeformTags"]  # the other writer's change survived
    for proc in containers:
        assert_clean_stderr(proc)
    print(
        f"\nduplicates: {DELIVERY_ROUNDS} rounds x 5 concurrent deliveries (5 containers), "
        f"answers {dict(outcomes)}, 1 effective write per round"
    )


def test_faults_every_event_applied_exactly_once(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    emulator = make_emulator()
    template = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
    ids = [f"{BACKUP_1[:-6]}{i:06d}" for i in range(FAULT_EVENTS)]
    for backup_id in ids:
        # Copies without members: they would all share BACKUP_1's member backups, and this test is
        # about the group backups' own writes (members are covered in tests/test_function_kinds.py).
        emulator.backend.blockstorage.add_volume_group_backup(
            {**copy.deepcopy(template), "id": backup_id, "volumeBackupIds": []}
        )
    emulator.faults.update(
        {
            "error_rate": 0.20,
            "error_mix": {429: 1.0, 503: 1.0},
            "drop_rate": 0.05,
            "slow_rate": 0.02,
            "slow_seconds": 1.0,
            "seed": 7,
            "operations": ["GetVolumeGroupBackup", "GetVolumeGroup", UPDATE],
        }
    )
    env = function_env(emulator, api_key, OCI_READ_TIMEOUT_SECONDS="0.4")
    procs = [FdkProcess(env) for _ in range(FAULT_WORKERS)]
    deliveries: Counter[str] = Counter()
    redelivered = 0
    lock = threading.Lock()

    def run(worker: int) -> None:
        nonlocal redelivered
        proc = procs[worker]
        for backup_id in ids[worker::FAULT_WORKERS]:
            for attempt in range(8):
                reply = proc.call(event_for(backup_id), deadline_seconds=5)
                answer = reply.json()
                with lock:
                    deliveries[f"{reply.status} {answer['status']}"] += 1
                    redelivered += attempt > 0
                if reply.status == 200:
                    assert answer["status"] in ("updated", "unchanged"), answer
                    break
                assert reply.status == 502 and answer["status"] == "failed", answer
            else:
                raise AssertionError(f"{backup_id} still failing after 8 deliveries")

    try:
        with ThreadPoolExecutor(FAULT_WORKERS) as pool:
            list(pool.map(lambda p: p.start(), procs))
            list(pool.map(run, range(FAULT_WORKERS)))
        for proc in procs:
            assert_clean_stderr(proc)
    finally:
        for proc in procs:
            proc.cleanup()
    faults = Counter(r.fault for r in emulator.backend.log.requests() if r.fault)
    for backup_id in ids:
        after = emulator.backend.blockstorage.get_volume_group_backup(backup_id)[0]
        assert after["displayName"] == EXPECTED_NAME, backup_id
        assert after["freeformTags"]["backup-kind"] == "scheduled"
        assert effective_writes(emulator.backend, backup_id) == 1, backup_id
    print(
        f"\nfaults: {FAULT_EVENTS} events, injected {dict(faults)}; deliveries {dict(deliveries)}; "
        f"{redelivered} redeliveries; every backup written exactly once, no traceback"
    )
