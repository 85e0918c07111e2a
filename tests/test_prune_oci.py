"""tools/prune_oci.py: which oci services the image keeps (the proof on a pruned tree is bench_size.py)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import oci
import pytest

from tools.prune_oci import DEFAULT_SERVICES, prune, referenced, service_packages, services_to_keep

ROOT = Path(__file__).resolve().parents[1]
OCI_DIR = Path(oci.__file__).parent
# The image carries func.py and sync/ except the emulator and the command line's doctor (.dockerignore).
NOT_IN_IMAGE = ("emulator", "cli/doctor")


def function_sources() -> list[Path]:
    sync = ROOT / "sync"
    files = [
        p
        for p in sorted(sync.rglob("*.py"))
        if not any(p.relative_to(sync).as_posix().startswith(part + "/") for part in NOT_IN_IMAGE)
    ]
    return [ROOT / "func.py", *files]


def test_default_services_cover_every_service_the_function_imports() -> None:
    used = referenced(function_sources()) & service_packages(OCI_DIR)
    assert used == set(DEFAULT_SERVICES)


def test_lean_clients_leave_core_identity_and_object_storage_unused() -> None:
    used = referenced(function_sources())
    assert {"core", "identity"}.isdisjoint(used)
    # object_storage stays in the image only because oci.pagination imports it.
    assert "object_storage" not in used


def test_kept_services_include_what_kept_sdk_modules_import() -> None:
    keep = services_to_keep(OCI_DIR, [*DEFAULT_SERVICES, "functions"])
    # `from .. import dns, object_storage` in oci/pagination/pagination_utils.py (relative).
    assert {"functions", "dns", "object_storage"} <= keep
    # oci.core is named only in docstrings of kept modules (oci/util.py, oci/exceptions.py).
    assert "core" not in keep and "database" not in keep


def test_scanner_reads_code_not_text(tmp_path: Path) -> None:
    pkg = tmp_path / "oci" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text(
        '"""See oci.core.models.Thing."""\n'
        "# oci.database.DatabaseClient\n"
        "import oci.alpha.x\n"
        "from oci.beta import y\n"
        "from oci import gamma, delta as d\n"
        "from .. import epsilon\n"
        "from ..zeta.models import Z\n"
        "def f():\n"
        "    return oci.eta.Client()\n"
        "s = 'oci.theta.Client'\n"
    )
    names = referenced([pkg], tmp_path)
    assert names == {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"}


def test_the_hsm_signers_extras_are_left_out(tmp_path: Path) -> None:
    target = tmp_path / "site"
    (target / "oci").mkdir(parents=True)
    (target / "oci" / "__init__.py").write_text("")
    names = [
        "pkcs11",
        "asn1crypto",
        "python_pkcs11-0.9.4.dist-info",
        "asn1crypto-1.5.1.dist-info",
        "cryptography",
    ]
    for name in names:
        (target / name).mkdir()
    prune(target, [])
    assert sorted(p.name for p in target.iterdir()) == ["cryptography", "oci"]


def test_a_symlinked_oci_is_refused_before_anything_is_deleted(tmp_path: Path) -> None:
    real = tmp_path / "real" / "oci"
    (real / "core").mkdir(parents=True)
    (real / "__init__.py").write_text("")
    target = tmp_path / "site"
    target.mkdir()
    (target / "oci").symlink_to(real)
    with pytest.raises(SystemExit, match="symlink"):
        prune(target, [])
    assert (real / "core").is_dir()


def test_the_sdk_imports_its_signers_without_the_pkcs11_extras(tmp_path: Path) -> None:
    """The SDK's own fallback (oci/auth/signers/__init__.py) is what makes leaving them out safe."""
    site = Path(sysconfig.get_paths()["purelib"])
    tree = tmp_path / "site"
    tree.mkdir()
    for entry in site.iterdir():  # links to everything but the extras; nothing is deleted
        if entry.name.split("-")[0].lower() not in ("pkcs11", "asn1crypto", "python_pkcs11"):
            (tree / entry.name).symlink_to(entry)
    code = (
        "import sys, oci\n"
        "from oci.auth import signers\n"
        "assert 'pkcs11' not in sys.modules and not hasattr(signers, 'PKCS11Signer')\n"
        "assert hasattr(signers, 'InstancePrincipalsSecurityTokenSigner')\n"
        "print('ok')\n"
    )
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}  # -S: only this tree is searched
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
