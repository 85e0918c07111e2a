"""Promises the engine keeps that no other test protected (issue 18, item 7); each can fail.

How each was shown to fail: emptying SKIPPED_STATES, making backoff_delay ignore its
retry_after, letting copy_from copy Oracle-Tags, calling the source lookup unconditionally, and
removing the limiter's lock each made the matching test below fail (see the commit message).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from sync.cloud.calls import Retries
from sync.cloud.clients import Clients, OciSettings
from sync.cloud.engine import Engine
from sync.cloud.limiter import AdaptiveLimiter
from sync.cloud.retry import Deadline
from sync.domain.status import Status
from sync.emulator import ApiKey, EmulatorServer
from sync.policy.loader import Policy, load_policy
from sync.policy.planner import plan

BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
BACKUP_ONLY = load_policy(
    "version: 1\nrules:\n  - name: r\n    freeform_tags: {kind: '${backup.type}'}\n", "p"
)
READS_GROUP = load_policy(
    "version: 1\nrules:\n  - name: r\n    freeform_tags: {group: '${volume_group.display_name}'}\n", "p"
)


class FakeTime:
    """A clock that only the recorded sleeps move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def engine(server: EmulatorServer, key: ApiKey, policy: Policy, retries: Retries | None = None) -> Engine:
    return Engine.on(Clients(OciSettings.from_env(server.client_env(key))), lambda: policy, retries)


@pytest.mark.parametrize("state", ["TERMINATING", "TERMINATED", "FAULTY"])
def test_a_backup_on_its_way_out_is_ignored_and_never_written(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, state: str
) -> None:
    server = make_emulator(creating_seconds=None)
    server.backend.blockstorage.add_volume_group_backup(
        {
            "id": BACKUP_1.replace("001", "777"),
            "compartmentId": "ocid1.compartment.oc1..x",
            "lifecycleState": state,
        }
    )
    outcome = engine(server, api_key, BACKUP_ONLY).sync_backup(
        BACKUP_1.replace("001", "777"), dry_run=False, deadline=Deadline.after(30)
    )
    assert (outcome.status, outcome.error) == (Status.IGNORED, f"backup is {state}")
    assert server.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_retry_after_is_honoured(make_emulator: Callable[..., EmulatorServer], api_key: ApiKey) -> None:
    server = make_emulator()
    server.faults.update(
        {
            "error_rate": 1.0,
            "error_mix": {429: 1.0},
            "retry_after_seconds": 7,
            "operations": ["GetVolumeGroupBackup"],
        }
    )
    fake = FakeTime()
    retries = Retries(sleep=fake.sleep, clock=fake.clock)
    outcome = engine(server, api_key, BACKUP_ONLY, retries).sync_backup(
        BACKUP_1, dry_run=True, deadline=Deadline(20.0, fake.clock)
    )
    # Every wait is at least the server's Retry-After; after two (14 s) the next would pass the deadline.
    assert outcome.status is Status.FAILED and outcome.transient
    assert fake.sleeps and all(s >= 7 for s in fake.sleeps) and len(fake.sleeps) == 2
    assert server.backend.log.count("GetVolumeGroupBackup") == 3


def test_oracle_tags_are_never_copied_from_the_volume_group() -> None:
    policy = load_policy(
        "version: 1\nrules:\n  - name: r\n    copy_tags_from_volume_group: true\n", "copy-all-defined"
    )
    group = {
        "display_name": "vg",
        "defined_tags": {"Oracle-Tags": {"CreatedBy": "someone"}, "Operations": {"CostCenter": "cc-1"}},
    }
    # The backup holds no Oracle-Tags of its own: a copy would show.
    result = plan(policy, {"id": "b", "display_name": "x", "defined_tags": {}}, group)
    assert result.desired.defined_tags == {"Operations": {"CostCenter": "cc-1"}}


@pytest.mark.parametrize(
    ("policy", "reads"), [(BACKUP_ONLY, 0), (READS_GROUP, 1)], ids=["backup-only", "group"]
)
def test_the_volume_group_is_read_only_when_a_rule_needs_it(
    emulator: EmulatorServer, api_key: ApiKey, policy: Policy, reads: int
) -> None:
    outcome = engine(emulator, api_key, policy).sync_backup(
        BACKUP_1, dry_run=True, deadline=Deadline.after(30)
    )
    assert outcome.status is Status.PLANNED
    assert emulator.backend.log.count("GetVolumeGroup") == reads


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Threads switch as often as the interpreter allows, so unguarded updates interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_the_limiter_hands_out_each_slot_once(busy_switching: None) -> None:
    # A clock frozen at 0 and a fixed rate: the n-th grant waits exactly n/rate. Without the
    # lock, threads read the same next slot and two grants share a wait.
    waits: list[float] = []
    waits_lock = threading.Lock()

    def record(seconds: float) -> None:
        with waits_lock:
            waits.append(round(seconds, 6))

    limiter = AdaptiveLimiter(1000.0, clock=lambda: 0.0, sleep=record)
    deadline = Deadline(10_000.0, lambda: 0.0)

    def work() -> None:
        for _ in range(1500):
            limiter.acquire(deadline)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.granted == 12_000
    assert len(set(waits)) == len(waits) == 12_000 - 1  # the first grant does not wait
