"""The lint command: one or more policies (a path, a URI, `-` for stdin, none: the bundled default)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from sync.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, load_policy_arg
from sync.cli.helptext import add_command, prog
from sync.cli.lint_live import add_options as lint_live_options
from sync.policy.loader import MAX_POLICY_BYTES, Policy, PolicyError, load_policy
from sync.sources.bundled import DEFAULT_POLICY

STDIN = "-"


def _load(source: str, stdin: TextIO) -> Policy:
    if source != STDIN:
        return load_policy_arg(source)
    raw = stdin.buffer.read(MAX_POLICY_BYTES + 1) if hasattr(stdin, "buffer") else stdin.read().encode()
    return load_policy(raw, "<stdin>")


def cmd_lint(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO | None = None) -> int:
    """Each policy in turn, every error of each; the exit code is the worst (2 unreadable, 1 invalid)."""
    sources = args.policy or [DEFAULT_POLICY]
    if sources.count(STDIN) > 1:
        raise CliError("`-` (standard input) can be given once")
    worst = EXIT_OK
    for source in sources:
        try:
            policy = _load(source, stdin or sys.stdin)
        except CliError as exc:
            print(f"error: {exc}", file=err)
            worst = EXIT_USAGE
            continue
        except PolicyError as exc:
            for line in exc.errors:
                print(f"{exc.origin}: {line}", file=err)
            worst = max(worst, EXIT_FAILED)
            continue
        if getattr(args, "live", False) or getattr(args, "tag_schema", None):
            from sync.cli import lint_live

            worst = max(worst, lint_live.run(policy, args, out, err))
            continue
        for warning in policy.warnings:
            print(f"{policy.origin}: warning: {warning}", file=err)
        default = " (the bundled default policy)" if not args.policy else ""
        print(f"{policy.origin}: OK, {len(policy.rules)} rule(s), mode {policy.mode}{default}", file=out)
    return worst


def add_lint_command(sub: Any) -> None:
    p = add_command(
        sub,
        "lint",
        "check policies; exit 1 with each error on its own line",
        f"{prog()} lint                        # the bundled default policy (prints where it is)\n"
        f"{prog()} lint my_policy.yaml other.json\n"
        f"cat my_policy.yaml | {prog()} lint -\n"
        f"{prog()} lint my_policy.yaml --live  # also against the tenancy's tag namespaces",
    )
    p.add_argument(
        "policy",
        metavar="POLICY",
        nargs="*",
        help="policies (YAML or JSON): a path, file:///abs, oci://bucket@namespace/object, "
        "s3://bucket/key, or - for standard input (default: the bundled tag_policy.yaml)",
    )
    lint_live_options(p)
    p.set_defaults(func=cmd_lint)
