"""How every sub-command's help reads: a one-line summary, examples kept as written, each default."""

from __future__ import annotations

import argparse
from typing import Any

PROG = "backup-tag-sync"


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
