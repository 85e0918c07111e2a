"""`pip install .` gives a `backup-tag-sync` command that works from any directory.

The package is installed into a fresh venv as the README says (tests/installed.py). The command
then runs from a directory that is not the repository, so nothing can lean on the checkout being
the working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib.metadata import Distribution
from pathlib import Path

import pytest

from tests.installed import ROOT, installed_venv

__all__ = ["installed_venv"]  # the fixture, used through `installed`


@pytest.fixture
def installed(installed_venv: Path) -> Path:
    return installed_venv


def run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TAG_POLICY", "TAG_POLICY_URI")}
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_command_help_from_another_directory(installed: Path, tmp_path: Path) -> None:
    command = installed / "bin" / "backup-tag-sync"
    got = run(installed, tmp_path, str(command), "--help")
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith(f"usage: {command}")  # not on PATH: the path it was run by
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


def test_demo_outside_a_checkout_says_where_it_runs(installed: Path, tmp_path: Path) -> None:
    got = run(installed, tmp_path, str(installed / "bin" / "backup-tag-sync"), "demo")
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert got.stderr == (
        "error: demo runs in a checkout of the repository (it starts func.py and sends "
        "samples/members_event.json): cd into one, or run `make demo` there\n"
    )


def test_demo_runs_in_a_checkout_from_the_installed_command(installed: Path) -> None:
    got = run(installed, ROOT / "samples", str(installed / "bin" / "backup-tag-sync"), "demo")
    assert got.returncode == 0, got.stdout + got.stderr
    assert "Function answered HTTP 200:" in got.stdout and "Demo finished in " in got.stdout


def test_the_command_line_does_not_depend_on_the_fdk(installed: Path) -> None:
    (meta,) = Distribution.discover(name="backup-tag-sync", path=[str(site_packages(installed))])
    requires = meta.requires or []
    fdk = [r for r in requires if r.startswith("fdk")]
    assert fdk == ['fdk==0.1.128; extra == "function"'], requires
    assert not [
        r for r in requires if r.split("=")[0].split(";")[0] in ("pytest", "pytest-asyncio", "Cython")
    ]
    base = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split("==")[0] for r in base) == ["PyYAML", "google-re2", "oci", "pydantic"]


def test_hints_name_the_command_as_invoked(installed: Path, tmp_path: Path) -> None:
    command = installed / "bin" / "backup-tag-sync"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    by_path = subprocess.run([str(command)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert by_path.stdout.startswith(f"usage: {command}") and by_path.returncode == 2
    assert f"`{command} COMMAND --help` shows" in by_path.stdout
    on_path = subprocess.run(
        ["backup-tag-sync", "sweep", "--help"],
        cwd=tmp_path, env={**env, "PATH": f"{command.parent}:/usr/bin:/bin"}, capture_output=True, text=True,
    )  # fmt: skip
    assert on_path.stdout.startswith("usage: backup-tag-sync sweep ")
    assert "\n  backup-tag-sync sweep --compartment " in on_path.stdout


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found
