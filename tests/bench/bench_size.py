"""Deployed size: `pip install --target` of requirements.txt, before and after tools/prune_oci.py,
and proof the pruned tree works: PROOF_TESTS (the function under the real FDK against the
emulator) run by a fresh venv whose only site-packages is the pruned tree (not a test).

    .venv/bin/python tests/bench/bench_size.py [--workdir build/bench-size] [--reuse]

Isolation: `python -m venv --without-pip` makes an interpreter with an empty site-packages; a
.pth file there adds the pruned tree and nothing else. pytest runs in that interpreter with
PYTHONPATH holding only pytest itself (copied from the unpruned install); the FDK processes the
tests start get PYTHONPATH=<repo> from sync/function/fnrunner.py, so they see the pruned tree and the
repo only. A sanity check first shows that `oci.core` and `oci.database` (pruned) no longer
import.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.prune_oci import DEFAULT_SERVICES, dir_size, prune  # noqa: E402

TEST_DEPS = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py")
# The function under the real FDK: events, scheduled sweeps and their continuations
# (oci.functions), metrics (BaseClient), oci:// policies and the tag schema (lean clients).
PROOF_TESTS = (
    "tests/test_function.py",
    "tests/test_function_schedule.py",
    "tests/test_function_metrics.py",
    "tests/test_policy_source_oci.py",
    "tests/test_tag_schema_live.py",
    "tests/test_sweep.py",
)


def du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deployed size before/after pruning, and proof")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench-size")
    parser.add_argument("--reuse", action="store_true", help="reuse an earlier pip install")
    args = parser.parse_args(argv)
    work: Path = args.workdir.resolve()
    site, pruned, deps, venv = work / "site", work / "pruned", work / "testdeps", work / "bare-venv"

    if not (args.reuse and (site / "oci").is_dir()):
        shutil.rmtree(site, ignore_errors=True)
        start = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(site),
                "-r",
                str(ROOT / "requirements.txt"),
            ],
            check=True,
        )
        print(f"pip install --target: {time.monotonic() - start:.0f} s")
    shutil.rmtree(pruned, ignore_errors=True)
    shutil.copytree(site, pruned, symlinks=True)
    shutil.rmtree(deps, ignore_errors=True)
    deps.mkdir(parents=True)
    for name in TEST_DEPS:
        src = site / name
        if src.is_dir():
            shutil.copytree(src, deps / name)
        elif src.exists():
            shutil.copy2(src, deps / name)
    prune(pruned, list(DEFAULT_SERVICES))

    print("== deployed size (pip install --target -r requirements.txt) ==")
    print(f"  full:   {du_mb(site):6.1f} MiB on disk (du; {dir_size(site) / 2**20:6.1f} MiB of file bytes)")
    print(
        f"  pruned: {du_mb(pruned):6.1f} MiB on disk (du; {dir_size(pruned) / 2**20:6.1f} MiB of file bytes)"
        "  goal < 120 MB"
    )
    print(f"  oci package alone: {du_mb(site / 'oci'):6.1f} -> {du_mb(pruned / 'oci'):6.1f} MiB on disk")

    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "pruned.pth").write_text(str(pruned) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    probe = (
        "import importlib.util, oci, fdk, yaml, pydantic, sys;"
        "from oci.functions import FunctionsInvokeClient;"
        "from oci.pagination import list_call_get_all_results;"
        "print('  oci from', oci.__file__);"
        "print('  oci.core, oci.database importable:', [importlib.util.find_spec(m) is not None"
        " for m in ('oci.core', 'oci.database')]);"
        "print('  sys.path:', [p for p in sys.path if 'site-packages' in p or 'pruned' in p])"
    )
    print("== isolation check (fresh venv, pruned tree only) ==")
    subprocess.run([str(py), "-c", probe], check=True, env=env, cwd="/")
    print(f"== {' '.join(PROOF_TESTS)} under the pruned tree ==")
    start = time.monotonic()
    result = subprocess.run(
        [str(py), "-m", "pytest", "-p", "no:cacheprovider", *PROOF_TESTS],
        env={**env, "PYTHONPATH": f"{deps}{os.pathsep}{ROOT}"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    summary = [ln for ln in result.stdout.splitlines() if " passed" in ln or " failed" in ln]
    print("  " + (summary[-1] if summary else "no pytest summary line"))
    print(f"  exit {result.returncode} in {time.monotonic() - start:.0f} s")
    if result.returncode:
        print(result.stdout[-4000:], result.stderr[-2000:])
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
