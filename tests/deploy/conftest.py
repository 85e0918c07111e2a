"""Fixtures: a throwaway project with deploy/ and fake oci/fn/docker on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE = Path(__file__).with_name("fake_cli.py")

TENANCY = "ocid1.tenancy.oc1..tenancy"
COMPARTMENT = "ocid1.compartment.oc1..apps"
TARGET_B = "ocid1.compartment.oc1..backupsb"
TAGS_COMPARTMENT = "ocid1.compartment.oc1..tags"
SUBNET = "ocid1.subnet.oc1.iad.fnsubnet"
BUCKET_COMPARTMENT = "ocid1.compartment.oc1..policies"

BASE_ARGS = ("--compartment", COMPARTMENT, "--subnet", SUBNET, "--yes")
_DEPLOYED: dict[tuple[str, ...], str] = {}

MUTATING_OCI_VERBS = {"create", "update", "delete", "invoke", "container-function"}


def initial_state() -> dict[str, Any]:
    return {
        "authenticated": True,
        "update_is_group": True,
        "counter": 0,
        "compartments": {
            TENANCY: {"name": "acme", "compartment-id": None},
            COMPARTMENT: {"name": "apps", "compartment-id": TENANCY},
            TARGET_B: {"name": "backups-b", "compartment-id": TENANCY},
            TAGS_COMPARTMENT: {"name": "tags", "compartment-id": TENANCY},
            BUCKET_COMPARTMENT: {"name": "policies", "compartment-id": TENANCY},
        },
        "subnets": {SUBNET: {"display-name": "fn-private", "compartment-id": COMPARTMENT}},
        "tag_namespaces": [
            {"id": "ocid1.tagnamespace.oc1..ops", "name": "Operations", "compartment-id": TENANCY},
            {"id": "ocid1.tagnamespace.oc1..fin", "name": "FinOps", "compartment-id": TENANCY},
        ],
        "buckets": {"acmens/tag-policies": {"compartment-id": BUCKET_COMPARTMENT}},
        "fn_context": {
            "api-url": "https://functions.us-ashburn-1.oraclecloud.com",
            "oracle.compartment-id": COMPARTMENT,
            "oracle.profile": "DEFAULT",
            "provider": "oracle",
            "registry": "iad.ocir.io/acmens/backup-tag-sync",
        },
        "applications": [],
        "functions": [],
        "dynamic_groups": [],
        "policies": [],
        "rules": [],
    }


@dataclass
class Call:
    tool: str
    argv: list[str]

    @property
    def words(self) -> list[str]:
        res = []
        for a in self.argv:
            if a.startswith("-"):
                break
            res.append(a)
        return res

    def opt(self, name: str) -> str | None:
        if name in self.argv:
            i = self.argv.index(name)
            return self.argv[i + 1] if i + 1 < len(self.argv) else None
        return None

    @property
    def mutating(self) -> bool:
        if self.tool == "fn":
            return bool(self.argv) and self.argv[0] in ("deploy", "config", "update", "delete")
        if self.tool == "oci":
            return "--help" not in self.argv and bool(set(self.words) & MUTATING_OCI_VERBS)
        return False

    def __str__(self) -> str:
        return " ".join([self.tool, *self.argv])


@dataclass
class Env:
    tmp: Path
    bin: Path
    proj: Path
    state_path: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def edit_state(self, fn: Any) -> None:
        s = self.state
        fn(s)
        self.state_path.write_text(json.dumps(s, indent=1, sort_keys=True))

    def calls(self) -> list[Call]:
        if not self.log_path.exists():
            return []
        return [Call(**json.loads(line)) for line in self.log_path.read_text().splitlines()]

    def clear_log(self) -> None:
        self.log_path.write_text("")

    def mutating(self) -> list[Call]:
        return [c for c in self.calls() if c.mutating]

    def run(
        self, script: str, *args: str, stdin: str | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **extra_env}
        return subprocess.run(
            ["bash", str(self.proj / "deploy" / script), *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=env,
            cwd=self.tmp,
            timeout=60,
        )

    def deployed(self, *args: str) -> None:
        """Bring the fake cloud to the state `deploy.sh BASE *args` leaves.

        Runs the script once per argument list per test session and replays
        its end state afterwards (the fakes are deterministic), which keeps
        the suite fast. The call log is cleared.
        """
        key = args
        if key not in _DEPLOYED:
            r = self.run("deploy.sh", *BASE_ARGS, *args)
            assert r.returncode == 0, r.stderr
            _DEPLOYED[key] = self.state_path.read_text()
        self.state_path.write_text(_DEPLOYED[key])
        self.clear_log()

    def remove_tool(self, name: str) -> None:
        (self.bin / name).unlink()


@pytest.fixture
def fake(tmp_path: Path) -> Env:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("oci", "fn", "docker"):
        p = bin_dir / tool
        p.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{FAKE}" {tool} "$@"\n')
        p.chmod(0o755)
    proj = tmp_path / "proj"
    shutil.copytree(REPO / "deploy", proj / "deploy")
    (proj / "func.yaml").write_text(
        "schema_version: 20180708\nname: backup-tag-sync\nversion: 0.0.1\nruntime: python\n"
    )
    (proj / "func.py").write_text("def handler(ctx, data=None):\n    return None\n")
    home = tmp_path / "home"
    home.mkdir()
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(initial_state(), indent=1, sort_keys=True))
    log_path = tmp_path / "calls.jsonl"
    python_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin", python_dir]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "FAKE_CLI_STATE": str(state_path),
        "FAKE_CLI_LOG": str(log_path),
        "OCI_TENANCY": TENANCY,
    }
    return Env(tmp_path, bin_dir, proj, state_path, log_path, env)
