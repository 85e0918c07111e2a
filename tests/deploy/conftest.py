"""Fixtures: a throwaway project with deploy/, the real `oci` CLI pointed at a local stub of the
OCI control plane, and a fake `fn`/`docker` on PATH."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.deploy.cloud_state import Cloud
from tests.deploy.oci_stub import Stub

REPO = Path(__file__).resolve().parents[2]
REAL_OCI = REPO / ".venv-ocicli" / "bin" / "oci"
FAKE_FN = Path(__file__).with_name("fake_fn.py")

TENANCY = "ocid1.tenancy.oc1..tenancy"
COMPARTMENT = "ocid1.compartment.oc1..apps"
TARGET_B = "ocid1.compartment.oc1..backupsb"
TAGS_COMPARTMENT = "ocid1.compartment.oc1..tags"
METRICS_COMPARTMENT = "ocid1.compartment.oc1..metrics"
SUBNET = "ocid1.subnet.oc1.iad.fnsubnet"
SUBNET_PHX = "ocid1.subnet.oc1.phx.fnsubnet"
BUCKET_COMPARTMENT = "ocid1.compartment.oc1..policies"
HOME = "us-ashburn-1"
REGIONS = [HOME, "us-phoenix-1", "eu-frankfurt-1"]
SUBSCRIBED = [HOME, "us-phoenix-1"]

BASE_ARGS = ("--compartment", COMPARTMENT, "--subnet", SUBNET, "--yes", "--skip-policy-check")
# The options of the deployment most tests start from (restored from one deploy per process).
STANDARD = ("--tag-namespace", "Operations", "--tag-namespace", "FinOps", "--notify-email", "ops@example.com")
_DEPLOYED: dict[tuple[str, ...], dict[str, Any]] = {}

MUTATING_OCI_VERBS = {"create", "update", "delete", "invoke", "container-function"}


def seed(cloud: Cloud) -> None:
    d = cloud.data
    for cid, name in (
        (COMPARTMENT, "apps"),
        (TARGET_B, "backups-b"),
        (TAGS_COMPARTMENT, "tags"),
        (BUCKET_COMPARTMENT, "policies"),
        (METRICS_COMPARTMENT, "metrics"),
    ):
        d["compartments"][cid] = {"name": name, "compartmentId": TENANCY}
    d["subnets"][SUBNET] = {"displayName": "fn-private", "compartmentId": COMPARTMENT}
    d["subnets"][SUBNET_PHX] = {"displayName": "fn-private-phx", "compartmentId": COMPARTMENT}
    d["tagNamespaces"] = [
        {
            "id": "ocid1.tagnamespace.oc1..ops",
            "name": "Operations",
            "compartmentId": TENANCY,
            "isRetired": False,
        },
        {"id": "ocid1.tagnamespace.oc1..fin", "name": "FinOps", "compartmentId": TENANCY, "isRetired": False},
    ]
    d["buckets"]["acmens/tag-policies"] = {"compartmentId": BUCKET_COMPARTMENT}


@dataclass
class Call:
    tool: str
    argv: list[str]
    region: str | None = None
    env: dict[str, str] = field(default_factory=dict)

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
    cloud: Cloud
    log_path: Path
    fn_context_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def calls(self) -> list[Call]:
        if not self.log_path.exists():
            return []
        return [Call(**json.loads(line)) for line in self.log_path.read_text().splitlines()]

    def clear_log(self) -> None:
        self.log_path.write_text("")
        self.cloud.requests.clear()

    def mutating(self) -> list[Call]:
        return [c for c in self.calls() if c.mutating]

    def writes(self) -> list[tuple[str, str, str]]:
        """Every request that changed something, as the stub received it."""
        return [r for r in self.cloud.requests if r[1] not in ("GET", "HEAD")]

    def live(self, coll: str, region: str = HOME) -> list[dict[str, Any]]:
        return self.cloud.live(region, coll)

    def the(self, coll: str, region: str = HOME) -> dict[str, Any]:
        items = self.live(coll, region)
        assert len(items) == 1, items
        return items[0]

    def edit(self, fn: Callable[[Cloud], None]) -> None:
        with self.cloud.lock:
            fn(self.cloud)

    def set_fn_context(self, ctx: dict[str, str] | None) -> None:
        self.fn_context_path.write_text(json.dumps(ctx))

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
            timeout=300,
        )

    def deployed(self, *args: str) -> None:
        """Bring the stub to the state `deploy.sh BASE *args` leaves.

        Runs the script once per argument list per test process and restores its end state
        afterwards (the stub is deterministic), which keeps the suite fast. Logs are cleared.
        Without arguments: the STANDARD deployment."""
        args = args or STANDARD
        if args not in _DEPLOYED:
            r = self.run("deploy.sh", *BASE_ARGS, *args)
            assert r.returncode == 0, r.stderr
            _DEPLOYED[args] = self.cloud.snapshot()
        self.cloud.restore(_DEPLOYED[args])
        self.clear_log()

    def remove_tool(self, name: str) -> None:
        (self.bin / name).unlink()


@pytest.fixture(scope="session")
def cli_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("key") / "oci_api_key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + b"OCI_API_KEY\n"  # the label the CLI asks for (it warns without it)
    )
    path.chmod(0o600)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.md5(der).hexdigest()  # noqa: S324 (OCI's API key fingerprint is an MD5)
    return path, ":".join(digest[i : i + 2] for i in range(0, 32, 2))


@pytest.fixture(scope="session")
def stub() -> Iterator[Stub]:
    cloud = Cloud(TENANCY, REGIONS)
    s = Stub(cloud)
    seed(cloud)
    cloud.data["subscribed"] = list(SUBSCRIBED)
    s.initial = cloud.snapshot()  # type: ignore[attr-defined]
    yield s
    s.close()


SHIM = """#!{python} -S
import array, json, os, socket, sys
argv = sys.argv[1:]
region = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--region"), None)
region = region or os.environ.get("OCI_CLI_REGION") or {home!r}
with open(os.environ["FAKE_CLI_LOG"], "a") as f:
    f.write(json.dumps({{"tool": "oci", "argv": argv, "region": region}}) + "\\n")
