"""`python -m sync.emulator`: starts, prints a usable environment, serves, stops on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import oci
import pytest

from sync.emulator.cli import build_parser, main
from tests.emulator_fixtures import client_kwargs

ROOT = Path(__file__).resolve().parents[2]
B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"


def test_cli_serves_the_seed_to_the_sdk_and_stops_on_sigint(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.emulator", "--key-dir", str(tmp_path), "--latency-ms", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        for line in proc.stdout:
            if line.strip().startswith("export "):
                key, _, value = line.strip().removeprefix("export ").partition("=")
                env[key] = value
            if line.startswith("Ctrl-C"):
                break
        assert set(env) == {
            "OCI_CORE_ENDPOINT",
            "OCI_OBJECTSTORAGE_ENDPOINT",
            "OCI_CONFIG_FILE",
            "OCI_AUTH",
        }
        assert env["OCI_AUTH"] == "config_file"
        assert Path(env["OCI_CONFIG_FILE"]) == tmp_path / "config"
        config = oci.config.from_file(env["OCI_CONFIG_FILE"])
        client = oci.core.BlockstorageClient(config, **client_kwargs(env["OCI_CORE_ENDPOINT"]))
        assert client.get_volume_group_backup(B1).data.source_type == "SCHEDULED"
        with urllib.request.urlopen(f"{env['OCI_CORE_ENDPOINT']}/_emulator/faults") as resp:
            assert json.loads(resp.read())["latency_ms"] == 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""  # quiet unless --verbose
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_rejects_a_missing_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err
    assert build_parser().parse_args([]).port == 0
