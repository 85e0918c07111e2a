"""`python -m sync sweep | apply | plan --backup` against the emulator, through main()."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.cli.main import main
from sync.emulator import ApiKey, EmulatorServer, Faults
from tests.test_sweep import COMP, POLICY_TEXT, SEED, backup_id, populate, stale_ids

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    srv = make_emulator(seed=SEED, creating_seconds=None)
    populate(srv.backend, 100)
    for key in ("TAG_POLICY_URI", "LOG_LEVEL", "OCI_CONFIG_PROFILE", "OCI_RESOURCE_PRINCIPAL_VERSION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OCI_AUTH", "config_file")
    monkeypatch.setenv("OCI_CONFIG_FILE", str(api_key.config_path))
    monkeypatch.setenv("OCI_CORE_ENDPOINT", srv.url)
    monkeypatch.setenv("TAG_POLICY", POLICY_TEXT)
    return srv


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_sweep_json_then_table(server: EmulatorServer) -> None:
    code, out, err = run("sweep", "--compartment", COMP, "--output", "json", "--dry-run")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"planned": 50, "unchanged": 50}
    assert server.backend.log.count("UpdateVolumeGroupBackup") == 0
    assert "progress: " in err  # not a terminal: plain progress lines

    code, out, err = run("sweep", "--compartment", COMP, "--concurrency", "4")
    assert code == 0, err
    assert out.startswith("Sweep done: 100 backups in 1 compartment,")
    assert "STATUS" in out and "updated    50" in out and "unchanged  50" in out
    assert stale_ids(server.backend) == []


def test_sweep_failure_exits_1_with_request_id(server: EmulatorServer) -> None:
    code, out, _ = run(
        "sweep", "--compartment", "ocid1.compartment.oc1..aaaaaaaanosuchthing", "--no-progress"
    )
    assert code == 1
    # The policy matches every kind: each kind's listing fails, each with its own request id.
    assert "Failures (3):" in out and "NotAuthorizedOrNotFound" in out
    for operation in ("ListVolumeGroupBackups", "ListVolumeBackups", "ListBootVolumeBackups"):
        assert server.backend.log.requests(operation)[-1].opc_request_id in out


def test_sweep_stopped_by_timeout_exits_3_and_resumes(server: EmulatorServer) -> None:
    code, out, _ = run("sweep", "--compartment", COMP, "--timeout", "0", "--no-progress")
    assert code == 3 and "Resume with:" in out
    token = out.rsplit("--resume ", 1)[1].split()[0]
    code, out, err = run("sweep", "--compartment", COMP, "--resume", token, "--no-progress")
    assert code == 0, out + err
    assert stale_ids(server.backend) == []


def test_apply_and_live_plan(server: EmulatorServer) -> None:
    target = backup_id(COMP, 1)
    code, out, _ = run("plan", "--backup", target)
    assert code == 0 and "one update would be sent" in out and "source-volume-group" in out
    code, out, _ = run("apply", "--backup", target, "--dry-run")
    assert code == 0 and out.startswith(f"Backup {target}: planned")
    assert server.backend.log.count("UpdateVolumeGroupBackup") == 0
    code, out, _ = run("apply", "--backup", target, "--output", "json")
    body = json.loads(out)
    assert code == 0 and body["status"] == "updated" and body["opcRequestId"]
    code, out, _ = run("apply", "--backup", target)
    assert code == 0 and "unchanged" in out
    code, out, _ = run("plan", "--backup", target)
    assert "No change: already compliant" in out
    code, out, _ = run("apply", "--backup", "ocid1.volumegroupbackup.oc1..nosuch")
    assert code == 1 and "not_found" in out and "opc-request-id:" in out


def test_config_and_input_errors_are_one_line(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run("sweep", "--compartment", "not-an-ocid")
    assert code == 2 and err == "error: 'not-an-ocid' is not an OCID\n"
    code, _, err = run("sweep", "--compartment", COMP, "--resume", "bogus", "--no-progress")
    assert code == 2 and err.startswith("error: the resume token is not one this tool issued")
    monkeypatch.setenv("OCI_CONFIG_FILE", "/nonexistent/oci/config")
    for argv in (("sweep", "--compartment", COMP), ("apply", "--backup", backup_id(COMP, 1))):
        code, out, err = run(*argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: config_file authentication failed")
    monkeypatch.setenv("OCI_AUTH", "magic")
    code, _, err = run("plan", "--backup", backup_id(COMP, 1))
    assert code == 2 and err.startswith("error: OCI_AUTH='magic' is not one of")


def test_module_entry_point_never_prints_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "OCI_AUTH": "config_file", "OCI_CONFIG_FILE": str(tmp_path / "none")}
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "sweep", "--compartment", COMP],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: config_file authentication failed")


def test_unreachable_endpoint_is_a_setting_error_naming_it(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OCI_CORE_ENDPOINT", f"http://127.0.0.1:{port}")
    for argv in (("sweep", "--compartment", COMP), ("apply", "--backup", backup_id(COMP, 1))):
        code, out, err = run(*argv, "--no-progress") if argv[0] == "sweep" else run(*argv)
        assert (code, out) == (2, ""), err
        assert (
            err
            == f"error: cannot reach http://127.0.0.1:{port} (OCI_CORE_ENDPOINT): Connection refused; check the setting and the network\n"
        )


def test_sweep_stopped_by_timeout_shows_the_true_progress(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = make_emulator(seed=SEED, creating_seconds=None, faults=Faults(latency_ms=50))
    populate(slow.backend, 100)
    monkeypatch.setenv("OCI_CONFIG_FILE", str(api_key.config_path))
    monkeypatch.setenv("OCI_CORE_ENDPOINT", slow.url)
    monkeypatch.setenv("OCI_AUTH", "config_file")
    monkeypatch.setenv("TAG_POLICY", POLICY_TEXT)
    code, out, err = run(
        "sweep", "--compartment", COMP, "--concurrency", "1", "--page-size", "10", "--timeout", "1"
    )
    assert code == 3, out + err
    last = err.strip().splitlines()[-1]
    done, total = re.match(r"progress: (\d+)/(\d+)\+ backups", last).groups()  # type: ignore[union-attr]
    assert int(done) < 100 and "%" not in last, last  # not "N/N backups 100%": the rest was never listed
    assert out.startswith(f"Sweep stopped early: {total} backups in 1 compartment,")
