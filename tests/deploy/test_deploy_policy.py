"""deploy.sh shaped by the policy and by earlier runs: one rule after target changes, kinds and
namespaces from the policy, a policy too large for function config, an invoke log found elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.conftest import BASE_ARGS, BUCKET_COMPARTMENT, COMPARTMENT, TARGET_B, TENANCY, Env
from tests.deploy.test_deploy import G, deploy, writes

ET = "com.oraclecloud.blockvolumes."


def rules_everywhere(fake: Env) -> list[dict]:
    return fake.live("rules")


def test_target_drift_leaves_exactly_one_rule_and_the_current_grants(fake: Env) -> None:
    a = ("--target-compartment", COMPARTMENT)
    ab = (*a, "--target-compartment", TARGET_B)
    deploy(fake, *a)
    deploy(fake, *ab, "--skip-build")
    [rule] = rules_everywhere(fake)
    assert rule["compartmentId"] == TENANCY
    fake.clear_log()
    r = deploy(fake, *a, "--skip-build")
    [rule] = rules_everywhere(fake)  # the tenancy's rule is gone, one rule in the compartment
    assert rule["compartmentId"] == COMPARTMENT
    assert json.loads(rule["condition"])["data"] == {"compartmentId": [COMPARTMENT]}
    assert "events-rule" in r.stderr and " deleted " in r.stderr
    statements = fake.the("policies")["statements"]
    assert not any(TARGET_B in s for s in statements)
    assert any(f"in compartment id {COMPARTMENT}" in s and "volume-group-backups" in s for s in statements)
    # and once more: nothing to change; teardown finds one rule
    fake.clear_log()
    deploy(fake, *a, "--skip-build")
    assert fake.writes() == []
    r = fake.run("teardown.sh", "--compartment", COMPARTMENT, "--yes")
    assert r.returncode == 0, r.stderr
    assert writes(fake)["DELETE rules"] == 1


def policy(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(text)
    return p


KINDED = """version: 1
rules:
  - name: volumes
    match: {kind: volume_backup}
    freeform_tags: {team: x}
    defined_tags:
      FinOps: {CostCenter: cc}
  - name: groups
    match: {kind: [volume_group_backup]}
    members: tags
    defined_tags:
      Operations: {Owner: me}