with open(os.environ["OCI_STUB_ENDPOINTS"]) as f:
    os.environ["OCI_CLI_ENDPOINT"] = json.load(f).get(region, "http://127.0.0.1:9")
sock = os.environ.get("OCI_TEST_FORKSERVER")
if not sock or os.environ.get("OCI_TEST_NO_FORKSERVER") == "1":
    os.execv({real!r}, [{real!r}, *argv])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
msg = json.dumps({{"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}}).encode()
s.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
s.shutdown(socket.SHUT_WR)
code = s.recv(16)
sys.exit(int(code) if code else 1)
"""


@pytest.fixture(scope="session")
def forkserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not REAL_OCI.exists():
        pytest.fail(f"the oci CLI tool venv is missing ({REAL_OCI}): run `make .venv-ocicli/.installed`")
    path = str(tmp_path_factory.mktemp("fork") / "oci.sock")
    proc = subprocess.Popen(
        [str(REAL_OCI.parent / "python"), str(Path(__file__).with_name("oci_forkserver.py")), path],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield path
    proc.terminate()
    proc.wait(timeout=10)


def write_oci_config(home: Path, key: tuple[Path, str]) -> Path:
    cfg = home / ".oci" / "config"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        f"[DEFAULT]\nuser=ocid1.user.oc1..deployer\nfingerprint={key[1]}\nkey_file={key[0]}\n"
        f"tenancy={TENANCY}\nregion={HOME}\n"
    )
    cfg.chmod(0o600)
    return cfg


@pytest.fixture
def fake(tmp_path: Path, stub: Stub, cli_key: tuple[Path, str], forkserver: str) -> Env:
    stub.cloud.restore(stub.initial)  # type: ignore[attr-defined]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps(stub.endpoints))
    log_path = tmp_path / "calls.jsonl"
    # The shim only chooses the endpoint of the region the command names and logs the call;
    # the real CLI parses every argument and sends the requests (in a child of the warm
    # forkserver, or exec'd directly with OCI_TEST_NO_FORKSERVER=1).
    (bin_dir / "oci").write_text(SHIM.format(python=sys.executable, home=HOME, real=str(REAL_OCI)))
    for tool in ("fn", "docker"):
        (bin_dir / tool).write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{FAKE_FN}" {tool} "$@"\n')
    for tool in ("oci", "fn", "docker"):
        (bin_dir / tool).chmod(0o755)
    proj = tmp_path / "proj"
    shutil.copytree(REPO / "deploy", proj / "deploy")
    (proj / "func.yaml").write_text(
        "schema_version: 20180708\nname: backup-tag-sync\nversion: 0.0.1\nruntime: python\n"
    )
    (proj / "func.py").write_text("def handler(ctx, data=None):\n    return None\n")
    # deploy.sh reads the policy with this checkout's sync/ (what kinds and namespaces it needs)
    (proj / "sync").symlink_to(REPO / "sync")
    shutil.copy(REPO / "tag_policy.yaml", proj / "tag_policy.yaml")
    home = tmp_path / "home"
    write_oci_config(home, cli_key)
    ctx_path = tmp_path / "fn_context.json"
    ctx_path.write_text(
        json.dumps(
            {
                "api-url": f"https://functions.{HOME}.oci.oraclecloud.com",
                "oracle.compartment-id": COMPARTMENT,
                "oracle.profile": "DEFAULT",
                "provider": "oracle",
                "registry": "iad.ocir.io/acmens/backup-tag-sync",
            }
        )
    )
    python_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin", python_dir]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "FAKE_CLI_LOG": str(log_path),
        "FAKE_FN_CONTEXT": str(ctx_path),
        "OCI_STUB_ENDPOINTS": str(endpoints),
        "OCI_TEST_FORKSERVER": forkserver,
        "OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING": "True",
        "OCI_TENANCY": TENANCY,
    }
    return Env(tmp_path, bin_dir, proj, stub.cloud, log_path, ctx_path, env)
