"""tools/prune_oci.py: which oci services the image keeps (the proof on a pruned tree is bench_size.py)."""

from __future__ import annotations

from pathlib import Path

import oci

from tools.prune_oci import DEFAULT_SERVICES, referenced, service_packages, services_to_keep

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
