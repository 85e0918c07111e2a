"""`lint POLICY --live` (or `--tag-schema FILE`): a policy's defined tags against the tenancy's tag schema."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TextIO

from sync.cli.errors import EXIT_FAILED, EXIT_OK
from sync.cli.table import render_table
from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.cloud.leanport import LeanPort
from sync.cloud.retry import Deadline
from sync.cloud.tagschema import Reader, SchemaReadError, read_schema
from sync.policy.loader import Policy
from sync.policy.tagcheck import TagSchema, check_policy, schema_from_seed, wanted_names

MAX_SCHEMA_BYTES = 10 * 1024 * 1024
LIVE_READ_SECONDS = 300.0  # the whole read; each call's timeouts are capped by what is left


class SchemaFileError(Exception):
    """A --tag-schema file that cannot be read; the message is one line for the user."""


def load_schema_file(path: str) -> TagSchema:
    """A schema file: the seed format's tagNamespaces (a seed file itself works)."""
    try:
        with open(Path(path), "rb") as fh:
            raw = fh.read(MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise SchemaFileError(f"cannot read tag schema {path}: {exc.strerror}") from None
    if len(raw) > MAX_SCHEMA_BYTES:
        raise SchemaFileError(f"tag schema {path} is larger than {MAX_SCHEMA_BYTES} bytes")
    try:
        return schema_from_seed(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaFileError(f"tag schema {path} is not JSON: {exc}") from None
    except ValueError as exc:
        raise SchemaFileError(f"tag schema {path}: {exc}") from None


def run(policy: Policy, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check the policy's defined tags; exit 1 with one line per problem, 0 with a table."""
    wanted = wanted_names(policy)
    if not wanted:
        print(
            f"{policy.origin}: OK, {len(policy.rules)} rule(s), mode {policy.mode};"
            " no rule writes a defined tag or copies a named namespace: nothing to check"
            " against the tenancy (0 Identity calls)",
            file=out,
        )
        return EXIT_OK
    calls = 0
    if getattr(args, "tag_schema", None):
        try:
            schema = load_schema_file(args.tag_schema)
        except SchemaFileError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_FAILED
        where = args.tag_schema
    else:
        try:
            schema, calls = _live(policy)
        except _Unreadable as exc:
            print(f"{policy.origin}: error: {exc}", file=err)
            return EXIT_FAILED
        where = "the tenancy"
    problems, rows, notes = check_policy(policy, schema)
    if problems:
        for line in problems:
            print(f"{policy.origin}: {line}", file=err)
        return EXIT_FAILED
    for warning in policy.warnings:
        print(f"{policy.origin}: warning: {warning}", file=err)
    for note in notes:
        print(f"{policy.origin}: note: {note}", file=err)
    table = [(r.namespace, r.key, r.validator, r.cost_tracking, r.rules) for r in rows]
    if table:
        print(render_table(("NAMESPACE", "KEY", "VALIDATOR", "COST-TRACKING", "RULES"), table), file=out)
    counted = f", {calls} Identity call(s)" if not getattr(args, "tag_schema", None) else ""
    print(
        f"{policy.origin}: OK, {len(rows)} defined tag(s) checked against {where}{counted}",
        file=out,
    )
    return EXIT_OK


class _Unreadable(Exception):
    """The schema could not be read: one line naming the call, status and opc-request-id."""


def _live(policy: Policy) -> tuple[TagSchema, int]:
    env = os.environ
    try:
        port = LeanPort(Clients(OciSettings.from_env(env)))
        reader = Reader.of_tenancy(port, Deadline.after(LIVE_READ_SECONDS))
        schema = read_schema(reader, wanted_names(policy))
    except SchemaReadError as exc:
        request = f" (opc-request-id {exc.opc_request_id})" if exc.opc_request_id else ""
        raise _Unreadable(f"cannot read the tag schema: {exc}{request}") from None
    except AuthError as exc:
        raise _Unreadable(str(exc)) from None
    except Exception as exc:  # the SDK's configuration errors: one line, never a traceback
        raise _Unreadable(f"OCI client setup failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    return schema, reader.calls


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--live",
        action="store_true",
        help="also check defined tags against the tenancy the configured credentials reach "
        "(default: the policy alone, no OCI call)",
    )
    p.add_argument(
        "--tag-schema",
        metavar="FILE",
        help="check defined tags against a schema file (the seed format's tagNamespaces) instead "
        "(default: none)",
    )
