"""Hints print the command as it was invoked: the installed command's name or path, or `python -m sync`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli.helptext import PROG, invoked_as


def script(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_installed_command_on_path_is_its_bare_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = script(tmp_path / "bts" / "bin", PROG)
    monkeypatch.setenv("PATH", f"{command.parent}:/usr/bin:/bin")
    assert invoked_as(str(command)) == PROG


def test_installed_command_off_path_is_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = script(tmp_path / "my venv" / "bin", PROG)
    other = script(tmp_path / "other" / "bin", PROG)  # another install first on PATH: not this one
    monkeypatch.setenv("PATH", f"{other.parent}:/usr/bin:/bin")
    assert invoked_as(str(command)) == f"'{command}'"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert invoked_as(str(command)) == f"'{command}'"


def test_python_dash_m_sync_names_the_interpreter_that_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_py = str(tmp_path / "checkout" / "sync" / "__main__.py")
    venv_python = script(tmp_path / "checkout" / ".venv" / "bin", "python")
    monkeypatch.setenv("PATH", f"{venv_python.parent}:/usr/bin:/bin")
    assert invoked_as(main_py, str(venv_python)) == "python -m sync"
    # Not the `python` PATH finds: its path, relative when it is under the working directory.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert invoked_as(main_py, str(venv_python), cwd=str(tmp_path / "checkout")) == ".venv/bin/python -m sync"
    assert invoked_as(main_py, str(venv_python), cwd="/") == f"{venv_python} -m sync"


def test_called_from_python_is_the_product_name() -> None:
    assert invoked_as("/usr/lib/python3/site-packages/pytest/__main__.py") == PROG
    assert invoked_as("") == PROG


def test_symlinked_path_entry_counts_as_the_same_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = script(tmp_path / "bts" / "bin", PROG)
    linked = tmp_path / "links"
    linked.mkdir()
    os.symlink(command, linked / PROG)
    monkeypatch.setenv("PATH", f"{linked}:/usr/bin:/bin")
    assert invoked_as(str(command)) == PROG


def test_the_emulator_names_the_command_as_invoked(tmp_path: Path) -> None:
    # The emulator may not import the command line (tests/test_layout.py): the entry point passes it.
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": str(tmp_path)}
    expected = f"{shlex.quote(sys.executable)} -m sync"
    shown = subprocess.run(
        [sys.executable, "-m", "sync", "emulator", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (
        shown.stdout.startswith(f"usage: {expected} emulator ")
        and f"  {expected} emulator --key-dir" in shown.stdout
    )
    regions = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync",
            "emulator",
            "--regions",
            "us-ashburn-1,us-phoenix-1",
            "--key-dir",
            "keys",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert regions.stdout is not None
        lines = [regions.stdout.readline() for _ in range(3)]
    finally:
        regions.terminate()
        regions.wait(timeout=60)
    assert lines[2] == f"Use them from another shell with ({expected} sweep --regions ...):\n", lines
