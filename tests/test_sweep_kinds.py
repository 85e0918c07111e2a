"""Sweeps over every backup kind against the emulator: counts per kind, one PUT each, resume mid-kind,
`kinds` / `--kinds` narrowing, and the kinds a policy can match (pure)."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from sync.cli.main import main
from sync.cloud.retry import Deadline
from sync.domain.resources import Kind
from sync.emulator import ApiKey, Backend, EmulatorServer, Faults
from sync.function.fnrunner import FdkProcess
from sync.policy.loader import load_policy
from sync.sweep.kinds import parse_kinds, policy_kinds, sweep_kinds
from sync.sweep.options import SweepError
from sync.sweep.runner import SweepOptions, SweepResult, decode_token, run_sweep
from tests.test_sweep import COMP, SEED, T0, engine_for

POLICY_TEXT = """
version: 1
rules:
  - name: every-kind
    freeform_tags:
      of: "${backup.kind}"
      swept: "yes"
"""
POLICY = load_policy(POLICY_TEXT, "kinds-policy")
UPDATES = {
    "UpdateVolumeGroupBackup": Kind.VOLUME_GROUP_BACKUP,
    "UpdateVolumeBackup": Kind.VOLUME_BACKUP,
    "UpdateBootVolumeBackup": Kind.BOOT_VOLUME_BACKUP,
}
SNAPSHOT_KEYS = {
    Kind.VOLUME_GROUP_BACKUP: "volumeGroupBackups",
    Kind.VOLUME_BACKUP: "volumeBackups",
    Kind.BOOT_VOLUME_BACKUP: "bootVolumeBackups",
}
KINDS = list(Kind)


def mixed_id(kind: Kind, i: int) -> str:
    return f"ocid1.{kind.ocid_type}.oc1..mixed{i:06d}"


def populate_mixed(backend: Backend, n: int, compartment: str = COMP) -> dict[Kind, list[str]]:
    """n backups cycling through the three kinds; even ones compliant with POLICY. Stale ids per kind."""
    stale: dict[Kind, list[str]] = {k: [] for k in Kind}
    for i in range(n):
        kind = KINDS[i % 3]
        ok = i % 2 == 0
        body: dict[str, Any] = {
            "id": mixed_id(kind, i),
            "compartmentId": compartment,
            "displayName": f"backup-{i}",
            "type": "FULL",
            "sourceType": "SCHEDULED",
            "lifecycleState": "AVAILABLE",
            "timeCreated": (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
            "freeformTags": {"of": kind.value, "swept": "yes"} if ok else {"keep": f"me-{i}"},
        }
        if kind is Kind.VOLUME_GROUP_BACKUP:
            backend.blockstorage.add_volume_group_backup(
                {**body, "volumeGroupId": "ocid1.volumegroup.oc1..mixedvg"}
            )
        elif kind is Kind.VOLUME_BACKUP:
            backend.blockstorage.add_volume_backup({**body, "volumeId": "ocid1.volume.oc1..mixedvol"})
        else:
            backend.blockstorage.add_boot_volume_backup(
                {**body, "bootVolumeId": "ocid1.bootvolume.oc1..mixedboot"}
            )
        if not ok:
            stale[kind].append(body["id"])
    return stale


def still_stale(backend: Backend) -> list[str]:
    state = backend.snapshot()
    return [
        b["id"]
        for kind, key in SNAPSHOT_KEYS.items()
        for b in state[key]
        if b.get("freeformTags", {}).get("of") != kind.value or b["freeformTags"].get("swept") != "yes"
    ]


def puts(backend: Backend) -> Counter[str]:
    """Backup id -> how many successful updates it got."""
    out: Counter[str] = Counter()
    for r in backend.log.requests():
        if r.operation in UPDATES and r.status < 400:
            out[r.path.rsplit("/", 1)[-1]] += 1
    return out


@pytest.fixture
def server(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(seed=SEED, creating_seconds=None)


def sweep(server: EmulatorServer, key: ApiKey, seconds: float = 60.0, **options: Any) -> SweepResult:
    opts = SweepOptions(compartment_id=COMP, **options)
    return run_sweep(engine_for(server, key, POLICY), opts, Deadline.after(seconds))


# -- the kinds a policy can match (pure) ------------------------------------------------------------


def policy_of(*kinds: str | list[str] | None) -> Any:
    rules = []
    for i, kind in enumerate(kinds):
        rule: dict[str, Any] = {"name": f"r{i}", "freeform_tags": {"a": "b"}}
        if kind is not None:
            rule["match"] = {"kind": kind}
        rules.append(rule)
    return load_policy(json.dumps({"version": 1, "rules": rules}), "p")


def test_policy_kinds_follow_the_rules_kind_conditions() -> None:
    every = (Kind.VOLUME_GROUP_BACKUP, Kind.VOLUME_BACKUP, Kind.BOOT_VOLUME_BACKUP)
    assert policy_kinds(policy_of(None)) == every
    assert policy_kinds(policy_of("volume_backup")) == (Kind.VOLUME_BACKUP,)
    assert policy_kinds(policy_of("boot_volume_backup", "volume_group_backup")) == (
        Kind.VOLUME_GROUP_BACKUP,
        Kind.BOOT_VOLUME_BACKUP,
    )
    assert policy_kinds(policy_of(["volume_backup", "boot_volume_backup"], None)) == every
    narrowed = sweep_kinds(policy_of("volume_backup", "volume_group_backup"), (Kind.VOLUME_BACKUP,))
    assert narrowed == (Kind.VOLUME_BACKUP,)
    # A kind no rule can match is never listed, even when asked for.
    assert sweep_kinds(policy_of("volume_backup"), (Kind.BOOT_VOLUME_BACKUP,)) == ()


def test_parse_kinds_names_the_valid_ones() -> None:
    assert parse_kinds(["boot_volume_backup", "volume_group_backup", "boot_volume_backup"]) == (
        Kind.VOLUME_GROUP_BACKUP,
        Kind.BOOT_VOLUME_BACKUP,
    )
    with pytest.raises(SweepError, match="unknown backup kind 'snapshot'; kinds: volume_group_backup, "):
        parse_kinds(["snapshot"])
    with pytest.raises(SweepError, match="empty"):
        parse_kinds([])


# -- one sweep over the three kinds ---------------------------------------------------------------


def test_sweep_covers_the_three_kinds_once_each(server: EmulatorServer, api_key: ApiKey) -> None:
    stale = populate_mixed(server.backend, 120)

    result = sweep(server, api_key)

    assert result.status == "swept" and result.scanned == 120
    assert result.counts() == {"updated": 60, "unchanged": 60}
    assert result.counts_by_kind() == {k.value: {"unchanged": 20, "updated": 20} for k in Kind}
    body = result.to_json()
    assert body["kinds"] == [k.value for k in Kind]
    assert body["calls"]["ListVolumeBackups"] == 1 and body["calls"]["ListBootVolumeBackups"] == 1
    assert still_stale(server.backend) == []
    written = puts(server.backend)
    assert set(written) == {i for ids in stale.values() for i in ids} and max(written.values()) == 1
    # A second sweep finds everything compliant and writes nothing.
    again = sweep(server, api_key)
    assert again.counts() == {"unchanged": 120} and puts(server.backend) == written


def test_resume_from_a_token_taken_mid_kind_finishes_without_rewriting(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    populate_mixed(server.backend, 150)
    steps = 0

    def stop_in_volume_backups() -> float:
        # The sweep's clock: near its deadline once every group backup is written and the second
        # page of volume backups is listed (listing runs ahead of the writes: waiting for the 25
        # group PUTs too keeps a loaded machine from stopping while a group page is in flight).
        nonlocal steps
        listed = server.backend.log.count("ListVolumeBackups")
        written = server.backend.log.count("UpdateVolumeGroupBackup")
        steps += 1
        # Then inside the stop reserve (at most 3 s before the deadline at 1e6): no new backup
        # starts, and the writes in flight still have 2 s (each call is capped by the time left).
        return 1e6 - 2.0 if listed >= 2 and written >= 25 else float(steps) * 1e-6

    engine = engine_for(server, api_key, POLICY)
    first = run_sweep(engine, SweepOptions(COMP, page_size=20), Deadline(1e6, stop_in_volume_backups))
    assert first.status == "partial" and first.resume_token
    position = decode_token(first.resume_token, SweepOptions(COMP))
    # It names volume backups (the page may be their first: work cut off there resumes there).
    assert position.kind is Kind.VOLUME_BACKUP and position.compartment_id == COMP
    assert first.counts_by_kind()["volume_group_backup"] == {"unchanged": 25, "updated": 25}
    before = puts(server.backend)

    rest = sweep(server, api_key, page_size=20, resume_token=first.resume_token)

    assert rest.status == "swept" and still_stale(server.backend) == []
    assert "volume_group_backup" not in rest.counts_by_kind()  # not listed again
    after = puts(server.backend)
    assert max(after.values()) == 1 and set(before) <= set(after)
    assert rest.counts().get("updated", 0) == len(after) - len(before)


def test_tokens_without_a_kind_resume_in_group_backups(server: EmulatorServer, api_key: ApiKey) -> None:
    populate_mixed(server.backend, 30)
    raw = {"v": 1, "root": COMP, "r": False, "c": COMP, "p": None}  # as issued before kinds
    old = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    assert decode_token(old, SweepOptions(COMP)).kind is Kind.VOLUME_GROUP_BACKUP

    result = sweep(server, api_key, resume_token=old)

    assert result.status == "swept" and result.scanned == 30 and still_stale(server.backend) == []


def test_a_token_stopped_in_a_kind_this_sweep_does_not_list_is_refused(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    populate_mixed(server.backend, 30)
    raw = {"v": 1, "root": COMP, "r": False, "k": "boot_volume_backup", "c": COMP, "p": None}
    token = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    result = sweep(server, api_key, resume_token=token, kinds=(Kind.VOLUME_BACKUP,))
    assert result.status == "rejected"
    assert "stopped in boot_volume_backup" in (result.error or "") and "kinds: volume_backup" in (
        result.error or ""
    )
    bad = dict(raw, k="snapshot")
    garbage = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode().rstrip("=")
    assert "not one this tool issued" in (sweep(server, api_key, resume_token=garbage).error or "")
    assert server.backend.log.count("UpdateVolumeBackup") == 0


# -- narrowing: --kinds and the sweep request's kinds --------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_kinds_narrows_and_refuses_unknown_kinds(
    server: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = populate_mixed(server.backend, 60)
    for key in ("TAG_POLICY_URI", "LOG_LEVEL", "OCI_CONFIG_PROFILE", "OCI_RESOURCE_PRINCIPAL_VERSION"):
        monkeypatch.delenv(key, raising=False)
    for key, value in server.client_env(api_key).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TAG_POLICY", POLICY_TEXT)

    code, out, err = run_cli("sweep", "--compartment", COMP, "--kinds", "volume_backup,snapshots")
    assert code == 2 and out == ""
    assert "--kinds: unknown backup kind 'snapshots'; kinds: volume_group_backup, volume_backup," in err
    assert server.backend.log.requests() == []  # refused before any call

    code, out, err = run_cli(
        "sweep", "--compartment", COMP, "--kinds", "boot_volume_backup,volume_backup", "--no-progress"
    )
    assert code == 0, err
    assert "kinds: volume_backup, boot_volume_backup" in out.splitlines()[0]
    assert "volume_backup       updated    10" in out and "boot_volume_backup  updated    10" in out
    assert "volume_group_backup" not in out
    assert set(still_stale(server.backend)) == set(stale[Kind.VOLUME_GROUP_BACKUP])
    assert server.backend.log.count("ListVolumeGroupBackups") == 0


def test_function_sweep_request_with_kinds(server: EmulatorServer, api_key: ApiKey) -> None:
    stale = populate_mixed(server.backend, 60)
    env = {"PATH": "/usr/bin:/bin", "TAG_POLICY": POLICY_TEXT, "LOG_LEVEL": "warning"}
    with FdkProcess({**env, **server.client_env(api_key)}) as fn:
        bad = fn.call({"sweep": {"compartmentId": COMP, "kinds": ["volume_backups"]}})
        reply = fn.call({"sweep": {"compartmentId": COMP, "kinds": ["volume_backup"]}})
    assert bad.json()["status"] == "rejected"
    assert "unknown backup kind 'volume_backups'; kinds: volume_group_backup" in bad.json()["error"]
    body = reply.json()
    assert reply.status == 200 and body["status"] == "swept" and body["kinds"] == ["volume_backup"]
    assert body["countsByKind"] == {"volume_backup": {"unchanged": 10, "updated": 10}}
    left = set(still_stale(server.backend))
    assert left == set(stale[Kind.VOLUME_GROUP_BACKUP]) | set(stale[Kind.BOOT_VOLUME_BACKUP])
    assert len(json.dumps(body)) < 5000


def test_every_sweep_line_names_the_backup_and_its_kind(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    # Boot volume backups may not be updated (404, as OCI answers a missing grant): failure lines too.
    faults = Faults(denied_operations=["UpdateBootVolumeBackup"])
    server = make_emulator(seed=SEED, creating_seconds=None, faults=faults)
    stale = populate_mixed(server.backend, 30)

    result = sweep(server, api_key)

    assert result.counts_by_kind()["boot_volume_backup"] == {"failed": 5, "unchanged": 5}
    lines = [e for e in logs() if e.get("message", "").startswith("swept ") or e.get("message") == "updated"]
    named = {(e["backup_id"], e["kind"], e["message"]) for e in lines}
    for kind in Kind:
        done = "swept failed" if kind is Kind.BOOT_VOLUME_BACKUP else "updated"
        assert {(i, kind.value, done) for i in stale[kind]} <= named
    assert len(lines) == 30 and all(Kind.of(e["backup_id"]).value == e["kind"] for e in lines)
    # Group backups also keep the field the README's older log queries use; other kinds lack it.
    assert all(
        e.get("volume_group_backup_id") == (e["backup_id"] if e["kind"] == "volume_group_backup" else None)
        for e in lines
    )
