"""The one-backup live commands: plan --backup (read only) and apply."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from sync.cli.common import (
    BAD_OUTCOMES,
    EXIT_FAILED,
    EXIT_OK,
    ONE_BACKUP_TIMEOUT,
    POLICY_HELP,
    add_common_options,
    build_clients,
    cli_logging,
    env_vars,
    failure_line,
    ocid_arg,
    policy_loader,
)
from sync.cli.errors import CliError
from sync.cli.helptext import add_command, prog
from sync.cli.options import shown
from sync.cli.table import change_rows, render_plan, render_table
from sync.cloud.engine import CallFailed, Engine, Outcome
from sync.cloud.retry import Deadline
from sync.domain.resources import Kind
from sync.policy.decide import group_backup_to_read, source_to_read, source_view, views
from sync.policy.planner import plan as make_plan

BACKUP_OCID_TYPES = tuple(k.ocid_type for k in Kind)


def with_kind(text: str, kind: str | None) -> str:
    """A plan or outcome with a `Kind:` line after its first (the `Backup ...` line)."""
    first, _, rest = text.partition("\n")
    return f"{first}\nKind: {kind or 'unknown'}" + (f"\n{rest}" if rest else "")


# -- plan --backup -----------------------------------------------------------------------------


def cmd_plan_live(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """What the policy would change on a live backup of any kind (GET; its source when a rule needs it)."""
    env = env_vars()
    backup_id = ocid_arg(args.backup, *BACKUP_OCID_TYPES)
    with cli_logging(getattr(args, "log_file", None), env):
        clients = build_clients(env)
        policy = policy_loader(args.policy, env, clients)()
        engine = Engine.on(clients, lambda: policy)
        deadline = Deadline.after(args.timeout)
        kind = Kind.of(backup_id) or Kind.VOLUME_GROUP_BACKUP  # ocid_arg checked it
        clients.blockstorage()
        try:
            backup = engine.port.get_backup(kind, backup_id, deadline).value
            # Planned whatever the backup's state (a note below says it): the table shows what would change.
            as_available = replace(backup, lifecycle_state="AVAILABLE")
            wanted = source_to_read(policy, as_available)
            source = engine.port.get_source(wanted[0], wanted[1], backup_id, deadline) if wanted else None
            group_id = group_backup_to_read(policy, as_available)
            group = engine.port.get_backup(Kind.VOLUME_GROUP_BACKUP, group_id, deadline) if group_id else None
        except CallFailed as failure:
            print(shown(f"error: {failure_line(failure)}"), file=err)
            return EXIT_FAILED
        review = engine.review(deadline)
        if getattr(args, "tag_schema", None):  # a schema file instead of the tenancy's
            from sync.cli.lint_live import SchemaFileError, load_schema_file
            from sync.policy.tagcheck import apply_schema

            try:
                schema = load_schema_file(args.tag_schema)
            except SchemaFileError as exc:
                raise CliError(str(exc)) from None
            review = lambda result: apply_schema(result, schema)  # noqa: E731
        backup_view, volume_group_view = views(backup, source)
        group_view = group.value.fields if group else None
        result = review(
            make_plan(
                policy, backup_view, volume_group_view, source=source_view(source), group_backup=group_view
            )
        )
        print(with_kind(render_plan(result), kind.value), file=out)
        if getattr(args, "explain", False):
            from sync.policy.explain import explain_text

            context = {
                "backup": backup_view,
                "volume_group": volume_group_view,
                "source": source_view(source),
                "group_backup": group_view,
                "event": None,
            }
            print(explain_text(policy, context, result), file=out)
        state = backup.lifecycle_state
        if state != "AVAILABLE":
            print(shown(f"note: the backup is {state}"), file=out)
    return EXIT_OK


# -- apply -------------------------------------------------------------------------------------


def render_outcome(o: Outcome) -> str:
    kind = o.kind
    lines = [f"Backup {o.backup_id}: {o.status}", f"Kind: {kind.value if kind else 'unknown'}"]
    if o.members is not None:
        counts = ", ".join(f"{status} {n}" for status, n in sorted(o.members.to_json()["counts"].items()))
        lines.append(f"Members: {counts or 'none'}")
        lines += [f"member {f['id']}: {f['status']}: {f['error']}" for f in o.members.failures]
    rows = change_rows(o.changes)
    if rows:
        lines.append(render_table(("FIELD", "KEY", "OLD", "NEW"), rows))
    if o.matched_rules:
        lines.append(f"Matched rules: {', '.join(o.matched_rules)}")
    if o.error:
        lines.append(f"error: {o.error}")
    if o.opc_request_id:
        lines.append(f"opc-request-id: {o.opc_request_id}")
    lines += [f"warning: {w}" for w in o.warnings]
    return shown("\n".join(lines))


def cmd_apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Bring one backup in line with the policy, as the function does for an event."""
    env = env_vars()
    backup_id = ocid_arg(args.backup, *BACKUP_OCID_TYPES)
    with cli_logging(args.log_file, env):
        clients = build_clients(env)
        engine = Engine.on(clients, policy_loader(args.policy, env, clients))
        outcome = engine.sync_backup(backup_id, dry_run=args.dry_run, deadline=Deadline.after(args.timeout))
    if args.output == "json":
        print(json.dumps(outcome.to_json(), indent=2), file=out)
    else:
        print(render_outcome(outcome), file=out)
    return EXIT_FAILED if outcome.status in BAD_OUTCOMES else EXIT_OK


# -- argparse ----------------------------------------------------------------------------------


def add_apply_command(sub: Any, wrap: Callable[[Callable[..., int]], Callable[..., int]]) -> None:
    """Add apply to the parser's subcommands; `wrap` turns CliError into one line."""
    p = add_command(
        sub,
        "apply",
        "bring one backup in line with the policy now, as the function does for an event",
        f"{prog()} apply --backup ocid1.volumegroupbackup.oc1.iad.aaaa --dry-run",
    )
    p.add_argument(
        "--backup",
        required=True,
        metavar="OCID",
        help="the backup to update: a volume group, volume or boot volume backup (a group backup's"
        " members too, when its rules say members: tags)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="compute and show the changes, send no update (default: send it)",
    )
    p.add_argument("--policy", metavar="P", help=POLICY_HELP)
    p.add_argument(
        "--output",
        choices=("table", "json"),
        default="table",
        help="table: the outcome and its changes; json: the function's answer object",
    )
    add_common_options(p, 60.0, ONE_BACKUP_TIMEOUT)
    p.set_defaults(func=wrap(cmd_apply))


def add_plan_live_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backup",
        metavar="OCID",
        help="plan a live backup of any kind: read it (and its source when a rule needs it) from the "
        "endpoint the OCI_* settings name; nothing is written (default: none, plan --backup-json)",
    )
    add_common_options(p, 60.0, ONE_BACKUP_TIMEOUT)
