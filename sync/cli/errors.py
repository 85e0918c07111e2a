"""The command line's exit codes (README "Exit codes"; `--help` prints them) and its one-line error."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A problem with the user's input or setup: printed as `error: ...`, exit 2, never a traceback."""
