"""The package installed into a fresh venv the way the README's install block says, once per test run.

`pip install '.[EXTRAS]'` (the extras read from the README's install line) from a copy of the
repository's build inputs into a venv made with `python -m venv`. No download: the venv reaches
the development venv's packages through a .pth file (appended to sys.path, after its own
site-packages), so pip finds every dependency already installed and installs only this package;
the build uses the development venv's setuptools (--no-build-isolation). Console scripts of the
extras' packages (fdk) are written into the venv's bin as pip writes them. The source copy is
deleted afterwards: the installed command must not lean on it.

Built once per run: xdist workers share it through a lock in the run's base temporary directory.
Measured on a shared 2-core machine: about 10 s.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "tag_policy.yaml")
INSTALL_LINE = re.compile(r"pip install '\.\[([a-z0-9,]+)\]'")
# Console scripts of dependencies that README blocks run; pip writes them when it installs the package.
SCRIPTS = {"function": ["fdk"]}


def readme_extras() -> list[str]:
    """The extras of the README's install line (`pip install '.[cli,function]'`)."""
    found = INSTALL_LINE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no `pip install '.[...]'` line"
    return found.group(1).split(",")


def build(base: Path, extras: list[str]) -> Path:
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
        [*pip, "--no-build-isolation", "--no-index", f"{src}[{','.join(extras)}]"],
        check=True,
        capture_output=True,
    )
    for extra in extras:
        for script in SCRIPTS.get(extra, []):
            text = (Path(sys.executable).parent / script).read_text().splitlines(keepends=True)
            (venv / "bin" / script).write_text(f"#!{python}\n" + "".join(text[1:]))
            (venv / "bin" / script).chmod(0o755)
    shutil.rmtree(src)
    return venv


@pytest.fixture(scope="session")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv holding the installed `backup-tag-sync` (its bin/ holds the command)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, which every worker's base is in
    base = shared / "installed-package"
    with open(shared / "installed-package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "done").exists():
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir()
            build(base, readme_extras())
            (base / "done").touch()
    return base / "venv"
