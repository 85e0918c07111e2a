"""The command line's entry point: the parser of every sub-command, lint, and main()."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from sync.cli.backup import add_apply_command
from sync.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError, guarded
from sync.cli.doctor.command import add_doctor_command
from sync.cli.helptext import PROG, HelpFormatter, add_command, invoked_as, prog, set_invoked
from sync.cli.lint import add_lint_command
from sync.cli.plan import add_plan_command
from sync.cli.policytest.command import add_test_command
from sync.cli.sweep import add_sweep_command
from sync.policy.loader import PolicyError

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]

EXIT_CODES = """\
Exit codes (every command):
  0    done: the policy is valid, the plan was shown, nothing failed
  1    failed: the policy is invalid, the backup would be or was rejected, an OCI call failed for good
  2    usage or setup: a bad option, a file that cannot be read or is not what it should be,
       configuration, authentication, an endpoint that cannot be reached
  3    a sweep stopped early (--timeout, a call that kept failing): it prints the command that resumes
  130  interrupted (Ctrl-C, SIGTERM): a sweep finishes the writes in flight and prints how to resume"""


def settings_help() -> str:
    return f"""\
The live commands (plan --backup, apply, sweep) read the function's settings from the
environment: OCI_AUTH, OCI_CONFIG_FILE, OCI_CONFIG_PROFILE, OCI_CORE_ENDPOINT,
OCI_IDENTITY_ENDPOINT, OCI_OBJECTSTORAGE_ENDPOINT, TAG_POLICY, TAG_POLICY_URI, LOG_LEVEL.
{EXIT_CODES}
`{prog()} COMMAND --help` shows each command's options and an example."""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("backup-tag-sync")
    except PackageNotFoundError:  # a checkout run as `python -m sync`, not installed
        import sync

        return sync.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog(),
        description="Name and tag OCI volume group backups from a policy.",
        epilog=settings_help(),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"{PROG} {version()}",
        help="print the version and exit (default: run COMMAND)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # One line per sub-command, in the order --help lists them: a new command is one more line.
    add_lint_command(sub)
    add_plan_command(sub)
    add_test_command(sub)
    add_apply_command(sub, guarded)
    add_sweep_command(sub, guarded)
    add_emulator_command(sub)
    add_demo_command(sub)
    add_doctor_command(sub)
    return parser


def add_emulator_command(sub: Any) -> None:
    # Only listed here: main() hands `emulator ...` to the emulator's own parser, help included.
    add_command(
        sub,
        "emulator",
        "serve the local OCI emulator and print the settings that point this tool at it",
        f'{prog()} emulator --key-dir "$(mktemp -d)"     # then: {prog()} emulator --help',
    )


def add_demo_command(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        "run the emulator, the function under the real FDK and a sample event, end to end",
        f"cd backup-tag-sync && {prog()} demo     # in a checkout of the repository (func.py, samples/)",
    )
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sync.cli.demo import checkout_paths, run

    func, event = checkout_paths()
    return run(out, event_path=event, func_path=func)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if argv is None:
        set_invoked(invoked_as(sys.argv[0]))
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        # The emulator has its own parser (and --help); hand it the rest untouched.
        from sync.emulator.cli import main as emulator_main

        return emulator_main(argv[1:], prog())
    parser = build_parser()
    if not argv:  # no command: the whole help, as `--help` prints it
        parser.print_help(out)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    func: Command | None = getattr(args, "func", None)
    if func is None:  # options but no command
        parser.print_help(out)
        return EXIT_USAGE
    try:
        return func(args, out, err)
    except PolicyError as exc:
        for line in exc.errors:
            print(f"{exc.origin}: {line}", file=err)
        return EXIT_FAILED
    except CliError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED


__all__ = ["EXIT_OK", "build_parser", "main"]
