"""Defined tags as the tenancy defines them, end to end: the real FDK, the real SDK, the emulator as OCI."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.cli.main import main
from sync.cloud.clients import Clients, OciSettings
from sync.cloud.leanport import LeanPort
from sync.cloud.retry import Deadline
from sync.cloud.tagcache import TagSchemaCache
from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from sync.policy.loader import load_policy
from sync.policy.planner import plan

ROOT = Path(__file__).resolve().parents[1]
EVENTS = Path(__file__).resolve().parent / "data" / "events"
CREATE_EVENT = (EVENTS / "createvolumegroupbackup-end.json").read_bytes()
BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"

# Namespace and keys in the wrong case: OCI accepts them and answers with its own casing.
WRONG_CASE = """
version: 1
rules:
  - name: costs
    defined_tags:
      operations: {costcenter: "${volume_group.defined_tags.OPERATIONS.costCenter|default:none}", tier: gold}
"""
# A rendered value for a list-of-values key (Operations.Environment: prod, staging, dev).
RENDERED_ENV = """
version: 1
rules:
  - name: environment
    defined_tags:
      Operations: {Environment: "${volume_group.freeform_tags.env|upper}"}
"""


def function_env(emulator: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "info", **emulator.client_env(key), **extra}


def puts_for(emulator: EmulatorServer, backup_id: str) -> int:
    return sum(
        1 for r in emulator.backend.log.requests("UpdateVolumeGroupBackup") if r.path.endswith(backup_id)
    )


def identity_calls(emulator: EmulatorServer) -> list[str]:
    return [
        r.operation
        for r in emulator.backend.log.requests()
        if r.operation in ("ListTagNamespaces", "ListTags", "GetTag")
    ]


@pytest.fixture
def cli_env(emulator: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    for name, value in emulator.client_env(api_key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OCI_IDENTITY_ENDPOINT", emulator.url)
    return emulator


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


# -- the function --------------------------------------------------------------------------------


def test_wrong_casing_is_applied_once_then_unchanged_on_event_and_sweep(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    env = function_env(emulator, api_key, TAG_POLICY=WRONG_CASE)
    sweep = json.dumps({"sweep": {"compartmentId": PROD}}).encode()
    with FdkProcess(env) as proc:
        first = proc.call(CREATE_EVENT).json()
        assert first["status"] == "updated", first
        stored = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]["definedTags"]
        assert stored["Operations"] == {"CostCenter": "cc-1234", "Tier": "gold"}
        assert "operations" not in stored
        # The PUT itself already carried the tenancy's casing, read from the tag schema.
        body = json.loads(emulator.backend.log.requests("UpdateVolumeGroupBackup")[0].body or "{}")
        assert set(body["definedTags"]["Operations"]) == {"CostCenter", "Tier"}
        second = proc.call(CREATE_EVENT).json()
        assert second["status"] == "unchanged" and second["changes"] == {}
        assert puts_for(emulator, BACKUP_1) == 1
        swept = proc.call(sweep).json()
        assert swept["counts"].get("failed", 0) == 0, swept
        assert puts_for(emulator, BACKUP_1) == 1
        updates = ("UpdateVolumeGroupBackup", "UpdateVolumeBackup", "UpdateBootVolumeBackup")
        puts_after_first_sweep = sum(emulator.backend.log.count(op) for op in updates)
        again = proc.call(sweep).json()
        # The policy has no `kind`: every kind is swept; a CREATING backup stays deferred.
        assert set(again["counts"]) <= {"unchanged", "ignored", "deferred"}, again
        assert sum(emulator.backend.log.count(op) for op in updates) == puts_after_first_sweep


def test_rendered_value_outside_the_list_is_rejected_with_no_put(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    env = function_env(emulator, api_key, TAG_POLICY=RENDERED_ENV)
    with FdkProcess(env) as proc:
        reply = proc.call(CREATE_EVENT)
        answer = reply.json()
        assert reply.status == 200
        assert answer["status"] == "rejected"
        error = answer["error"]
        for part in ("environment", "Operations.Environment", "'PROD'", "prod, staging, dev"):
            assert part in error, error
        assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0
        # Warm container: the schema is cached, the same event costs no Identity call.
        calls = len(identity_calls(emulator))
        assert proc.call(CREATE_EVENT).json()["status"] == "rejected"
        assert len(identity_calls(emulator)) == calls
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_schema_read_failure_never_blocks_the_update(emulator: EmulatorServer, api_key: ApiKey) -> None:
    env = function_env(emulator, api_key, TAG_POLICY=WRONG_CASE, OCI_IDENTITY_ENDPOINT="http://127.0.0.1:9")
    with FdkProcess(env) as proc:
        answer = proc.call(CREATE_EVENT).json()
        lines = proc.log_lines()
    assert answer["status"] == "updated"
    errors = [e for e in lines if e.get("level") == "error" and "tag schema" in e.get("effect", "")]
    assert errors and errors[0]["operation"] == "ListTagNamespaces"
    assert "opc_request_id" in errors[0]
    # Sent in the policy's casing, OCI (here the emulator) stores its own.
    stored = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]["definedTags"]
    assert stored["Operations"]["CostCenter"] == "cc-1234"


def test_calls_per_event_cold_and_warm(emulator: EmulatorServer, api_key: ApiKey) -> None:
    clients = Clients(OciSettings.from_env(function_env(emulator, api_key)))
    cache = TagSchemaCache(LeanPort(clients), refresh=900)
    policy = load_policy(WRONG_CASE)
    backup = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
    from sync.policy.fields import from_api_json

    snake = from_api_json(backup)
    vg = from_api_json(emulator.backend.blockstorage.get_volume_group(snake["volume_group_id"])[0])
    result = plan(policy, snake, vg)
    cache.review(result, Deadline.after(30))
    cold = cache.calls
    cache.review(result, Deadline.after(30))
    # Cold: ListTagNamespaces + ListTags(Operations) + GetTag per key written; warm: none.
    assert (cold, cache.calls - cold) == (4, 0)
    assert identity_calls(emulator) == ["ListTagNamespaces", "ListTags", "GetTag", "GetTag"]


def test_compliant_backup_and_policy_without_defined_tags_cost_no_identity_call(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    # The shipped policy writes no defined tag; the defined tags it copies from the volume group
    # are checked against the schema (a retired one would fail the whole update), once.
    with FdkProcess(function_env(emulator, api_key)) as proc:
        assert proc.call(CREATE_EVENT).json()["status"] == "updated"
        copied = identity_calls(emulator)
        assert proc.call(CREATE_EVENT).json()["status"] == "unchanged"
    assert identity_calls(emulator) == copied  # a compliant backup costs no Identity call


# -- lint --live ---------------------------------------------------------------------------------

BAD = """
version: 1
rules:
  - name: finance
    defined_tags:
      Finance: {Budget: b-1}
  - name: typo
    defined_tags:
      Operations: {CostCentre: cc-1}
  - name: legacy
    defined_tags:
      operations: {legacyproject: old}
  - name: env
    defined_tags:
      Operations: {Environment: production}
