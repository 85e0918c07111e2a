"""`backup-tag-sync test POLICY TESTS...`: options and run (exit 0 all pass, 1 a failure, 2 a bad file)."""

from __future__ import annotations

import argparse
import time
from typing import Any, TextIO

from sync.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from sync.cli.helptext import PROG, add_command


def cmd_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sync.cli.common import load_policy_arg
    from sync.cli.policytest.cases import Case, CaseFileError, find_files, load_file
    from sync.cli.policytest.report import Outcome, case_lines, junit, summary
    from sync.cli.policytest.run import check, run_case
    from sync.policy.explain import explain, render

    policy = load_policy_arg(args.policy)  # PolicyError: main prints the loader's lines, exit 1
    schema = None
    if args.tag_schema:
        from sync.cli.lint_live import SchemaFileError, load_schema_file

        try:
            schema = load_schema_file(args.tag_schema)
        except SchemaFileError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_USAGE
    cases: list[Case] = []
    try:
        for path in find_files(args.tests):
            cases += load_file(path)
    except CaseFileError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    if not cases:
        print(f"error: no test files (.yaml, .yml, .json) in {', '.join(args.tests)}", file=err)
        return EXIT_USAGE
    outcomes: list[Outcome] = []
    for case in cases:
        started = time.perf_counter()
        result = run_case(policy, case, schema)
        differences = tuple(check(case, result))
        outcome = Outcome(case, result, differences, time.perf_counter() - started)
        outcomes.append(outcome)
        print("\n".join(case_lines(outcome)), file=out)
        if args.verbose and result.context:
            print(
                "\n".join(render(explain(policy, result.context, result.matched_rules, result.plan), "  ")),
                file=out,
            )
        elif args.verbose:
            print(f"  {result.status}: {result.error}", file=out)
    print(summary(outcomes), file=out)
    if args.junit:
        try:
            junit(outcomes, policy.origin).write(args.junit, encoding="utf-8", xml_declaration=True)
        except OSError as exc:
            print(f"error: cannot write {args.junit}: {exc.strerror}", file=err)
            return EXIT_USAGE
    return EXIT_OK if all(o.passed for o in outcomes) else EXIT_FAILED


def add_test_command(sub: Any) -> None:
    p = add_command(
        sub,
        "test",
        "run a policy's test cases (a backup as OCI returns it, and what must hold afterwards); no OCI call",
        f"{PROG} test tag_policy.yaml tests/policy/\n"
        f"{PROG} test tag_policy.yaml cases.yaml --junit report.xml -v",
    )
    p.add_argument(
        "policy",
        metavar="POLICY",
        help="the policy (YAML or JSON): a path, file:///abs, oci://bucket@namespace/object or s3://bucket/key",
    )
    p.add_argument(
        "tests",
        nargs="+",
        metavar="TESTS",
        help="test files (YAML or JSON), or directories of them (their .yaml, .yml and .json files)",
    )
    p.add_argument(
        "--junit", metavar="FILE", help="also write the results as JUnit XML to FILE (default: none)"
    )
    p.add_argument(
        "--tag-schema",
        metavar="FILE",
        help="check defined tag values against this schema file, as the function checks them against the "
        "tenancy's (the seed format's tagNamespaces, as `lint --tag-schema` takes) (default: no check)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="after each case, each rule: matched or not and why, and each template's names and values "
        "(default: off)",
    )
    p.set_defaults(func=cmd_test)
