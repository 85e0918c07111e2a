"""The command line's entry point: the parser of every sub-command, lint, and main()."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from sync.cli.backup import add_apply_command
from sync.cli.common import CliError, guarded, load_policy_arg
from sync.cli.doctor.command import add_doctor_command
from sync.cli.helptext import PROG, HelpFormatter, add_command
from sync.cli.lint_live import add_options as lint_live_options
from sync.cli.plan import add_plan_command
from sync.cli.sweep import add_sweep_command
from sync.policy.loader import PolicyError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

SETTINGS = f"""\
The live commands (plan --backup, apply, sweep) read the function's settings from the
environment: OCI_AUTH, OCI_CONFIG_FILE, OCI_CONFIG_PROFILE, OCI_CORE_ENDPOINT,
OCI_IDENTITY_ENDPOINT, OCI_OBJECTSTORAGE_ENDPOINT, TAG_POLICY, TAG_POLICY_URI, LOG_LEVEL.
Exit codes: 0 done, 1 failed, 2 usage or setup error, 3 sweep stopped early (resumable).
`{PROG} COMMAND --help` shows each command's options and an example."""


def cmd_lint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        policy = load_policy_arg(args.policy)
    except PolicyError as exc:
        for line in exc.errors:
            print(f"{exc.origin}: {line}", file=err)
        return EXIT_FAILED
    if getattr(args, "live", False) or getattr(args, "tag_schema", None):
        from sync.cli import lint_live

        return lint_live.run(policy, args, out, err)
    for warning in policy.warnings:
        print(f"{policy.origin}: warning: {warning}", file=err)
    print(f"{policy.origin}: OK, {len(policy.rules)} rule(s), mode {policy.mode}", file=out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Name and tag OCI volume group backups from a policy.",
        epilog=SETTINGS,
        formatter_class=HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = add_command(
        sub,
        "lint",
        "check a policy; exit 1 with each error on its own line",
        f"{PROG} lint tag_policy.yaml\n"
        f"{PROG} lint tag_policy.yaml --live     # also against the tenancy's tag namespaces",
    )
    p.add_argument(
        "policy",
        metavar="POLICY",
        help="the policy (YAML or JSON): a path, file:///abs, oci://bucket@namespace/object or s3://bucket/key",
    )
    lint_live_options(p)
    p.set_defaults(func=cmd_lint)

    add_plan_command(sub)
    add_apply_command(sub, guarded)
    add_sweep_command(sub, guarded)
    add_doctor_command(sub)

    # Only listed here: main() hands `emulator ...` to the emulator's own parser, help included.
    add_command(
        sub,
        "emulator",
        "serve the local OCI emulator and print the settings that point this tool at it",
        f"{PROG} emulator --key-dir /tmp/oci-emu     # then: {PROG} emulator --help",
    )

    p = add_command(
        sub,
        "demo",
        "run the emulator, the function under the real FDK and a sample event, end to end",
        f"{PROG} demo     # from a checkout of the repository",
    )
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sync.cli.demo import SAMPLE_EVENT, run
    from sync.function.fnrunner import ROOT

    if not (ROOT / "func.py").is_file() or not SAMPLE_EVENT.is_file():
        # An installed command has no func.py or samples/ beside it: the demo is a checkout's.
        raise CliError(
            "demo runs from a checkout of the repository (`make demo`): it needs func.py and samples/"
        )
    return run(out)


Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        # The emulator has its own parser (and --help); hand it the rest untouched.
        from sync.emulator.cli import main as emulator_main

        return emulator_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    func: Command = args.func
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
        return 130