"""


def test_lint_live_reports_one_line_per_problem(cli_env: EmulatorServer, tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text(BAD)
    code, out, err = run_cli("lint", str(policy), "--live")
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert "rule 'finance'" in lines[0] and "'Finance' not found" in lines[0]
    assert "rule 'typo'" in lines[1] and "'CostCentre' not found" in lines[1] and "CostCenter" in lines[1]
    assert "rule 'legacy'" in lines[2] and "Operations.LegacyProject is retired" in lines[2]
    assert "rule 'env'" in lines[3] and "'production'" in lines[3] and "prod, staging, dev" in lines[3]
    assert out == ""


def test_lint_live_passes_the_shipped_policy_and_prints_a_table(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    code, out, err = run_cli("lint", str(ROOT / "tag_policy.yaml"), "--live")
    assert (code, err) == (0, ""), err
    assert "OK" in out
    good = tmp_path / "good.yaml"
    good.write_text(WRONG_CASE + RENDERED_ENV.split("rules:")[1].replace("\n", "\n", 1))
    code, out, err = run_cli("lint", str(good), "--live")
    assert code == 0, err
    header, _, *rows = out.splitlines()
    assert header.split() == ["NAMESPACE", "KEY", "VALIDATOR", "COST-TRACKING", "RULES"]
    assert rows[0].split()[:5] == ["Operations", "CostCenter", "any", "value", "yes"]
    assert any("Environment" in r and "list: prod, staging, dev" in r for r in rows)
    assert "3 defined tag(s)" in out and "Identity call(s)" in out


def test_lint_live_calls_grow_with_namespaces_used_not_with_the_tenancy(
    make_emulator: Any, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed = json.loads((ROOT / "sync" / "emulator" / "sample_seed.json").read_text())
    seed["tagNamespaces"] = {f"Ns{i:02d}": [f"K{j}" for j in range(20)] for i in range(50)}
    server = make_emulator(seed=seed)
    for name, value in server.client_env(api_key).items():
        monkeypatch.setenv(name, value)
    policy = tmp_path / "three.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: three\n    defined_tags:\n"
        "      Ns01: {K1: a, K2: b}\n      ns02: {k3: c}\n      NS03: {K4: d}\n"
    )
    code, out, err = run_cli("lint", str(policy), "--live")
    assert code == 0, err
    calls = identity_calls(server)
    # One ListTagNamespaces page, one ListTags per namespace used, one GetTag per key used.
    assert calls.count("ListTagNamespaces") == 1
    assert calls.count("ListTags") == 3 and calls.count("GetTag") == 4
    assert "8 Identity call(s)" in out


def test_lint_live_cannot_read_the_schema_is_one_line(
    cli_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli_env.backend.identity.tenancy_id = "ocid1.tenancy.oc1..aaaaaaaaothertenancy"
    policy = tmp_path / "p.yaml"
    policy.write_text(BAD)
    code, out, err = run_cli("lint", str(policy), "--live")
    assert code == 1 and len(err.splitlines()) == 1 and out == ""
    assert "ListTagNamespaces" in err and "404" in err and "opc-request-id" in err


# -- plan with a schema file ---------------------------------------------------------------------


@pytest.fixture
def backup_files(emulator: EmulatorServer, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    b, _ = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)
    vg, _ = emulator.backend.blockstorage.get_volume_group(b["volumeGroupId"])
    (tmp_path / "b.json").write_text(json.dumps(b))
    (tmp_path / "vg.json").write_text(json.dumps(vg))
    yield tmp_path / "b.json", tmp_path / "vg.json"


def test_plan_offline_with_a_schema_file_shows_a_disallowed_value(
    backup_files: tuple[Path, Path], tmp_path: Path
) -> None:
    policy = tmp_path / "env.yaml"
    policy.write_text(RENDERED_ENV)
    schema = ROOT / "sync" / "emulator" / "sample_seed.json"
    args = ["plan", "--policy", str(policy), "--backup-json", str(backup_files[0])]
    args += ["--volume-group-json", str(backup_files[1])]
    code, out, _ = run_cli(*args, "--tag-schema", str(schema))
    assert code == 1  # the backup would be rejected
    assert "Rejected: rule 'environment': defined tag Operations.Environment: value 'PROD'" in out
    assert "prod, staging, dev" in out and "Nothing would be sent" in out
    code, out, _ = run_cli(*args)  # without the schema nothing is known of the list
    assert "Rejected" not in out and "PROD" in out


def test_plan_live_shows_a_disallowed_value(cli_env: EmulatorServer, tmp_path: Path) -> None:
    policy = tmp_path / "env.yaml"
    policy.write_text(RENDERED_ENV)
    code, out, err = run_cli("plan", "--policy", str(policy), "--backup", BACKUP_1)
    assert code == 0, err
    assert "Rejected: rule 'environment'" in out and "allowed values: prod, staging, dev" in out


def test_sweep_dry_run_counts_a_disallowed_value_as_rejected(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    env = function_env(emulator, api_key, TAG_POLICY=RENDERED_ENV)
    body = json.dumps({"sweep": {"compartmentId": PROD, "dryRun": True}}).encode()
    with FdkProcess(env) as proc:
        answer = proc.call(body).json()
    # Backups in prod render their volume group's env=prod as PROD: not in the list.
    assert answer["counts"].get("rejected", 0) >= 1 and "planned" not in answer["counts"], answer
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0
