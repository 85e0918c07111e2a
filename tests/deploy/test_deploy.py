"""deploy/deploy.sh against fake oci and fn CLIs."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.deploy.conftest import (
    BUCKET_COMPARTMENT,
    COMPARTMENT,
    SUBNET,
    TAGS_COMPARTMENT,
    TARGET_B,
    TENANCY,
    Env,
)

BASE = ("--compartment", COMPARTMENT, "--subnet", SUBNET, "--yes")
EVENT = "com.oraclecloud.blockvolumes.createvolumegroupbackup.end"
G = "dynamic-group backup-tag-sync-dg"


def deploy(fake: Env, *args: str, **env: str):
    r = fake.run("deploy.sh", *BASE, *args, **env)
    assert r.returncode == 0, r.stderr
    return r


def live(items: list[dict]) -> list[dict]:
    return [o for o in items if o.get("lifecycle-state") not in ("DELETED", "DELETING")]


def the(fake: Env, coll: str) -> dict:
    items = live(fake.state[coll])
    assert len(items) == 1, items
    return items[0]


def creates(fake: Env) -> Counter[str]:
    res: Counter[str] = Counter()
    for c in fake.mutating():
        res[" ".join(c.words)] += 1
    return res


# ---- first run ---------------------------------------------------------------------


def test_first_run_creates_each_resource_once(fake: Env) -> None:
    r = deploy(fake, "--tag-namespace", "Operations", "--tag-namespace", "FinOps")
    assert creates(fake) == Counter(
        {
            "fn application create": 1,
            "deploy": 1,
            "fn function update container-function": 1,
            "iam dynamic-group create": 1,
            "iam policy create": 1,
            "events rule create": 1,
        }
    )
    fn = the(fake, "functions")
    # stdout is exactly the function OCID; the summary names every resource
    assert r.stdout.strip() == fn["id"]
    for line in (
        "application    backup-tag-sync              created",
        "function       backup-tag-sync              created",
        "dynamic-group  backup-tag-sync-dg           created",
        "policy         backup-tag-sync-policy       created",
        "events-rule    backup-tag-sync-rule         created",
    ):
        assert line in r.stderr
    assert f"function OCID: {fn['id']}" in r.stderr
    # every resource carries the marker
    marker = {"managed-by": "backup-tag-sync"}
    for coll in ("applications", "functions", "dynamic_groups", "policies", "rules"):
        assert the(fake, coll)["freeform-tags"] == marker, coll
    app = the(fake, "applications")
    assert app["subnet-ids"] == [SUBNET]
    assert app["compartment-id"] == COMPARTMENT
    assert fn["config"] == {"DRY_RUN": "false", "LOG_LEVEL": "info"}


def test_iam_statements_and_matching_rule_exact(fake: Env) -> None:
    fake.deployed("--tag-namespace", "Operations", "--tag-namespace", "FinOps")
    fn_id = the(fake, "functions")["id"]
    dg = the(fake, "dynamic_groups")
    assert dg["compartment-id"] == TENANCY
    assert dg["matching-rule"] == f"ALL {{resource.type = 'fnfunc', resource.id = '{fn_id}'}}"
    pol = the(fake, "policies")
    assert pol["compartment-id"] == TENANCY
    assert pol["name"] == "backup-tag-sync-policy"
    c = f"compartment id {COMPARTMENT}"
    assert pol["statements"] == [
        f"Allow {G} to inspect volume-group-backups in {c}",
        f"Allow {G} to manage volume-group-backups in {c}"
        " where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"Allow {G} to inspect volume-groups in {c}",
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'Operations'",
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'FinOps'",
        f"Allow service cloudEvents to use functions-family in {c}",
    ]


def test_events_rule_condition_and_action_exact(fake: Env) -> None:
    fake.deployed()
    fn_id = the(fake, "functions")["id"]
    rule = the(fake, "rules")
    assert rule["compartment-id"] == COMPARTMENT
    assert rule["display-name"] == "backup-tag-sync-rule"
    assert rule["is-enabled"] is True
    assert rule["condition"] == (
        '{"eventType": ["com.oraclecloud.blockvolumes.createvolumegroupbackup.end"], '
        f'"data": {{"compartmentId": ["{COMPARTMENT}"]}}}}'
    )
    assert "updatevolumegroupbackup" not in rule["condition"]
    [action] = rule["actions"]["actions"]
    assert (action["action-type"], action["function-id"], action["is-enabled"]) == (
        "FAAS",
        fn_id,
        True,
    )


def test_several_targets_oci_policy_uri_and_tag_compartment(fake: Env) -> None:
    deploy(
        fake,
        "--target-compartment",
        COMPARTMENT,
        "--target-compartment",
        TARGET_B,
        "--tag-namespace",
        "Operations",
        "--tag-namespace-compartment",
        TAGS_COMPARTMENT,
        "--policy-uri",
        "oci://tag-policies@acmens/prod/tag_policy.yaml",
        "--log-level",
        "debug",
        "--dry-run-writes",
    )
    a, b = f"compartment id {COMPARTMENT}", f"compartment id {TARGET_B}"
    assert the(fake, "policies")["statements"] == [
        f"Allow {G} to inspect volume-group-backups in {a}",
        f"Allow {G} to manage volume-group-backups in {a}"
        " where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"Allow {G} to inspect volume-groups in {a}",
        f"Allow {G} to inspect volume-group-backups in {b}",
        f"Allow {G} to manage volume-group-backups in {b}"
        " where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"Allow {G} to inspect volume-groups in {b}",
        f"Allow {G} to use tag-namespaces in compartment id {TAGS_COMPARTMENT}"
        " where target.tag-namespace.name = 'Operations'",
        f"Allow {G} to read objects in compartment id {BUCKET_COMPARTMENT}"
        " where target.bucket.name = 'tag-policies'",
        f"Allow service cloudEvents to use functions-family in {a}",
    ]
    rule = the(fake, "rules")
    # targets beyond the function's compartment: the rule sits in the tenancy
    assert rule["compartment-id"] == TENANCY
    assert json.loads(rule["condition"]) == {
        "eventType": [EVENT],
        "data": {"compartmentId": [COMPARTMENT, TARGET_B]},
    }
    assert the(fake, "functions")["config"] == {
        "DRY_RUN": "true",
        "LOG_LEVEL": "debug",
        "TAG_POLICY_URI": "oci://tag-policies@acmens/prod/tag_policy.yaml",
    }


def test_policy_file_goes_inline(fake: Env, tmp_path: Path) -> None:
    pol = tmp_path / "p.yaml"
    pol.write_text("version: 1\nrules:\n  - name: r\n    display_name: x\n")
    deploy(fake, "--policy-uri", "file:///function/tag_policy.yaml")
    deploy(fake, "--policy-file", str(pol), "--skip-build")
    cfg = the(fake, "functions")["config"]
    assert cfg["TAG_POLICY"] == pol.read_text().rstrip("\n")
    assert "TAG_POLICY_URI" not in cfg


# ---- idempotence and drift -------------------------------------------------------------


def test_second_run_creates_and_updates_nothing(fake: Env) -> None:
    fake.deployed("--tag-namespace", "Operations")
    before = fake.state
    r = deploy(fake, "--tag-namespace", "Operations", "--skip-build")
    assert fake.mutating() == []
    assert fake.state == before
    assert " created " not in r.stderr and " updated " not in r.stderr
    summary = [ln for ln in r.stderr.splitlines() if re.match(r"^  \S+ +\S+ +kept ", ln)]
    assert len(summary) == 6, r.stderr


def test_second_run_without_skip_build_only_redeploys_the_image(fake: Env) -> None:
    fake.deployed()
    r = deploy(fake)
    assert [str(c) for c in fake.mutating()] == ["fn deploy --app backup-tag-sync"]
    assert "function       backup-tag-sync              deployed" in r.stderr


def test_drifted_policy_statement_is_updated_and_nothing_else(fake: Env) -> None:
    fake.deployed("--tag-namespace", "Operations")
    want = the(fake, "policies")["statements"]

    def drift(s: dict) -> None:
        live(s["policies"])[0]["statements"][1] = f"Allow {G} to manage volume-group-backups in tenancy"

    fake.edit_state(drift)
    fake.clear_log()
    r = deploy(fake, "--tag-namespace", "Operations", "--skip-build")
    [call] = fake.mutating()
    assert call.words == ["iam", "policy", "update"]
    assert call.opt("--policy-id") == the(fake, "policies")["id"]
    assert "--force" in call.argv
    assert the(fake, "policies")["statements"] == want
    assert "policy         backup-tag-sync-policy       updated" in r.stderr


def test_reordered_or_reflowed_statements_are_not_drift(fake: Env) -> None:
    fake.deployed()

    def reflow(s: dict) -> None:
        p = live(s["policies"])[0]
        p["statements"] = ["  " + x.replace(" to ", "  to ") for x in reversed(p["statements"])]

    fake.edit_state(reflow)
    fake.clear_log()
    deploy(fake, "--skip-build")
    assert fake.mutating() == []


def test_drifted_event_condition_is_updated_and_nothing_else(fake: Env) -> None:
    fake.deployed()
    want = the(fake, "rules")["condition"]

    def drift(s: dict) -> None:
        live(s["rules"])[0]["condition"] = json.dumps(
            {"eventType": ["com.oraclecloud.blockvolumes.updatevolumegroupbackup"]}
        )

    fake.edit_state(drift)
    fake.clear_log()
    deploy(fake, "--skip-build")
    [call] = fake.mutating()
    assert call.words == ["events", "rule", "update"]
    assert call.opt("--rule-id") == the(fake, "rules")["id"]
    assert json.loads(call.opt("--condition") or "") == json.loads(want)
    assert "--actions" not in call.argv
    assert the(fake, "rules")["condition"] == want


def test_condition_with_other_spacing_is_not_drift(fake: Env) -> None:
    fake.deployed()

    def respace(s: dict) -> None:
        r = live(s["rules"])[0]
        r["condition"] = json.dumps(json.loads(r["condition"]), indent=2)

    fake.edit_state(respace)
    fake.clear_log()
    deploy(fake, "--skip-build")
    assert fake.mutating() == []


def test_drifted_config_and_matching_rule_are_updated(fake: Env) -> None:
    fake.deployed()

    def drift(s: dict) -> None:
        f = live(s["functions"])[0]
        f["config"] = {"DRY_RUN": "true", "LOG_LEVEL": "info", "S3_ENDPOINT_URL": "https://x"}
        live(s["dynamic_groups"])[0]["matching-rule"] = "ALL {resource.type = 'fnfunc'}"

    fake.edit_state(drift)
    fake.clear_log()
    deploy(fake, "--skip-build")
    assert sorted(" ".join(c.words) for c in fake.mutating()) == [
        "fn function update container-function",
        "iam dynamic-group update",
    ]
    # keys this script does not own are kept
    assert the(fake, "functions")["config"] == {
        "DRY_RUN": "false",
        "LOG_LEVEL": "info",
        "S3_ENDPOINT_URL": "https://x",
    }


def test_old_cli_without_update_subcommands(fake: Env) -> None:
    fake.edit_state(lambda s: s.update(update_is_group=False))
    deploy(fake)
    upd = [c for c in fake.mutating() if c.words[:3] == ["fn", "function", "update"]]
    assert [c.words for c in upd] == [["fn", "function", "update"]]


def test_existing_unmarked_dynamic_group_is_not_taken_over(fake: Env) -> None:
    def foreign(s: dict) -> None:
        s["dynamic_groups"].append(
            {
                "id": "ocid1.dynamicgroup.oc1..theirs",
                "name": "backup-tag-sync-dg",
                "compartment-id": TENANCY,
                "matching-rule": "ANY {instance.compartment.id = 'x'}",
                "lifecycle-state": "ACTIVE",
                "freeform-tags": {},
            }
        )

    fake.edit_state(foreign)
    r = fake.run("deploy.sh", *BASE)
    assert r.returncode == 1
    assert "--name-prefix" in r.stderr
    assert not any(c.words[:2] == ["iam", "dynamic-group"] and c.mutating for c in fake.calls())
    r = deploy(fake, "--name-prefix", "bts2")
    assert "bts2-dg" in r.stderr


# ---- --dry-run ---------------------------------------------------------------------------


def test_dry_run_prints_every_command_and_changes_nothing(fake: Env) -> None:
    before = fake.state
    r = fake.run("deploy.sh", *BASE, "--tag-namespace", "Operations", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fake.mutating() == []
    assert fake.state == before
    printed = [line for line in r.stderr.splitlines() if line.startswith("DRY-RUN: ")]
    assert [" ".join(p.split()[1:6]) for p in printed] == [
        "oci fn application create --compartment-id",
        "fn deploy --app backup-tag-sync",
        "oci fn function update container-function",
        "oci iam dynamic-group create --compartment-id",
        "oci iam policy create --compartment-id",
        "oci events rule create --compartment-id",
    ]
    assert "target.tag-namespace.name = '\\''Operations'\\''" in r.stderr
    assert "createvolumegroupbackup.end" in r.stderr
    # read-only look-ups only
    for c in fake.calls():
        assert c.tool in ("oci", "fn")
        if c.tool == "oci":
            assert c.words[-1] in ("list", "get") or "--help" in c.argv, c
        else:
            assert c.argv[:2] == ["inspect", "context"], c


def test_dry_run_after_deploy_shows_only_the_drift(fake: Env) -> None:
    fake.deployed()
    fake.edit_state(lambda s: live(s["rules"])[0].update({"is-enabled": False}))
    before = fake.state
    fake.clear_log()
    r = fake.run("deploy.sh", *BASE, "--dry-run", "--skip-build")
    assert r.returncode == 0, r.stderr
    assert fake.mutating() == [] and fake.state == before
    printed = [line for line in r.stderr.splitlines() if line.startswith("DRY-RUN: ")]
    assert len(printed) == 1 and "oci events rule update" in printed[0]
    assert "--is-enabled true" in printed[0]


# ---- prerequisites -----------------------------------------------------------------------


def assert_stopped_before_any_change(fake: Env, r, *needles: str) -> None:
    assert r.returncode != 0
    assert fake.mutating() == []
    for n in needles:
        assert n in r.stderr, r.stderr


def test_no_oci_on_path(fake: Env) -> None:
    fake.remove_tool("oci")
    r = fake.run("deploy.sh", *BASE)
    assert_stopped_before_any_change(fake, r, "'oci') is not on PATH", "pip install oci-cli")


def test_no_fn_on_path(fake: Env) -> None:
    fake.remove_tool("fn")
    r = fake.run("deploy.sh", *BASE)
    assert_stopped_before_any_change(fake, r, "'fn') is not on PATH", "install")


def test_not_logged_in(fake: Env) -> None:
    fake.edit_state(lambda s: s.update(authenticated=False))
    r = fake.run("deploy.sh", *BASE)
    assert_stopped_before_any_change(fake, r, "oci setup config", "oci session authenticate")


def test_compartment_not_found(fake: Env) -> None:
    r = fake.run("deploy.sh", "--compartment", "ocid1.compartment.oc1..nope", "--subnet", SUBNET)
    assert_stopped_before_any_change(fake, r, "ocid1.compartment.oc1..nope was not found")


def test_target_compartment_not_found(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE, "--target-compartment", "ocid1.compartment.oc1..gone")
    assert_stopped_before_any_change(fake, r, "ocid1.compartment.oc1..gone was not found")


def test_subnet_missing(fake: Env) -> None:
    r = fake.run("deploy.sh", "--compartment", COMPARTMENT, "--subnet", "ocid1.subnet.oc1..gone", "--yes")
    assert_stopped_before_any_change(fake, r, "subnet ocid1.subnet.oc1..gone was not found")


def test_fn_context_in_other_compartment(fake: Env) -> None:
    fake.edit_state(lambda s: s["fn_context"].update({"oracle.compartment-id": TARGET_B}))
    r = fake.run("deploy.sh", *BASE)
    assert_stopped_before_any_change(fake, r, f"fn update context oracle.compartment-id {COMPARTMENT}")


def test_skip_build_without_function_checks_build_prereqs_first(fake: Env) -> None:
    fake.edit_state(lambda s: s.update(fn_context=None))
    r = fake.run("deploy.sh", *BASE, "--skip-build")
    assert_stopped_before_any_change(fake, r, "fn create context")


def test_missing_bucket_for_oci_policy_uri(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE, "--policy-uri", "oci://nobucket@acmens/p.yaml")
    assert_stopped_before_any_change(fake, r, "bucket 'nobucket'")


def test_tenancy_from_oci_config(fake: Env) -> None:
    cfg = Path(fake.env["HOME"]) / ".oci" / "config"
    cfg.parent.mkdir()
    cfg.write_text(f"[DEFAULT]\nuser=ocid1.user.oc1..u\ntenancy={TENANCY}\nregion=us-ashburn-1\n")
    env = {k: v for k, v in fake.env.items() if k != "OCI_TENANCY"}
    fake.env = env
    deploy(fake)
    assert the(fake, "dynamic_groups")["compartment-id"] == TENANCY


def test_no_tenancy_anywhere(fake: Env) -> None:
    fake.env = {k: v for k, v in fake.env.items() if k != "OCI_TENANCY"}
    r = fake.run("deploy.sh", *BASE)
    assert_stopped_before_any_change(fake, r, "--tenancy OCID")


def test_needs_yes_without_a_terminal(fake: Env) -> None:
    r = fake.run("deploy.sh", "--compartment", COMPARTMENT, "--subnet", SUBNET)
    assert_stopped_before_any_change(fake, r, "--yes")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "--compartment OCID is required"),
        (("--compartment", COMPARTMENT), "--subnet OCID is required"),
        ((*BASE, "--policy-uri", "http://x"), "file://, oci:// or s3://"),
        ((*BASE, "--log-level", "loud"), "--log-level must be"),
        ((*BASE, "--bogus"), "unknown option"),
        ((*BASE, "--policy-uri", "file:///a", "--policy-file", "/etc/hostname"), "not both"),
    ],
)
def test_bad_options_stop_before_any_call(fake: Env, args: tuple[str, ...], needle: str) -> None:
    r = fake.run("deploy.sh", *args)
    assert r.returncode != 0
    assert needle in r.stderr
    assert fake.calls() == []


def test_help(fake: Env) -> None:
    r = fake.run("deploy.sh", "--help")
    assert r.returncode == 0
    for opt in ("--tag-namespace", "--target-compartment", "--policy-uri", "--dry-run-writes"):
        assert opt in r.stdout
    assert fake.calls() == []