"""


def test_kinds_and_namespaces_come_from_the_policy(fake: Env, tmp_path: Path) -> None:
    pol = policy(tmp_path, KINDED)
    r = deploy(fake, "--policy-file", str(pol), "--member-compartment", TARGET_B)
    cond = json.loads(fake.the("rules")["condition"])
    assert cond["eventType"] == [
        ET + "createvolumegroupbackup.end",
        ET + "createvolumebackup.end",
        ET + "copyvolumebackup.end",
    ]
    st = fake.the("policies")["statements"]
    c, b = f"compartment id {COMPARTMENT}", f"compartment id {TARGET_B}"
    assert [s for s in st if " volume" in s or "boot-volume" in s] == [
        f"Allow {G} to inspect volume-group-backups in {c}",
        f"Allow {G} to manage volume-group-backups in {c} where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"Allow {G} to inspect volume-groups in {c}",
        f"Allow {G} to use volume-backups in {c}",
        f"Allow {G} to use boot-volume-backups in {c}",  # members may be boot volume backups
        f"Allow {G} to inspect volumes in {c}",
        f"Allow {G} to use boot-volume-backups in {b}",  # members' compartment: member kinds only
        f"Allow {G} to inspect volumes in {b}",
    ]
    assert [s for s in st if "use tag-namespaces" in s] == [
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'FinOps'",
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'Operations'",
    ]
    assert "backup kinds: volume_group_backup, volume_backup (members: boot_volume_backup)" in r.stderr
    assert "Oracle-Tags" in r.stderr


def test_dry_run_shows_event_types_and_grants(fake: Env, tmp_path: Path) -> None:
    pol = policy(
        tmp_path, KINDED.replace("[volume_group_backup]", "[boot_volume_backup]").replace("members: tags", "")
    )
    r = fake.run("deploy.sh", *BASE_ARGS, "--policy-file", str(pol), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == []
    assert (
        "event types: createvolumebackup.end, copyvolumebackup.end, createbootvolumebackup.end, copybootvolumebackup.end"
        in r.stderr
    )
    assert "use boot-volume-backups" in r.stderr and "volume-group-backups" not in r.stderr


BIG = "version: 1\nrules:\n" + "".join(
    f'  - name: rule-{i:03d}\n    freeform_tags: {{team-{i:03d}: "value-{i:03d}-{"x" * 40}"}}\n'
    for i in range(120)
)


def test_large_policy_is_refused_before_any_change(fake: Env, tmp_path: Path) -> None:
    pol = policy(tmp_path, BIG)
    assert len(BIG) > 11_000
    for extra in ((), ("--dry-run",)):  # the dry run tells the same truth
        fake.clear_log()
        r = fake.run("deploy.sh", *BASE_ARGS, "--policy-file", str(pol), *extra)
        assert r.returncode == 1
        assert "limits a function's config" in r.stderr and "--policy-bucket" in r.stderr
        assert fake.writes() == [] and not any(c.mutating for c in fake.calls())


def test_large_policy_goes_through_the_bucket(fake: Env, tmp_path: Path) -> None:
    pol = policy(tmp_path, BIG)
    deploy(fake, "--policy-file", str(pol), "--policy-bucket", "tag-policies")
    cfg = fake.the("functions")["config"]
    uri = "oci://tag-policies@acmens/backup-tag-sync/tag_policy.yaml"
    assert cfg["TAG_POLICY_URI"] == uri and "TAG_POLICY" not in cfg
    obj = fake.cloud.data["objects"]["acmens/tag-policies/backup-tag-sync/tag_policy.yaml"]
    assert obj["content"] == BIG
    st = fake.the("policies")["statements"]
    assert (
        f"Allow {G} to read objects in compartment id {BUCKET_COMPARTMENT} where target.bucket.name = 'tag-policies'"
        in st
    )
    # unchanged: no upload; changed: one upload
    fake.clear_log()
    deploy(fake, "--policy-file", str(pol), "--policy-bucket", "tag-policies", "--skip-build")
    assert fake.writes() == []
    pol.write_text(BIG + "  - name: one-more\n    freeform_tags: {a: b}\n")
    deploy(fake, "--policy-file", str(pol), "--policy-bucket", "tag-policies", "--skip-build")
    assert [w[1] for w in fake.writes()] == ["PUT"]
    assert fake.cloud.data["objects"]["acmens/tag-policies/backup-tag-sync/tag_policy.yaml"][
        "content"
    ].endswith("{a: b}\n")


def test_an_invoke_log_in_another_log_group_is_reused(fake: Env) -> None:
    deploy(fake)

    # someone moved the application's invoke log into a log group of their own
    def move(c) -> None:
        c.data["compartments"]["ocid1.compartment.oc1..logs"] = {"name": "logs", "compartmentId": TENANCY}
        g = {
            "id": "ocid1.loggroup.oc1.us-ashburn-1.theirs",
            "compartmentId": "ocid1.compartment.oc1..logs",
            "displayName": "central",
            "lifecycleState": "ACTIVE",
            "freeformTags": {},
            "definedTags": {},
        }
        c.coll("us-ashburn-1", "logGroups").append(g)
        log = fake.the("logs")
        log["logGroupId"], log["displayName"] = g["id"], "app-invoke"

    fake.edit(move)
    fake.clear_log()
    r = deploy(fake, "--skip-build")
    assert "POST logGroups/logs" not in writes(fake)
    assert len(fake.live("logs")) == 1
    assert "already has an invoke log ('app-invoke' in log group 'central')" in r.stderr


def test_regions_given_twice_deploy_once(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--regions", "us-ashburn-1,us-ashburn-1", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("oci fn application create") == 1
