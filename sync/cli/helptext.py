"""How every sub-command's help reads, and the command as the user invoked it (for hints)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

PROG = "backup-tag-sync"
_invoked = PROG


def invoked_as(argv0: str, executable: str = sys.executable, cwd: str | None = None) -> str:
    """The command to print in hints: what ran, so that pasting a hint runs the same program.

    `python -m sync` when that ran (with the interpreter's path when `python` on PATH is another
    one); the installed command's bare name when PATH finds it, else its path as invoked.
    """
    path = Path(argv0)
    if path.name == "__main__.py" and path.parent.name == "sync":
        return f"{_python(executable, cwd)} -m sync"
    if path.name == PROG:
        found = shutil.which(PROG)
        if found and os.path.exists(argv0) and os.path.samefile(found, argv0):
            return PROG
        return shlex.quote(argv0)
    return PROG  # main() called from Python (tests, another tool)


def _python(executable: str, cwd: str | None) -> str:
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found and os.path.abspath(found) == os.path.abspath(executable):
            return name
    here = os.path.abspath(cwd or os.getcwd())
    full = os.path.abspath(executable)
    if full.startswith(here + os.sep):  # `.venv/bin/python -m sync` in a checkout stays short
        return shlex.quote(os.path.relpath(full, here))
    return shlex.quote(full)


def set_invoked(command: str) -> None:
    global _invoked
    _invoked = command


def prog() -> str:
    """The command as invoked (`backup-tag-sync`, `~/bts/bin/backup-tag-sync`, `python3 -m sync`...)."""
    return _invoked


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks; adds an option's default when its help does not say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        silent = (None, False, argparse.SUPPRESS)
        if action.option_strings and "default" not in text and action.default not in silent:
            text += " (default: %(default)s)"
        return text


def add_command(sub: Any, name: str, summary: str, examples: str) -> argparse.ArgumentParser:
    """A sub-command whose --help starts with `summary` and ends with `examples` (one per line)."""
    lines = "\n".join(f"  {line}" for line in examples.strip().splitlines())
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example{'s' if len(examples.strip().splitlines()) > 1 else ''}:\n{lines}",
        formatter_class=HelpFormatter,
    )
    return parser
