"""`pip install .` gives a `backup-tag-sync` command that works from any directory.

The package is built from a copy of the repository's build inputs and installed into a fresh
venv (no download: its dependencies are the dev venv's, reached through a .pth file, and the
build uses the dev venv's setuptools). The command then runs from a directory that is not the
repository, so nothing can lean on the checkout being the working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "tag_policy.yaml")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    shutil.copytree(ROOT / "sync", src / "sync", ignore=shutil.ignore_patterns("__pycache__"))
    for name in BUILD_INPUTS:
        shutil.copy(ROOT / name, src / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run(
        [*pip, "--no-deps", "--no-build-isolation", "--no-index", str(src)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(src)  # the installed command must not need the source tree
    return venv


def run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TAG_POLICY", "TAG_POLICY_URI")}
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_command_help_from_another_directory(installed: Path, tmp_path: Path) -> None:
    got = run(installed, tmp_path, str(installed / "bin" / "backup-tag-sync"), "--help")
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("usage: backup-tag-sync ")
    for command in ("lint", "plan", "apply", "sweep", "emulator", "demo"):
        assert f"\n    {command} " in got.stdout


def test_lint_a_policy_in_the_working_directory(installed: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "tag_policy.yaml", tmp_path / "tag_policy.yaml")
    got = run(installed, tmp_path, str(installed / "bin" / "backup-tag-sync"), "lint", "tag_policy.yaml")
    assert (got.returncode, got.stdout) == (0, "tag_policy.yaml: OK, 4 rule(s), mode all\n"), got.stderr


def test_installed_package_is_the_one_used_and_carries_its_data(installed: Path, tmp_path: Path) -> None:
    code = (
        "import sync, sync.sources.bundled as b, sync.emulator.seed as s;"
        "print(sync.__file__); print(b.DEFAULT_POLICY); print(s.SAMPLE_SEED_PATH.is_file())"
    )
    got = run(installed, tmp_path, str(installed / "bin" / "python"), "-c", code)
    module, policy, seed = got.stdout.splitlines()
    assert module.startswith(str(installed)) and seed == "True", got.stderr
    assert policy.startswith(str(installed))
    assert Path(policy).read_bytes() == (ROOT / "tag_policy.yaml").read_bytes()


def test_plan_without_policy_uses_the_bundled_default(installed: Path, tmp_path: Path) -> None:
    got = run(
        installed,
        tmp_path,
        str(installed / "bin" / "backup-tag-sync"),
        "plan",
        "--backup-json",
        str(ROOT / "samples" / "backup.json"),
    )
    assert got.returncode == 0, got.stderr
    assert "Matched rules: rename-scheduled, provenance" in got.stdout


def test_python_dash_m_sync_still_works(installed: Path, tmp_path: Path) -> None:
    got = run(
        installed,
        tmp_path,
        str(installed / "bin" / "python"),
        "-m",
        "sync",
        "lint",
        str(ROOT / "tag_policy.yaml"),
    )
    assert got.returncode == 0 and "OK, 4 rule(s)" in got.stdout, got.stderr


def test_demo_says_it_needs_a_checkout(installed: Path, tmp_path: Path) -> None:
    got = run(installed, tmp_path, str(installed / "bin" / "backup-tag-sync"), "demo")
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert (
        got.stderr
        == "error: demo runs from a checkout of the repository (`make demo`): it needs func.py and samples/\n"
    )
