"""One exit-code table (README "Exit codes", `--help`), held by every sub-command; lint's inputs."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli.main import EXIT_CODES, main
from sync.sources.bundled import DEFAULT_POLICY

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
BAD_POLICY = "version: 1\nrules: [{name: a, display_name: '${backup.nope}'}]\n"


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    sys_stdin = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
        code = main(list(argv), out, err)
    finally:
        sys.stdin = sys_stdin
    return code, out.getvalue(), err.getvalue()


def test_the_readme_table_is_the_one_help_prints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", section, re.M)]
    printed = [int(code) for code in re.findall(r"^  (\d+) ", EXIT_CODES, re.M)]
    assert documented == printed == [0, 1, 2, 3, 130]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_POLICY)
    rejecting = tmp_path / "rejecting.yaml"
    rejecting.write_text(
        "version: 1\nlimits: {freeform_tags_max: 1}\nrules: [{name: a, freeform_tags: {b: c}}]\n"
    )
    return {"bad": str(bad), "rejecting": str(rejecting), "missing": str(tmp_path / "missing.yaml")}


CASES = [
    # (argv, exit code): {bad}, {rejecting}, {missing} are filled in from the files fixture.
    ((), 2),  # no command: the help
    (("--version",), 0),
    (("frobnicate",), 2),
    (("lint",), 0),
    (("lint", "{bad}"), 1),
    (("lint", "{missing}"), 2),
    (("lint", "--no-such-option"), 2),
    (("plan", "--backup-json", f"{SAMPLES}/backup.json"), 0),
    (("plan", "--policy", "{rejecting}", "--backup-json", f"{SAMPLES}/backup.json"), 1),
    (("plan", "--policy", "{bad}", "--backup-json", f"{SAMPLES}/backup.json"), 1),
    (("plan", "--policy", "{missing}", "--backup-json", f"{SAMPLES}/backup.json"), 2),
    (("plan", "--backup-json", "{missing}"), 2),
    (("plan", "--backup-json", f"{SAMPLES}/event.json"), 2),
    (("plan",), 2),
    (("apply",), 2),
    (("apply", "--backup", "not-an-ocid"), 2),
    (("sweep", "--compartment", "not-an-ocid"), 2),
    (("sweep", "--compartment", "ocid1.compartment.oc1..aaaa", "--timeout", "-1"), 2),
    (("demo", "--bogus"), 2),
]


@pytest.mark.parametrize(("argv", "code"), CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_every_command_keeps_the_table(argv: tuple[str, ...], code: int, files: dict[str, str]) -> None:
    got, out, err = run(*(a.format(**files) for a in argv))
    assert got == code, out + err
    assert "Traceback" not in err


def test_no_arguments_prints_the_whole_help() -> None:
    code, out, _ = run()
    assert code == 2 and out.startswith("usage: backup-tag-sync ")
    assert "\nExit codes (every command):\n" in out and "    sweep " in out


def test_version_flag_short_and_long() -> None:
    for flag in ("-V", "--version"):
        proc = subprocess.run([sys.executable, "-m", "sync", flag], cwd=ROOT, capture_output=True, text=True)
        assert (proc.returncode, proc.stdout) == (0, "backup-tag-sync 0.1.0\n")


def test_lint_without_a_file_lints_the_bundled_policy_and_says_where_it_is() -> None:
    code, out, _ = run("lint")
    assert (code, out) == (0, f"{DEFAULT_POLICY}: OK, 4 rule(s), mode all (the bundled default policy)\n")


def test_lint_reads_standard_input() -> None:
    code, out, _ = run("lint", "-", stdin=(ROOT / "tag_policy.yaml").read_text())
    assert (code, out) == (0, "<stdin>: OK, 4 rule(s), mode all\n")
    code, out, err = run("lint", "-", stdin=BAD_POLICY)
    assert (
        code == 1 and out == "" and err.startswith("<stdin>: rule 'a' (rules[0]): display_name: unknown name")
    )


def test_lint_several_files_reports_each_and_exits_with_the_worst(files: dict[str, str]) -> None:
    good = str(ROOT / "tag_policy.yaml")
    code, out, err = run("lint", good, files["bad"])
    assert code == 1 and out == f"{good}: OK, 4 rule(s), mode all\n"
    assert err.startswith(f"{files['bad']}: rule 'a'")
    code, out, err = run("lint", files["missing"], good, files["bad"])
    assert code == 2 and out == f"{good}: OK, 4 rule(s), mode all\n"
    assert err.splitlines()[0] == f"error: cannot read policy file {files['missing']}: no such file"
    assert err.splitlines()[1].startswith(f"{files['bad']}: rule 'a'")
