"""The command line: lint, plan, apply, sweep, emulator, demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from sync.cli.lint_live import add_options as lint_live_options
from sync.cli.live import add_live_commands, add_plan_live_options, cmd_plan_live, guarded
from sync.cli.table import render_plan
from sync.policy.fields import from_api_json
from sync.policy.loader import Policy, PolicyError
from sync.policy.planner import plan as make_plan
from sync.requests.bodies import BackupRequest, parse_request
from sync.sources.select import load_policy_from

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_PLAN_POLICY = "tag_policy.yaml"


class CliError(Exception):
    """A problem with the user's input, printed as one line without a traceback."""


def _read_json(path: str, what: str) -> Any:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CliError(f"{what} {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} {path} is not JSON: {exc.msg} at line {exc.lineno}") from None


def load_policy_arg(source: str) -> Policy:
    """A policy from a path, file:///abs, oci://bucket@namespace/object or s3://bucket/key."""
    # The source logs its errors for the function's log; here they are printed as lines.
    quiet = logging.getLogger("sync.sources")
    before = quiet.disabled
    quiet.disabled = True
    try:
        return load_policy_from(source, os.environ)
    finally:
        quiet.disabled = before


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


def cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if getattr(args, "backup", None):
        if args.backup_json or args.volume_group_json or args.event:
            raise CliError("plan takes either --backup OCID (live) or --backup-json FILE, not both")
        return guarded(cmd_plan_live)(args, out, err)
    policy = load_policy_arg(args.policy or DEFAULT_PLAN_POLICY)
    if args.backup_json is None:
        raise CliError("plan needs --backup OCID (live) or --backup-json FILE (a backup as GET returns it)")
    backup = _resource(args.backup_json, "backup")
    vg = _resource(args.volume_group_json, "volume group") if args.volume_group_json else None
    event = None
    if args.event:
        try:
            raw = Path(args.event).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read event {args.event}: {exc.strerror}") from None
        request = parse_request(raw)
        if not isinstance(request, BackupRequest) or request.event is None:
            raise CliError(f"{args.event} is not an event this function handles: {request}")
        event = request.event.as_context()
    result = make_plan(policy, backup, vg, event)
    if getattr(args, "tag_schema", None):
        from sync.cli.lint_live import SchemaFileError, load_schema_file
        from sync.policy.tagcheck import apply_schema

        try:
            result = apply_schema(result, load_schema_file(args.tag_schema))
        except SchemaFileError as exc:
            raise CliError(str(exc)) from None
    print(render_plan(result), file=out)
    return EXIT_OK


def _resource(path: str, what: str) -> dict[str, Any]:
    data = _read_json(path, what)
    if not isinstance(data, dict):
        raise CliError(f"{what} {path} must hold a JSON object")
    # Accept both a bare resource and the CLI's {"data": {...}} wrapper.
    if set(data) <= {"data", "etag"} and isinstance(data.get("data"), dict):
        data = data["data"]
    return from_api_json(data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sync", description="Name and tag OCI volume group backups from a policy."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("lint", help="check a policy; exit 1 with each error on its own line")
    p.add_argument("policy", metavar="POLICY", help="policy file (YAML or JSON)")
    lint_live_options(p)
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("plan", help="show what the policy would change on a backup")
    p.add_argument(
        "--policy",
        help="policy (default: tag_policy.yaml with --backup-json; as the function's config with --backup)",
    )
    p.add_argument("--backup-json", metavar="FILE", help="the backup as GET returns it (JSON)")
    p.add_argument("--volume-group-json", metavar="FILE", help="its volume group (JSON)")
    p.add_argument("--event", metavar="FILE", help="the event that reported the backup")
    add_plan_live_options(p)
    p.add_argument("--tag-schema", metavar="FILE", help="check defined tag values against this schema file")
    p.set_defaults(func=cmd_plan)

    add_live_commands(sub, guarded)

    sub.add_parser("emulator", help="serve the local OCI emulator (`python -m sync emulator --help`)")

    p = sub.add_parser("demo", help="emulator + function under the real FDK + a sample event, end to end")
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sync.cli.demo import run

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
