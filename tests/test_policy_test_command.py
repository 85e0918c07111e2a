"""`backup-tag-sync test` and `plan --explain`: the shipped cases pass, failures read well, bad files exit 2."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sync.cli.main import main
from sync.cli.policytest.cases import load_file
from sync.cli.policytest.run import run_case
from sync.emulator import ApiKey, EmulatorServer
from sync.policy.loader import load_policy_file
from tests.installed import installed_venv
from tests.test_readme import Block, Shell, parse_transcript

__all__ = ["installed_venv"]  # the fixture

ROOT = Path(__file__).resolve().parents[1]
POLICY = str(ROOT / "tag_policy.yaml")
CASES = ROOT / "tests" / "policy"
README = ROOT / "README.md"
SAMPLE_BACKUP = json.loads((ROOT / "samples" / "backup.json").read_text())["id"]

GROUP_BACKUP = {
    "id": "ocid1.volumegroupbackup.oc1.iad.aaaatest",
    "displayName": "Auto-backup for app-vg via policy: gold on 2026-11-27 04:00:00",
    "sourceType": "SCHEDULED",
    "type": "FULL",
    "lifecycleState": "AVAILABLE",
    "timeCreated": "2026-11-27T04:00:00.000Z",
}
VOLUME_GROUP = {"displayName": "app-vg", "freeformTags": {"env": "prod"}}


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def write_cases(path: Path, cases: list[dict[str, object]], **top: object) -> Path:
    path.write_text(json.dumps({**top, "cases": cases}))
    return path


def case(name: str, expect: dict[str, object], **fields: object) -> dict[str, object]:
    return {"name": name, "backup": GROUP_BACKUP, "source": VOLUME_GROUP, "expect": expect, **fields}


# -- the shipped cases ---------------------------------------------------------------------------


def test_the_shipped_cases_pass_on_the_shipped_policy() -> None:
    code, out, err = run_cli("test", POLICY, str(CASES))
    count = sum(len(load_file(p)) for p in sorted(CASES.glob("*.yaml")))
    assert count >= 10
    assert (code, err) == (0, ""), out
    lines = out.splitlines()
    assert len([line for line in lines if line.startswith("PASS  ")]) == count
    assert lines[-1] == f"{count} passed, 0 failed"


def test_the_shipped_cases_catch_a_policy_that_overwrites_hand_set_tags(tmp_path: Path) -> None:
    changed = tmp_path / "policy.yaml"
    changed.write_text((ROOT / "tag_policy.yaml").read_text().replace("overwrite: false", "overwrite: true"))
    code, out, _ = run_cli("test", str(changed), str(CASES))
    assert code == 1
    assert "FAIL  " + str(CASES / "scheduled.yaml") + ": tags set by hand are never replaced" in out
    assert re.search(r"^\d+ passed, [1-9]\d* failed$", out.splitlines()[-1])


# -- pass, fail, and the diff --------------------------------------------------------------------


def test_a_failing_case_shows_each_difference_as_expected_and_actual(tmp_path: Path) -> None:
    cases = write_cases(
        tmp_path / "cases.json",
        [
            case("renamed", {"status": "updated", "display_name": "app-vg-full-20261127-0400"}),
            case(
                "wrong",
                {
                    "status": "unchanged",
                    "display_name": "app-vg-incremental-20261127-0400",
                    "freeform_tags": {"env": "dev", "owner": "me"},
                    "absent": {"freeform_tags": ["backup-kind"]},
                    "matched_rules": ["provenance"],
                },
            ),
        ],
    )
    code, out, err = run_cli("test", POLICY, str(cases))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"PASS  {cases}: renamed",
        f"FAIL  {cases}: wrong",
        "  status",
        "    expected: unchanged",
        "    actual:   updated",
        "  display_name",
        "    expected: 'app-vg-incremental-20261127-0400'",
        "    actual:   'app-vg-full-20261127-0400'",
        "  freeform_tags.env",
        "    expected: 'dev'",
        "    actual:   'prod'",
        "  freeform_tags.owner",
        "    expected: 'me'",
        "    actual:   (absent)",
        "  freeform_tags.backup-kind",
        "    expected: (absent)",
        "    actual:   'scheduled'",
        "  matched_rules",
        "    expected: [provenance]",
        "    actual:   [rename-scheduled, provenance]",
        "1 passed, 1 failed",
    ]


def test_defined_tags_compare_names_as_oci_does_and_values_exactly(tmp_path: Path) -> None:
    source = {**VOLUME_GROUP, "definedTags": {"Operations": {"CostCenter": "cc-1"}}}
    cases = write_cases(
        tmp_path / "cases.json",
        [
            case("any case", {"defined_tags": {"operations": {"COSTCENTER": "cc-1"}}}, source=source),
            case("value", {"defined_tags": {"Operations": {"CostCenter": "CC-1"}}}, source=source),
            case("absent", {"absent": {"defined_tags": {"OPERATIONS": ["costcenter"]}}}, source=source),
        ],
    )
    code, out, _ = run_cli("test", POLICY, str(cases))
    assert code == 1
    assert f"PASS  {cases}: any case" in out
    assert "  defined_tags.Operations.CostCenter\n    expected: 'CC-1'\n    actual:   'cc-1'" in out
    assert "  defined_tags.OPERATIONS.costcenter\n    expected: (absent)\n    actual:   'cc-1'" in out


def test_errors_and_warnings_are_matched_as_parts_of_the_text(tmp_path: Path) -> None:
    cases = write_cases(
        tmp_path / "cases.yaml",
        [
            case("warned", {"warnings": ["${volume_group.display_name|slug} has no value"]}, source=None),
            case("not warned", {"warnings": ["truncated"]}),
            case("no error", {"error": "limit"}),
        ],
    )
    code, out, _ = run_cli("test", POLICY, str(cases))
    assert code == 1
    assert f"PASS  {cases}: warned" in out
    assert "  warnings\n    expected: one containing 'truncated'\n    actual:   (no warnings)" in out
    assert "  error\n    expected: containing 'limit'\n    actual:   (absent)" in out


def test_statuses_follow_the_functions_order_of_checks(tmp_path: Path) -> None:
    update_event = {
        "eventType": "com.oraclecloud.blockvolumes.updatevolumegroupbackup",
        "cloudEventsVersion": "0.1",
        "eventID": "x",
        "data": {"resourceId": GROUP_BACKUP["id"]},
    }
    bad_event = {"eventType": "com.oraclecloud.blockvolumes.createvolumegroupbackup.end", "data": {}}
    many = {f"t{i}": "v" for i in range(64)}
    cases = write_cases(
        tmp_path / "cases.json",
        [
            case("ignored event", {"status": "ignored", "error": "is not handled"}, event=update_event),
            case("rejected event", {"status": "rejected", "error": "resourceId"}, event=bad_event),
            case("faulty", {"status": "ignored"}, backup={**GROUP_BACKUP, "lifecycleState": "FAULTY"}),
            case("limit", {"status": "rejected"}, backup={**GROUP_BACKUP, "freeformTags": many}),
            case("updated", {"status": "updated"}),
        ],
    )
    code, out, _ = run_cli("test", POLICY, str(cases))
    assert code == 0, out


# -- invalid test files: exit 2, naming the file, the case and the field -------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expect": {"status": "done"}}, "case 'c' (cases[0]): expect.status: must be one of updated,"),
        ({"expect": {"stats": "updated"}}, "case 'c' (cases[0]): expect.stats: unknown key; known: status,"),
        ({"expect": {}}, "case 'c' (cases[0]): expect: required"),
        ({"expect": {"freeform_tags": {"n": 1}}}, "expect.freeform_tags.n: must be text (quote it: '1')"),
        (
            {"backup": {**GROUP_BACKUP, "id": "b-1"}},
            "case 'c' (cases[0]): backup.id: 'b-1' is not a backup OCID",
        ),
        ({"backup": {**GROUP_BACKUP, "id": "ocid1.volume.oc1.iad.aaaa"}}, "backup.id: 'ocid1.volume."),
        (
            {"backup": {**GROUP_BACKUP, "freeformTags": ["a"]}},
            "case 'c' (cases[0]): backup.freeformTags: must",
        ),
        ({"now": "tomorrow"}, "case 'c' (cases[0]): now: must be an RFC 3339 time"),
        ({"backup": None}, "case 'c' (cases[0]): backup: required"),
        ({"name": ""}, "cases[0]: name: required"),
        ({"colour": "red"}, "case 'c' (cases[0]): colour: unknown key"),
    ],
)
def test_an_invalid_case_exits_2_naming_the_file_case_and_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    good = tmp_path / "good.json"
    write_cases(good, [case("fine", {"status": "updated"})])
    bad = tmp_path / "bad.json"
    write_cases(bad, [{**case("c", {"status": "updated"}), **change}])
    code, out, err = run_cli("test", POLICY, str(good), str(bad))
    assert code == 2
    assert out == ""  # nothing runs when a file is invalid
    assert err.startswith(f"error: {bad}: ") and message in err, err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: [", "invalid YAML at line"),
        ("cases: []\n", "cases: must be a non-empty list of cases"),
        ("- name: x\n", "(top level): must be a mapping with `cases:`"),
        ("cases:\n  - &a {name: x}\n", "anchors (&) and aliases (*) are not allowed in a test file"),
        ('{"cases": [}', "invalid JSON at line 1 column 12"),
        (
            "cases:\n  - {name: x, backup: {}, expect: {status: updated}}\n  - {name: x}\n",
            "backup.id: required",
        ),
    ],
)
def test_an_unreadable_file_exits_2_with_where(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    code, _, err = run_cli("test", POLICY, str(bad))
    assert code == 2 and message in err and str(bad) in err, err


def test_two_cases_of_one_name_and_a_missing_path_exit_2(tmp_path: Path) -> None:
    dup = write_cases(tmp_path / "dup.json", [case("a", {"status": "updated"})] * 2)
    code, _, err = run_cli("test", POLICY, str(dup))
    assert code == 2 and "case 'a' (cases[1]): name: already used by cases[0]" in err
    code, _, err = run_cli("test", POLICY, str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml: no such file or directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("test", POLICY, str(tmp_path / "empty"))
    assert code == 2 and "no test files" in err


def test_a_policy_that_fails_to_load_exits_1_with_the_loaders_message(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text('version: 1\nrules:\n  - {name: a, display_name: "${backup.nope}"}\n')
    cases = write_cases(tmp_path / "cases.json", [case("c", {"status": "updated"})])
    code, out, err = run_cli("test", str(policy), str(cases))
    lint_code, _, lint_err = run_cli("lint", str(policy))
    assert (code, out) == (1, "")
    assert err == lint_err and lint_code == 1
    assert f"{policy}: rule 'a' (rules[0]): display_name: unknown name 'backup.nope'" in err


# -- inputs as OCI gives them --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ocid", "kind"),
    [
        ("ocid1.volumegroupbackup.oc1.iad.aaaa", "volume_group_backup"),
        ("ocid1.volumebackup.oc1.iad.aaaa", "volume_backup"),
        ("ocid1.bootvolumebackup.oc1.iad.aaaa", "boot_volume_backup"),
    ],
)
def test_the_kind_comes_from_the_ocid_and_reaches_the_planner(tmp_path: Path, ocid: str, kind: str) -> None:
    backup = {"data": {**GROUP_BACKUP, "id": ocid}, "etag": "e1"}  # as `oci bv ... get` prints it
    path = write_cases(
        tmp_path / "c.json", [{"name": "k", "backup": backup, "expect": {"status": "updated"}}]
    )
    (loaded,) = load_file(path)
    assert loaded.kind == kind
    assert loaded.backup["display_name"] == GROUP_BACKUP["displayName"]  # unwrapped, in snake_case
    result = run_case(load_policy_file(POLICY), loaded, None)
    assert result.context["backup"]["kind"] == kind  # what the planner was given
    # The shipped policy has one rule per kind: the other kinds' rules do not match.
    rules = {"volume_backup": "volume-backups", "boot_volume_backup": "boot-volume-backups"}
    other_kinds = {r for k, r in rules.items() if k != kind} | ({"provenance"} if kind in rules else set())
    assert result.status == "updated" and rules.get(kind, "provenance") in result.matched_rules
    assert not other_kinds & set(result.matched_rules)


def test_a_yaml_file_with_defaults_the_cli_wrapper_and_now(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "defaults:\n"
        "  now: '2027-01-02T03:04:05Z'\n"
        f"  backup: {{data: {json.dumps({**GROUP_BACKUP, 'timeCreated': None})}, etag: abc}}\n"
        f"  source: {json.dumps(VOLUME_GROUP)}\n"
        "cases:\n"
        "  - name: now fills timeCreated\n"
        "    expect: {display_name: app-vg-full-20270102-0304}\n"
        "  - name: the case's own time wins\n"
        "    backup: {timeCreated: '2026-05-06T07:08:00Z', type: INCREMENTAL}\n"
        "    expect: {display_name: app-vg-incremental-20260506-0708}\n"
    )
    code, out, _ = run_cli("test", POLICY, str(cases))
    assert code == 0, out


def test_a_volume_backups_source_reaches_the_planner_as_source(tmp_path: Path) -> None:
    volume_backup = {**GROUP_BACKUP, "id": "ocid1.volumebackup.oc1.iad.aaaa"}
    volume = {"id": "ocid1.volume.oc1.iad.aaaa", "displayName": "app-data"}
    expect = {"status": "updated", "freeform_tags": {"source-volume": "app-data"}}
    cases = write_cases(tmp_path / "c.json", [case("v", expect, backup=volume_backup, source=volume)])
    code, out, err = run_cli("test", POLICY, str(cases))
    assert code == 0, out + err


def test_a_backup_not_available_yet_is_deferred_as_the_function_defers_it(tmp_path: Path) -> None:
    creating = {**GROUP_BACKUP, "lifecycleState": "CREATING"}
    cases = write_cases(tmp_path / "c.json", [case("c", {"status": "deferred"}, backup=creating)])
    code, out, err = run_cli("test", POLICY, str(cases))
    assert code == 0, out + err


def test_a_tag_schema_file_checks_written_values_as_the_function_does(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        '  - {name: env, defined_tags: {operations: {environment: "${volume_group.freeform_tags.env}"}}}\n'
    )
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "tagNamespaces": {
                    "Operations": {
                        "tags": {"Environment": {"validator": {"validatorType": "ENUM", "values": ["prod"]}}}
                    }
                }
            }
        )
    )
    cases = write_cases(
        tmp_path / "c.json",
        [
            case("allowed", {"status": "updated", "defined_tags": {"Operations": {"Environment": "prod"}}}),
            case(
                "not allowed",
                {"status": "rejected", "error": "value 'dev' is not allowed"},
                source={**VOLUME_GROUP, "freeformTags": {"env": "dev"}},
            ),
        ],
    )
    code, out, _ = run_cli("test", str(policy), str(cases), "--tag-schema", str(schema))
    assert code == 0, out
    code, out, _ = run_cli("test", str(policy), str(cases))  # without the schema, any value goes
    assert code == 1 and "  status\n    expected: rejected\n    actual:   updated" in out
    code, _, err = run_cli("test", str(policy), str(cases), "--tag-schema", str(tmp_path / "none.json"))
    assert code == 2 and "cannot read tag schema" in err


# -- JUnit XML -----------------------------------------------------------------------------------


def test_junit_xml_parses_back_with_a_suite_per_file_and_a_failure_per_failed_case(tmp_path: Path) -> None:
    one = write_cases(
        tmp_path / "one.json", [case("ok", {"status": "updated"}), case("bad", {"status": "unchanged"})]
    )
    two = write_cases(tmp_path / "two.json", [case("ok too", {"freeform_tags": {"env": "prod"}})])
    report = tmp_path / "report.xml"
    code, _, _ = run_cli("test", POLICY, str(one), str(two), "--junit", str(report))
    assert code == 1
    root = ET.parse(report).getroot()  # noqa: S314 - the report this test just wrote
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        (str(one), "2", "1"),
        (str(two), "1", "0"),
    ]
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"ok", "bad", "ok too"}
    assert all(float(c.get("time") or "x") >= 0 for c in cases.values())
    assert cases["ok"].find("failure") is None
    failure = cases["bad"].find("failure")
    assert failure is not None and failure.get("message") == "1 expectation(s) not met"
    assert failure.text == "  status\n    expected: unchanged\n    actual:   updated"


def test_junit_xml_stays_well_formed_with_control_characters_in_values(tmp_path: Path) -> None:
    evil = {**GROUP_BACKUP, "sourceType": "MANUAL", "displayName": "a\x1b[31mb\x00"}
    cases = write_cases(tmp_path / "c.json", [case("ctl \x07", {"display_name": "x"}, backup=evil)])
    report = tmp_path / "r.xml"
    code, out, _ = run_cli("test", POLICY, str(cases), "--junit", str(report))
    assert code == 1 and "\x1b" not in out
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")  # noqa: S314 - our own
    assert failure is not None and "'a\\x1b[31mb\\x00'" in (failure.text or "")


# -- why: test -v and plan --explain -------------------------------------------------------------


def test_verbose_shows_each_condition_with_its_value_and_each_templates_names(tmp_path: Path) -> None:
    manual = {**GROUP_BACKUP, "sourceType": "MANUAL"}
    cases = write_cases(tmp_path / "c.json", [case("m", {"status": "updated"}, backup=manual, source=None)])
    code, out, _ = run_cli("test", POLICY, str(cases), "-v")
    assert code == 0
    assert out.splitlines()[1:11] == [
        "  rule 'rename-scheduled': not matched",
        "    match.kind: saw 'volume_group_backup': holds",
        "    match.source_type: saw 'MANUAL': does not hold",
        "  rule 'provenance': matched",
        "    match.kind: saw 'volume_group_backup': holds",
        "    copies tags: no volume_group was given",
        "    freeform_tags.backup-kind: 'manual'",
        "      backup.source_type = 'MANUAL'",
        "    freeform_tags.backup-type: 'full'",
        "      backup.type = 'FULL'",
    ]
    assert "    freeform_tags.source-volume-group: skipped, ${volume_group.display_name} has no value" in out
    assert "      volume_group.display_name = (no value)" in out


def test_plan_explain_says_why_a_rule_did_not_apply(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nmode: first\nrules:\n"
        "  - {name: prod, match: {volume_group: {freeform_tags: {env: prod}}}, freeform_tags: {t: p}}\n"
        "  - {name: any, freeform_tags: {t: a}}\n"
        "  - {name: late, overwrite: false, freeform_tags: {t: l}}\n"
    )
    args = ["plan", "--policy", str(policy), "--backup-json", str(ROOT / "samples" / "backup.json")]
    code, out, _ = run_cli(*args, "--explain")
    assert code == 0
    why = out[out.index("Why:") :].splitlines()
    assert why == [
        "Why:",
        "  rule 'prod': not matched",
        "    match.volume_group.freeform_tags.env: no volume_group was given: does not hold",
        "  rule 'any': matched (no conditions)",
        "    freeform_tags.t: 'a'",
        "  rule 'late': not applied (no conditions)",
        "    mode first: rule 'any' applied before it",
    ]
    code, out, _ = run_cli(
        *args, "--volume-group-json", str(ROOT / "samples" / "volume_group.json"), "--explain"
    )
    assert "    match.volume_group.freeform_tags.env: saw 'prod': holds" in out
    code, plain, _ = run_cli(*args)
    assert "Why:" not in plain


def test_explain_says_when_overwrite_false_kept_a_value(tmp_path: Path) -> None:
    args = ["plan", "--policy", POLICY, "--explain"]
    backup = tmp_path / "b.json"
    backup.write_text(json.dumps({**GROUP_BACKUP, "freeformTags": {"backup-type": "weekly"}}))
    code, out, _ = run_cli(*args, "--backup-json", str(backup))
    assert code == 0
    assert "    freeform_tags.backup-type: 'full'\n      result: 'weekly' (overwrite: false kept" in out


# -- the README's example is the shipped file and its real output ---------------------------------


def readme_block(marker: str, fence: str) -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(marker)
    assert lines[start + 1] == fence, f"README: {marker} is not followed by {fence}"
    end = lines.index("```", start + 2)
    return lines[start + 2 : end]


def test_the_readme_shows_the_shipped_test_file() -> None:
    shown_file = readme_block("<!-- the shipped tests/policy/scheduled.yaml -->", "```yaml")
    assert shown_file == (CASES / "scheduled.yaml").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", ["test", "plan --explain"])
def test_the_readmes_transcripts_run_as_written(tmp_path: Path, installed_venv: Path, name: str) -> None:
    """Run as tests/test_readme.py runs its blocks: the installed command, in the checkout."""
    marker = f"<!-- not run: tests/test_policy_test_command.py runs it as written ({name}) -->"
    lines = readme_block(marker, "```sh")
    Shell(tmp_path, installed_venv).run(Block(name, ["in checkout"], parse_transcript(lines), 0))


def test_the_readme_shows_a_failing_case_as_the_command_prints_it(tmp_path: Path) -> None:
    shown = readme_block(
        "<!-- the failing variant: display_name expected prod-db-vg-full-20261127-0400 -->", "```text"
    )
    changed = tmp_path / "scheduled.yaml"
    text = (CASES / "scheduled.yaml").read_text(encoding="utf-8")
    changed.write_text(
        text.replace("display_name: prod-db-vg-incremental-", "display_name: prod-db-vg-full-")
    )
    code, out, _ = run_cli("test", POLICY, str(changed))
    assert code == 1
    printed = out.replace(str(changed), "tests/policy/scheduled.yaml").splitlines()
    assert printed[: len(shown)] == shown


def test_plan_explain_on_a_live_backup_read_from_the_emulator(
    emulator: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in emulator.client_env(api_key).items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli("plan", "--policy", POLICY, "--backup", SAMPLE_BACKUP, "--explain")
    assert code == 0, err
    why = out[out.index("Why:") :]
    assert (
        "  rule 'rename-scheduled': matched\n"
        "    match.kind: saw 'volume_group_backup': holds\n"
        "    match.source_type: saw 'SCHEDULED': holds\n"
    ) in why
    assert "      volume_group.display_name = 'prod-db-vg'\n" in why  # read live, as the engine reads it


def test_now_is_the_events_time_when_the_event_has_none(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('version: 1\nrules:\n  - {name: t, freeform_tags: {sent: "${event.event_time}"}}\n')
    old = {
        "eventType": "com.oraclecloud.blockvolumes.createvolumegroupbackup.end",
        "cloudEventsVersion": "0.1",
    }
    new = {
        "type": "com.oraclecloud.blockvolumes.createvolumegroupbackup.end",
        "specversion": "1.0",
        "id": "i",
    }
    data = {"data": {"resourceId": GROUP_BACKUP["id"]}}
    now = "2026-11-27T04:00:41Z"
    cases = write_cases(
        tmp_path / "c.json",
        [
            case("0.1", {"freeform_tags": {"sent": now}}, event={**old, "eventID": "e", **data}, now=now),
            case("1.0", {"freeform_tags": {"sent": now}}, event={**new, **data}, now=now),
        ],
    )
    code, out, _ = run_cli("test", str(policy), str(cases))
    assert code == 0, out
