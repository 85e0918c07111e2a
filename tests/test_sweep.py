"""Sweeps against the emulator: real SDK over HTTP, thousands of synthetic backups, faults on."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync.cloud.clients import Clients, OciSettings
from sync.cloud.engine import Engine
from sync.cloud.retry import Deadline
from sync.emulator import ApiKey, Backend, EmulatorServer, Faults
from sync.function.fnrunner import FdkProcess
from sync.policy.fields import from_api_json
from sync.policy.loader import Policy, load_policy
from sync.policy.planner import plan
from sync.sweep.runner import SweepOptions, SweepResult, decode_token, run_sweep

TENANCY = "ocid1.tenancy.oc1..aaaaaaaasweeptenancy"
COMP = "ocid1.compartment.oc1..aaaaaaaasweepcomp"
CHILD = "ocid1.compartment.oc1..aaaaaaaasweepchild"
GRANDCHILD = "ocid1.compartment.oc1..aaaaaaaasweepgrandchild"
OTHER = "ocid1.compartment.oc1..aaaaaaaasweepother"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

POLICY_TEXT = """
version: 1
rules:
  - name: provenance
    freeform_tags:
      backup-kind: "${backup.source_type|lower}"
      source-volume-group: "${volume_group.display_name}"
"""
POLICY = load_policy(POLICY_TEXT, "test-policy")
# POLICY has no `kind`: a sweep lists every kind (here, only group backups are there).
LIST_AND_VG = {"ListVolumeGroupBackups", "ListVolumeBackups", "ListBootVolumeBackups"}
LIST_AND_VG |= {"GetVolumeGroup", "ListCompartments"}


def vg_id(g: int) -> str:
    return f"ocid1.volumegroup.oc1..sweepvg{g:04d}"


def backup_id(compartment: str, i: int) -> str:
    return f"ocid1.volumegroupbackup.oc1..{compartment[-6:]}b{i:06d}"


def populate(
    backend: Backend,
    n: int,
    compartment: str = COMP,
    *,
    groups: int = 20,
    start: datetime = T0,
    state: str = "AVAILABLE",
) -> tuple[list[str], list[str]]:
    """n backups, one a minute from start; even ones compliant with POLICY. (compliant, not) ids."""
    compliant, stale = [], []
    for g in range(groups):
        backend.blockstorage.add_volume_group(
            {"id": vg_id(g), "displayName": f"vg-{g}", "compartmentId": compartment}
        )
    for i in range(n):
        g = i % groups
        ok = i % 2 == 0
        tags = {"backup-kind": "scheduled", "source-volume-group": f"vg-{g}"} if ok else {"keep": f"me-{i}"}
        bid = backup_id(compartment, i)
        backend.blockstorage.add_volume_group_backup(
            {
                "id": bid,
                "compartmentId": compartment,
                "volumeGroupId": vg_id(g),
                "displayName": f"backup-{i}",
                "type": "FULL",
                "sourceType": "SCHEDULED",
                "lifecycleState": state,
                "timeCreated": (start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
                "freeformTags": tags,
            }
        )
        (compliant if ok else stale).append(bid)
    return compliant, stale


SEED = {
    "tenancyId": TENANCY,
    "compartments": [
        {"id": COMP, "compartmentId": TENANCY, "name": "main"},
        {"id": CHILD, "compartmentId": COMP, "name": "child"},
        {"id": GRANDCHILD, "compartmentId": CHILD, "name": "grandchild"},
        {"id": OTHER, "compartmentId": TENANCY, "name": "other"},
    ],
}


def engine_for(server: EmulatorServer, key: ApiKey, policy: Policy = POLICY) -> Engine:
    settings = OciSettings.from_env(server.client_env(key))
    clients = Clients(settings)
    clients.blockstorage()  # built before a test's deadline starts (slow on a busy machine)
    return Engine.on(clients, lambda: policy)


def stale_ids(backend: Backend, policy: Policy = POLICY) -> list[str]:
    """Backups that the policy would still change, judged from the emulator's own state."""
    state = backend.snapshot()
    groups = {g["id"]: from_api_json(g) for g in state["volumeGroups"]}
    out = []
    for raw in state["volumeGroupBackups"]:
        b = from_api_json(raw)
        if plan(policy, b, groups.get(b["volume_group_id"])).changed:
            out.append(b["id"])
    return out


def per_item_calls(backend: Backend) -> Counter[str]:
    """Backup ids that got a GetVolumeGroupBackup or UpdateVolumeGroupBackup, with how many."""
    calls: Counter[str] = Counter()
    for r in backend.log.requests():
        if r.operation in ("GetVolumeGroupBackup", "UpdateVolumeGroupBackup"):
            calls[r.path.rsplit("/", 1)[-1]] += 1
    return calls


