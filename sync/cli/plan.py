"""The plan command: what the policy would change, from files (offline) or on a live backup."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from sync.cli.backup import add_plan_live_options, cmd_plan_live, with_kind
from sync.cli.common import EXIT_OK, CliError, guarded, load_policy_arg
from sync.cli.helptext import PROG, add_command
from sync.cli.table import render_plan
from sync.policy.fields import from_api_json
from sync.policy.planner import plan as make_plan
from sync.requests.bodies import BackupRequest, parse_request
from sync.sources.bundled import DEFAULT_POLICY


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


def cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if getattr(args, "backup", None):
        if args.backup_json or args.volume_group_json or args.event:
            raise CliError("plan takes either --backup OCID (live) or --backup-json FILE, not both")
        return guarded(cmd_plan_live)(args, out, err)
    policy = load_policy_arg(args.policy or DEFAULT_POLICY)
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
    print(with_kind(render_plan(result), result.kind), file=out)
    return EXIT_OK


def _resource(path: str, what: str) -> dict[str, Any]:
    data = _read_json(path, what)
    if not isinstance(data, dict):
        raise CliError(f"{what} {path} must hold a JSON object")
    # Accept both a bare resource and the CLI's {"data": {...}} wrapper.
    if set(data) <= {"data", "etag"} and isinstance(data.get("data"), dict):
        data = data["data"]
    return from_api_json(data)


def add_plan_command(sub: Any) -> None:
    p = add_command(
        sub,
        "plan",
        "show what the policy would change on a backup, as a table; never writes",
        f"{PROG} plan --backup-json samples/backup.json --volume-group-json samples/volume_group.json\n"
        f"{PROG} plan --backup ocid1.volumegroupbackup.oc1.iad.aaaa          # live, read only",
    )
    p.add_argument(
        "--policy",
        metavar="P",
        help="policy: a path, file://, oci:// or s3:// (default: the bundled tag_policy.yaml with "
        "--backup-json; what the function would use with --backup)",
    )
    p.add_argument(
        "--backup-json",
        metavar="FILE",
        help="the backup as GET returns it (the API's JSON or `oci bv volume-group-backup get` output) "
        "(default: none; give this or --backup)",
    )
    p.add_argument(
        "--volume-group-json",
        metavar="FILE",
        help="its volume group as GET returns it, for rules reading volume_group.* (default: none)",
    )
    p.add_argument(
        "--event",
        metavar="FILE",
        help="the OCI Events JSON that reported the backup, for rules reading event.* (default: none)",
    )
    add_plan_live_options(p)
    p.add_argument(
        "--tag-schema",
        metavar="FILE",
        help="check defined tag values against this schema file (default: with --backup, the tenancy's "
        "tag namespaces; with --backup-json, no check)",
    )
    p.set_defaults(func=cmd_plan)
