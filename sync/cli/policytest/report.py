"""The test command's reports: a line per case with its differences, the summary, and JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sync.cli.policytest.cases import Case
from sync.cli.policytest.run import Result
from sync.printable import escape_controls


@dataclass(frozen=True)
class Outcome:
    case: Case
    result: Result
    differences: tuple[str, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.differences


def case_lines(outcome: Outcome) -> list[str]:
    """`PASS file: name`, or `FAIL file: name` and each difference, indented."""
    head = f"{'PASS' if outcome.passed else 'FAIL'}  {outcome.case.label}"
    lines = [head]
    for diff in outcome.differences:
        lines += ["  " + line for line in diff.split("\n")]
    if not outcome.passed:
        lines += [f"  warning: {w}" for w in outcome.result.warnings]
    return [escape_controls(line) for line in lines]


def summary(outcomes: Sequence[Outcome]) -> str:
    passed = sum(1 for o in outcomes if o.passed)
    return f"{passed} passed, {len(outcomes) - passed} failed"


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters: show them escaped, keep line breaks."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))


def junit(outcomes: Sequence[Outcome], policy: str) -> ET.ElementTree:
    """JUnit XML: a <testsuite> per test file, a <testcase> per case, <failure> with the differences."""
    root = ET.Element("testsuites", name=f"backup-tag-sync test {_clean(policy)}")
    files: dict[str, list[Outcome]] = {}
    for o in outcomes:
        files.setdefault(o.case.file, []).append(o)
    total_failed = 0
    for file, items in files.items():
        failed = sum(1 for o in items if not o.passed)
        total_failed += failed
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(file),
            tests=str(len(items)),
            failures=str(failed),
            errors="0",
            skipped="0",
            time=f"{sum(o.seconds for o in items):.6f}",
        )
        for o in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(Path(file).stem),
                name=_clean(o.case.name),
                file=_clean(file),
                time=f"{o.seconds:.6f}",
            )
            if not o.passed:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{len(o.differences)} expectation(s) not met",
                    type="AssertionError",
                )
                failure.text = _clean("\n".join(case_lines(o)[1:]))
    root.set("tests", str(len(outcomes)))
    root.set("failures", str(total_failed))
    root.set("errors", "0")
    root.set("time", f"{sum(o.seconds for o in outcomes):.6f}")
    return ET.ElementTree(root)
