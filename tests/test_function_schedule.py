"""Scheduled sweeps and their continuation: the real FDK, invoked by the emulator's Functions service."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync.emulator import ApiKey, Backend, EmulatorServer
from sync.emulator.functions import forward_to_unix_socket
from sync.function.fnrunner import FdkProcess
from tests.test_sweep import CHILD, COMP, GRANDCHILD, OTHER, POLICY_TEXT, SEED, populate, stale_ids

FUNCTION_ID = "ocid1.fnfunc.oc1.iad.aaaaaaaabackuptagsync"
SCHEDULED_DAILY = {"sweep": {"compartmentId": COMP, "recursive": True, "since": "2d"}}


@pytest.fixture
def server(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(seed=SEED, creating_seconds=None)


def env_for(server: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "TAG_POLICY": POLICY_TEXT,
        "LOG_LEVEL": "info",
        **server.client_env(key),
        **extra,
    }


def add_old_backups(backend: Backend, compartment: str, n: int, age: timedelta) -> list[str]:
    """n backups `age` old that the policy would change (no provenance tags)."""
    when = (datetime.now(UTC) - age).isoformat().replace("+00:00", "Z")
    ids = []
    for i in range(n):
        bid = f"ocid1.volumegroupbackup.oc1..old{compartment[-6:]}{i:04d}"
        backend.blockstorage.add_volume_group_backup(
            {
                "id": bid,
                "compartmentId": compartment,
                "volumeGroupId": "ocid1.volumegroup.oc1..sweepvg0000",
                "displayName": f"old-{i}",
                "type": "FULL",
                "sourceType": "SCHEDULED",
                "lifecycleState": "AVAILABLE",
                "timeCreated": when,
                "freeformTags": {},
            }
        )
        ids.append(bid)
    return ids


def puts_per_backup(backend: Backend) -> Counter[str]:
    return Counter(r.path.rsplit("/", 1)[-1] for r in backend.log.requests("UpdateVolumeGroupBackup"))


def test_scheduled_daily_body_sweeps_the_compartment_tree_back_two_days(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    recent = datetime.now(UTC) - timedelta(hours=3)
    stale_recent: list[str] = []
    for comp in (COMP, CHILD, GRANDCHILD, OTHER):
        stale_recent += populate(server.backend, 10, comp, groups=2, start=recent)[1]
    old = [
        bid for comp in (COMP, CHILD) for bid in add_old_backups(server.backend, comp, 3, timedelta(days=5))
    ]

    with FdkProcess(env_for(server, api_key)) as fn:
        # Exactly what the Resource Scheduler schedule sends (deploy/ creates it).
        reply = fn.call(json.dumps(SCHEDULED_DAILY))
    answer = reply.json()

    assert reply.status == 200 and answer["status"] == "swept", answer
    assert answer["compartments"] == 3 and answer["scanned"] == 30  # 10 recent in each of 3
    assert answer["counts"] == {"updated": 15, "unchanged": 15}
    puts = puts_per_backup(server.backend)
    in_tree = {b for b in stale_recent if OTHER[-6:] not in b}
    assert set(puts) == in_tree and set(puts.values()) == {1}
    assert not set(old) & set(puts)  # older than 2 days: left for the weekly full pass
    weekly = {"sweep": {"compartmentId": COMP, "recursive": True}}
    with FdkProcess(env_for(server, api_key)) as fn:
        full = fn.call(weekly).json()
    assert full["status"] == "swept" and full["counts"] == {"updated": 6, "unchanged": 30}
    assert all(OTHER[-6:] in b for b in stale_ids(server.backend))


@pytest.mark.parametrize("since", ["99999999999999d", "0m0", "2026-13-01T00:00:00Z", 172800])
def test_absurd_since_is_rejected_with_no_call(server: EmulatorServer, api_key: ApiKey, since: Any) -> None:
    with FdkProcess(env_for(server, api_key)) as fn:
        reply = fn.call({"sweep": {"compartmentId": COMP, "since": since}})
    assert reply.status == 200 and reply.json()["status"] == "rejected"
    assert "since" in reply.json()["error"]
    assert server.backend.log.requests() == []


def run_chain(
    server: EmulatorServer, key: ApiKey, deadline: float, **extra: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One invocation from the 'scheduler'; its continuations run through the emulator's Functions service."""
    env = env_for(
        server, key, FUNCTION_ID=FUNCTION_ID, FUNCTION_INVOKE_ENDPOINT=server.url, LOG_LEVEL="info", **extra
    )
    with FdkProcess(env) as fn:
        server.backend.functions.register_function(
            FUNCTION_ID, forward_to_unix_socket(fn.socket_path), deadline
        )
        # Warm (imports, clients, policy) on an empty compartment: the chain measures sweeping.
        assert fn.call({"sweep": {"compartmentId": OTHER}}).json()["status"] == "swept"
        first = fn.call({"sweep": {"compartmentId": COMP}}, deadline_seconds=deadline).json()
        assert server.backend.functions.wait_for_detached(timeout=180)
        logs = fn.log_lines()
    links = []
    for inv in server.backend.functions.invocations(FUNCTION_ID):
        assert inv.invoke_type == "detached" and inv.headers["fn-invoke-type"] == "detached"
        assert inv.forward_status == 200, inv.forward_error
        links.append({"body": json.loads(inv.body), "answer": json.loads(inv.forward_body or "{}")})
    return first, links, logs