@pytest.fixture
def start(make_emulator: Callable[..., EmulatorServer]) -> Callable[..., EmulatorServer]:
    def go(faults: Faults | None = None) -> EmulatorServer:
        return make_emulator(seed=SEED, faults=faults, creating_seconds=None)

    return go


def sweep(server: EmulatorServer, key: ApiKey, seconds: float = 60.0, **options: Any) -> SweepResult:
    opts = SweepOptions(compartment_id=options.pop("compartment_id", COMP), **options)
    return run_sweep(engine_for(server, key), opts, Deadline.after(seconds))


# -- the main property ---------------------------------------------------------------------------


def test_thousands_of_backups_end_compliant_and_compliant_ones_cost_no_call(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = start()
    compliant, stale = populate(server.backend, 2000)
    assert sorted(stale_ids(server.backend)) == sorted(stale)  # the test data is what it claims

    result = sweep(server, api_key)

    assert result.status == "swept" and result.resume_token is None
    assert result.scanned == 2000
    assert result.counts() == {"updated": 1000, "unchanged": 1000}
    assert stale_ids(server.backend) == []
    calls = per_item_calls(server.backend)
    assert not set(compliant) & set(calls), "a compliant backup got a per-item call"
    assert all(calls[b] == 2 for b in stale)  # one GET for the etag, one PUT with if-match
    ops = Counter(r.operation for r in server.backend.log.requests())
    assert ops["GetVolumeGroup"] == 20  # each distinct volume group once, across 8 threads
    assert ops["ListVolumeGroupBackups"] == 20  # 100 per page
    assert all(r.if_match for r in server.backend.log.requests("UpdateVolumeGroupBackup"))
    # Tags someone else set survive: the engine merges, never replaces blindly.
    snapshot = {b["id"]: b for b in server.backend.snapshot()["volumeGroupBackups"]}
    assert all(snapshot[b]["freeformTags"]["keep"] == f"me-{int(b[-6:])}" for b in stale)

    again = sweep(server, api_key)
    assert again.counts() == {"unchanged": 2000}
    assert per_item_calls(server.backend) == calls  # a second sweep sends nothing per item


def test_concurrent_writer_races_lose_no_tag(start: Callable[..., EmulatorServer], api_key: ApiKey) -> None:
    # The next 60 PUTs all lose a race: with 8 threads some backup loses more than the engine's
    # 412 retries allow; it is reported as a transient failure and the resumed sweep ends it.
    server = start(Faults(race_412_next=60))
    _, stale = populate(server.backend, 400)

    result = sweep(server, api_key)
    runs = 1
    while result.resume_token and runs < 4:
        assert result.status == "partial"
        assert all(f["transient"] and "412" in f["error"] for f in result.failures())
        result = sweep(server, api_key, resume_token=result.resume_token)
        runs += 1

    assert result.status == "swept"
    assert server.backend.log.count("UpdateVolumeGroupBackup", 412) == 60
    assert server.backend.log.count("UpdateVolumeGroupBackup", 200) == 200
    assert stale_ids(server.backend) == []
    snapshot = {b["id"]: b["freeformTags"] for b in server.backend.snapshot()["volumeGroupBackups"]}
    raced = {
        r.path.rsplit("/", 1)[-1]
        for r in server.backend.log.requests("UpdateVolumeGroupBackup")
        if r.status == 412
    }
    assert len(raced) >= 12  # 60 races, at most 5 on one backup in one run
    assert all("other-writer" in snapshot[b] for b in raced)  # the other writer's tag was kept
    assert all(snapshot[b]["keep"].startswith("me-") for b in stale)


def test_rate_limit_and_injected_429_503_still_end_compliant(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    faults = Faults(rate_limit_rps=80, error_rate=0.04, error_mix={429: 1.0, 503: 2.0}, seed=7)
    server = start(faults)
    populate(server.backend, 200)

    result = sweep(server, api_key)

    assert result.status == "swept", result.failures()
    assert result.counts() == {"updated": 100, "unchanged": 100}
    assert stale_ids(server.backend) == []
    statuses = Counter(r.status for r in server.backend.log.requests())
    assert statuses[429] > 0 and statuses[503] > 0  # the faults did happen


def test_tiny_deadline_gives_resume_token_and_resume_finishes(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    # ~3.5 s of work (600 GET+PUT at 40 ms over 8 threads, plus 12 list pages) against a 1.5 s
    # deadline: long enough to finish some backups on a loaded machine, too short to finish all.
    server = start(Faults(latency_ms=40))
    _, stale = populate(server.backend, 600)

    first = sweep(server, api_key, seconds=1.5, page_size=50)

    assert first.status == "partial" and first.resume_token
    assert 0 < first.counts().get("updated", 0) < 300
    position = decode_token(first.resume_token, SweepOptions(COMP))
    assert position.compartment_id == COMP
    # Everything listed before the resume page is done: newest first, 50 a page.
    remaining = set(stale_ids(server.backend))
    newest_first = [backup_id(COMP, i) for i in range(599, -1, -1)]
    done_pages = 0
    if position.page is not None:
        listed = server.backend.blockstorage.list_volume_group_backups(COMP, limit=1000)[0]
        ids = [b["id"] for b in listed]
        page_items, _ = server.backend.blockstorage.list_volume_group_backups(
            COMP, limit=50, page=position.page
        )
        done_pages = ids.index(page_items[0]["id"]) // 50
    assert not remaining & set(newest_first[: done_pages * 50])

    second = sweep(server, api_key, resume_token=first.resume_token, page_size=50)

    assert second.status == "swept" and second.resume_token is None
    assert stale_ids(server.backend) == []
    # Each stale backup was written exactly once across the two runs.
    puts = Counter(r.path.rsplit("/", 1)[-1] for r in server.backend.log.requests("UpdateVolumeGroupBackup"))
    assert sorted(puts) == sorted(stale) and set(puts.values()) == {1}
    assert first.counts().get("updated", 0) + second.counts().get("updated", 0) == 300


def test_dry_run_writes_nothing(
    start: Callable[..., EmulatorServer], api_key: ApiKey, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    server = start()
    _, stale = populate(server.backend, 200)

    result = sweep(server, api_key, dry_run=True)

    assert result.counts() == {"planned": 100, "unchanged": 100}
    # Per-backup detail is in the logs, one line per backup; the result only counts.
    lines = [e for e in logs() if e.get("message", "").startswith("swept ")]
    planned = [e for e in lines if e["message"] == "swept planned"]
    assert sorted(e["volume_group_backup_id"] for e in planned) == sorted(stale)
    assert len(lines) == 200 and {e["status"] for e in lines} == {"planned", "unchanged"}
    assert planned[0]["changes"]["freeformTags"]["backup-kind"] == {"old": None, "new": "scheduled"}
    assert {r.operation for r in server.backend.log.requests()} <= LIST_AND_VG
    assert sorted(stale_ids(server.backend)) == sorted(stale)


def test_recursive_covers_subcompartments_and_only_them(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = start()
    for comp in (COMP, CHILD, GRANDCHILD, OTHER):
        populate(server.backend, 20, comp, groups=2)

    flat = sweep(server, api_key, dry_run=True)
    assert flat.counts() == {"planned": 10, "unchanged": 10} and flat.compartments == 1

    result = sweep(server, api_key, recursive=True)

    assert result.compartments == 3 and result.counts() == {"updated": 30, "unchanged": 30}
    left = stale_ids(server.backend)
    assert left and all(OTHER[-6:] in b for b in left)  # the sibling compartment was not touched

    tenancy_wide = sweep(server, api_key, compartment_id=TENANCY, recursive=True)
    assert tenancy_wide.compartments == 5  # tenancy + 4 (compartmentIdInSubtree)
    assert tenancy_wide.counts() == {"updated": 10, "unchanged": 70}
    assert stale_ids(server.backend) == []


def test_since_skips_older_backups_but_lists_to_the_end(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = start()
    populate(server.backend, 500)
    since = T0 + timedelta(minutes=400)  # backups 400..499 are in range

    result = sweep(server, api_key, since=since, page_size=50)

    assert result.scanned == 100 and result.counts() == {"updated": 50, "unchanged": 50}
    # Every page is listed: OCI does not promise one strict time order across a compartment.
    assert server.backend.log.count("ListVolumeGroupBackups") == 10
    assert server.backend.log.count("GetVolumeGroupBackup") == 50  # only the non-compliant in range
    assert all(int(b[-6:]) < 400 for b in stale_ids(server.backend))


def test_a_sweep_defers_creating_backups(start: Callable[..., EmulatorServer], api_key: ApiKey) -> None:
    server = start()
    populate(server.backend, 20, state="CREATING", groups=2)

    result = sweep(server, api_key)  # available_only is the default

    assert result.status == "swept" and result.counts() == {"deferred": 20}
    assert server.backend.log.count("UpdateVolumeGroupBackup") == 0
    assert server.backend.log.count("GetVolumeGroupBackup") == 0


def test_bad_resume_token_and_missing_compartment(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = start()
    populate(server.backend, 4, groups=1)
    populate(server.backend, 4, OTHER, groups=1)
    assert sweep(server, api_key, resume_token="nonsense").status == "rejected"
    other = sweep(server, api_key, seconds=0, compartment_id=OTHER)
    assert other.resume_token
    mismatch = sweep(server, api_key, resume_token=other.resume_token)
    assert mismatch.status == "rejected" and "another sweep" in (mismatch.error or "")

    missing = sweep(server, api_key, compartment_id="ocid1.compartment.oc1..aaaaaaaanosuchthing")
    assert missing.status == "failed" and missing.resume_token is None
    # Each kind's listing fails on its own (the policy matches every kind).
    failures = missing.failures()
    assert [f["operation"] for f in failures] == [
        "ListVolumeGroupBackups",
        "ListVolumeBackups",
        "ListBootVolumeBackups",
    ]
    assert all(f["status"] == 404 and f["opcRequestId"] for f in failures)


# -- through the function, under the real FDK ------------------------------------------------


@pytest.fixture
def fn_env(
    start: Callable[..., EmulatorServer], api_key: ApiKey
) -> Iterator[tuple[EmulatorServer, dict[str, str]]]:
    server = start()
    env = {
        "PATH": "/usr/bin:/bin",
        "TAG_POLICY": POLICY_TEXT,
        "LOG_LEVEL": "warning",
        **server.client_env(api_key),
    }
    yield server, env


def test_function_sweep_request_returns_counts_and_logs_each_backup(
    fn_env: tuple[EmulatorServer, dict[str, str]],
) -> None:
    server, env = fn_env
    _, stale = populate(server.backend, 120)
    with FdkProcess({**env, "LOG_LEVEL": "info"}) as fn:
        dry = fn.call({"sweep": {"compartmentId": COMP, "dryRun": True}})
        reply = fn.call({"sweep": {"compartmentId": COMP}})
        again = fn.call({"sweep": {"compartmentId": COMP, "since": "2026-01-01T01:00:00Z"}})
        logged = [e for e in fn.log_lines() if e.get("message", "").startswith("answered sweep")]
        update_lines = [e for e in fn.log_lines() if e.get("message") == "updated"]

    assert dry.status == 200 and dry.json()["counts"] == {"planned": 60, "unchanged": 60}
    body = reply.json()
    assert reply.status == 200 and reply.headers.get("content-type", "").startswith("application/json")
    assert body["status"] == "swept" and body["resumeToken"] is None and body["scanned"] == 120
    assert body["counts"] == {"updated": 60, "unchanged": 60} and body["failures"] == []
    assert "backups" not in body and body["failuresOmitted"] == 0
    # Each update is one log line with its opc-request-id and changes (the answer only counts).
    updated = {e["volume_group_backup_id"]: e for e in update_lines}
    assert set(updated) == set(stale) and len(update_lines) == 60
    sample = next(iter(updated.values()))
    assert sample["opc_request_id"] and sample["changes"]["freeformTags"]
    assert again.json()["counts"] == {"unchanged": 60} and again.json()["scanned"] == 60
    assert stale_ids(server.backend) == []
    # Each sweep answer is logged as a summary (counts), not the list of every backup.
    assert [e["answer"]["counts"] for e in logged] == [
        {"planned": 60, "unchanged": 60},
        {"updated": 60, "unchanged": 60},
        {"unchanged": 60},
    ]
    assert all("backups" not in e["answer"] for e in logged)


def test_function_sweep_out_of_time_answers_200_with_token(
    fn_env: tuple[EmulatorServer, dict[str, str]],
) -> None:
    server, env = fn_env
    populate(server.backend, 300)
    server.faults.update({"latency_ms": 30})
    with FdkProcess(env) as fn:
        # Fn-Deadline 3.5 s away; the function keeps 2 s back, so about 1.5 s of sweeping.
        reply = fn.call({"sweep": {"compartmentId": COMP}}, deadline_seconds=3.5)
        body = reply.json()
        assert reply.status == 200 and body["status"] == "partial" and body["resumeToken"]
        server.faults.update({"latency_ms": 0})
        rest = fn.call({"sweep": {"compartmentId": COMP, "page": body["resumeToken"]}})
    assert rest.status == 200 and rest.json()["status"] == "swept", json.dumps(rest.json())[:500]
    assert stale_ids(server.backend) == []
