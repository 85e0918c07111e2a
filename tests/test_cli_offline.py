"""The command line's offline commands: lint and plan on files."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_lint_ok() -> None:
    code, out, _ = run("lint", str(ROOT / "tag_policy.yaml"))
    assert code == 0 and "OK, 4 rule(s)" in out


def test_lint_errors_one_per_line_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nrules:\n  - name: a\n    display_name: '${backup.nope}'\n"
        "  - name: b\n    freeform_tags: {k: '${backup.type|exec}'}\n"
    )
    code, out, err = run("lint", str(bad))
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}: rule 'a' (rules[0]): display_name: unknown name")
    assert "rule 'b' (rules[1]): freeform_tags.k: unknown filter 'exec'" in lines[1]


def test_lint_missing_file_is_a_usage_error() -> None:
    code, _, err = run("lint", "/nope.yaml")
    assert (code, err) == (2, "error: cannot read policy file /nope.yaml: no such file\n")


def test_plan_table_from_samples() -> None:
    code, out, err = run(
        "plan",
        "--policy", str(ROOT / "tag_policy.yaml"),
        "--backup-json", str(ROOT / "samples/backup.json"),
        "--volume-group-json", str(ROOT / "samples/volume_group.json"),
        "--event", str(ROOT / "tests/data/events/createvolumegroupbackup-end.json"),
    )  # fmt: skip
    assert code == 0, err
    assert "Matched rules: rename-scheduled, provenance" in out
    row = next(line for line in out.splitlines() if line.startswith("displayName"))
    assert row.split()[-1] == "prod-db-vg-incremental-20261127-0400"
    assert "one update would be sent" in out


def test_plan_of_compliant_backup_says_no_change(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules: [{name: a, freeform_tags: {ticket: OPS-1234}}]")
    code, out, _ = run("plan", "--policy", str(policy), "--backup-json", str(ROOT / "samples/backup.json"))
    assert code == 0 and "No change: already compliant" in out


def test_plan_bad_json_is_one_line_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_bytes(b"\xff{")
    code, _, err = run("plan", "--policy", str(ROOT / "tag_policy.yaml"), "--backup-json", str(bad))
    assert code == 2 and err.strip() == f"error: backup {bad} is not UTF-8 text"


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "lint", "tag_policy.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "OK" in proc.stdout


def test_lint_prints_each_error_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules: [{name: a, display_name: '${backup.nope}'}]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "lint", str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert proc.stderr.count("unknown name 'backup.nope'") == 1


def test_plan_missing_event_file_is_one_line() -> None:
    code, _, err = run(
        "plan", "--policy", str(ROOT / "tag_policy.yaml"),
        "--backup-json", str(ROOT / "samples/backup.json"), "--event", "/nope/event.json",
    )  # fmt: skip
    assert code == 2 and err.strip() == "error: cannot read event /nope/event.json: No such file or directory"


# -- plan --backup-json: only a backup of a known kind ------------------------------------------

SAMPLE_BACKUP = json.loads((ROOT / "samples/backup.json").read_text())


def test_plan_refuses_an_event_as_the_backup() -> None:
    code, out, err = run("plan", "--backup-json", str(ROOT / "samples/event.json"))
    assert code == 2 and out == ""
    assert err.startswith(
        f"error: {ROOT / 'samples/event.json'} is an OCI event, not a backup: give it as --event"
    )


@pytest.mark.parametrize("sample", ["volume_group.json", "manual.json"])
def test_plan_refuses_what_is_not_a_backup(sample: str) -> None:
    code, out, err = run("plan", "--backup-json", str(ROOT / "samples" / sample))
    assert code == 2 and out == "" and " is not a backup (" in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["volumegroupbackup", "volumebackup", "bootvolumebackup"])
def test_plan_accepts_every_backup_kind(kind: str, tmp_path: Path) -> None:
    backup = {**SAMPLE_BACKUP, "id": f"ocid1.{kind}.oc1.iad.aaaaexample"}
    path = tmp_path / "backup.json"
    path.write_text(json.dumps({"data": backup, "etag": "x"}))  # the oci CLI's wrapper
    code, out, err = run("plan", "--backup-json", str(path))
    assert code == 0, err
    # The shipped policy is per kind: its volume and boot volume backups have rules of their own.
    rules = {
        "volumegroupbackup": "rename-scheduled, provenance",
        "volumebackup": "volume-backups",
        "bootvolumebackup": "boot-volume-backups",
    }[kind]
    assert out.startswith(f"Backup ocid1.{kind}.oc1.iad.aaaaexample\nMatched rules: {rules}")


def test_plan_refuses_a_volume_group_file_that_is_a_backup() -> None:
    backup = str(ROOT / "samples/backup.json")
    code, _, err = run("plan", "--backup-json", backup, "--volume-group-json", backup)
    assert (
        code == 2
        and err == f"error: {backup} is not a volume group (its id is not an ocid1.volumegroup OCID)\n"
    )


def test_plan_that_would_be_rejected_exits_1(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nlimits: {freeform_tags_max: 1}\nrules: [{name: a, freeform_tags: {b: c}}]\n"
    )
    code, out, _ = run("plan", "--policy", str(policy), "--backup-json", str(ROOT / "samples/backup.json"))
    assert code == 1 and "Rejected: " in out and "Nothing would be sent." in out