def test_sweep_larger_than_a_deadline_finishes_through_detached_continuations(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    _, stale = populate(server.backend, 400, groups=4)
    server.faults.update({"latency_ms": 40})
    first, links, _ = run_chain(server, api_key, deadline=6.0)

    assert first["status"] == "partial" and first.get("continuation") == 1, json.dumps(
        {k: v for k, v in first.items() if k not in ("backups", "resumeToken")}
    )
    invokes = server.backend.log.requests("InvokeFunction")
    assert first["continuedAs"] == invokes[0].opc_request_id and invokes[0].status == 202
    assert len(links) >= 1 and len(links) == len(invokes)
    depths = [link["body"]["sweep"]["continuation"] for link in links]
    assert depths == list(range(1, len(links) + 1))
    previous = first
    for link in links:  # each link resumes exactly where the one before stopped
        assert link["body"]["sweep"]["page"] == previous["resumeToken"]
        previous = link["answer"]
    assert previous["status"] == "swept" and "continuedAs" not in previous
    assert stale_ids(server.backend) == []
    puts = puts_per_backup(server.backend)
    assert set(puts) == set(stale) and max(puts.values()) == 1  # no backup updated twice
    updated = sum(a.get("counts", {}).get("updated", 0) for a in [first, *[x["answer"] for x in links]])
    assert updated == len(stale)


def test_continuations_stop_at_the_limit_and_log_how_to_resume(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    populate(server.backend, 400, groups=4)
    server.faults.update({"latency_ms": 80})  # 200 updates x 2 calls x 80 ms / 8 threads: 4 s
    first, links, logs = run_chain(server, api_key, deadline=5.0, SWEEP_MAX_CONTINUATIONS="1")

    assert first.get("continuation") == 1, json.dumps(
        {k: v for k, v in first.items() if k not in ("backups", "resumeToken")}
    )
    assert len(links) == 1
    last = links[0]["answer"]
    assert last["status"] == "partial" and last["resumeToken"]
    assert "continuedAs" not in last and "SWEEP_MAX_CONTINUATIONS" in last["continuationStopped"]
    (stopped,) = [e for e in logs if "SWEEP_MAX_CONTINUATIONS" in e.get("message", "")]
    assert stopped["level"] == "error"
    resume = json.loads(stopped["resume_body"])
    assert resume["sweep"]["page"] == last["resumeToken"] and resume["sweep"]["compartmentId"] == COMP
    assert server.backend.log.count("InvokeFunction") == 1
