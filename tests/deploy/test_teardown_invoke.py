"""deploy/teardown.sh and deploy/invoke.sh through the real oci CLI against the stub (fake fn)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.conftest import COMPARTMENT, HOME, TENANCY, Env

TD = ("--compartment", COMPARTMENT)
MANUAL = {"volumeGroupBackupId": "ocid1.volumegroupbackup.oc1.iad.example", "dryRun": True}
COLLS = (
    "applications",
    "functions",
    "logGroups",
    "logs",
    "schedules",
    "rules",
    "topics",
    "subscriptions",
    "alarms",
)


def marked(fake: Env, region: str = HOME) -> dict[str, list[str]]:
    res: dict[str, list[str]] = {}
    for coll in (*COLLS, "dynamicGroups", "policies"):
        for o in fake.live(coll, region):
            if (o.get("freeformTags") or {}).get("managed-by") == "backup-tag-sync":
                res.setdefault(coll, []).append(o.get("id") or o["topicId"])
    return res


def deletes(fake: Env) -> list[str]:
    return [" ".join(c.words) for c in fake.calls() if c.mutating]


def test_teardown_removes_exactly_what_deploy_created(fake: Env) -> None:
    fake.deployed()
    created = marked(fake)
    assert {k: len(v) for k, v in created.items()} == {
        "applications": 1,
        "functions": 1,
        "logGroups": 1,
        "logs": 1,
        "schedules": 2,
        "rules": 1,
        "topics": 1,
        "subscriptions": 1,
        "alarms": 2,
        "dynamicGroups": 1,
        "policies": 1,
    }
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert marked(fake) == {}
    # every delete went to one of the resources deploy created, once, dependents first
    deleted = [p.rsplit("/", 1)[1] for _, m, p in fake.writes() if m == "DELETE"]
    assert sorted(deleted) == sorted(i for ids in created.values() for i in ids)
    assert deletes(fake) == [
        "events rule delete",
        "monitoring alarm delete",
        "monitoring alarm delete",
        "ons subscription delete",
        "ons topic delete",
        "resource-scheduler schedule delete",
        "resource-scheduler schedule delete",
        "iam policy delete",
        "iam dynamic-group delete",
        "logging log delete",
        "logging log-group delete",
        "fn function delete",
        "fn application delete",
    ]
    assert all("--force" in c.argv for c in fake.calls() if c.mutating)
    # a second teardown finds nothing and changes nothing
    fake.clear_log()
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == []
    assert "nothing with the managed-by=backup-tag-sync tag to delete" in r.stderr


def test_keep_logs_keeps_the_log_and_its_group(fake: Env) -> None:
    fake.deployed()
    log_id, group_id = fake.the("logs")["id"], fake.the("logGroups")["id"]
    r = fake.run("teardown.sh", *TD, "--yes", "--keep-logs")
    assert r.returncode == 0, r.stderr
    assert [o["id"] for o in fake.live("logs")] == [log_id]
    assert [o["id"] for o in fake.live("logGroups")] == [group_id]
    assert fake.live("functions") == [] and fake.live("schedules") == [] and fake.live("policies") == []
    assert "(--keep-logs)" in r.stderr


def test_teardown_leaves_unmarked_resources_of_the_same_name(fake: Env) -> None:
    fake.deployed()

    def add_foreign(c: object) -> None:
        fake.cloud.data["policies"].append(
            {
                "id": "ocid1.policy.oc1..theirs",
                "name": "backup-tag-sync-policy",
                "compartmentId": TENANCY,
                "statements": ["Allow group Admins to manage all-resources in tenancy"],
                "lifecycleState": "ACTIVE",
                "freeformTags": {"managed-by": "someone-else"},
                "description": "d",
                "timeCreated": "2026-01-01T00:00:00.000Z",
            }
        )
        fake.cloud.coll(HOME, "rules").append(
            {
                "id": "ocid1.eventrule.oc1..theirs",
                "displayName": "backup-tag-sync-rule",
                "compartmentId": TENANCY,
                "condition": "{}",
                "isEnabled": True,
                "lifecycleState": "ACTIVE",
                "freeformTags": {},
                "timeCreated": "2026-01-01T00:00:00.000Z",
            }
        )
        # a log someone else put in our log group keeps the group
        g = fake.the("logGroups")
        fake.cloud.coll(HOME, "logs").append(
            {
                **fake.the("logs"),
                "id": "ocid1.log.oc1..theirs",
                "displayName": "audit",
                "freeformTags": {},
                "logGroupId": g["id"],
            }
        )

    fake.edit(add_foreign)
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert [p["id"] for p in fake.live("policies")] == ["ocid1.policy.oc1..theirs"]
    assert [x["id"] for x in fake.live("rules")] == ["ocid1.eventrule.oc1..theirs"]
    assert [x["id"] for x in fake.live("logs")] == ["ocid1.log.oc1..theirs"]
    assert len(fake.live("logGroups")) == 1
    assert "ocid1.policy.oc1..theirs: no managed-by=backup-tag-sync tag, left alone" in r.stderr
    assert "still holds 1 other log(s), left alone" in r.stderr


def test_teardown_keeps_an_application_with_other_functions(fake: Env) -> None:
    fake.deployed()
    app = fake.the("applications")
    fake.edit(
        lambda c: fake.cloud.coll(HOME, "functions").append(
            {
                **fake.the("functions"),
                "id": "ocid1.fnfunc.oc1..other",
                "displayName": "other-fn",
                "freeformTags": {},
            }
        )
    )
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert deletes(fake)[-1] == "fn function delete"
    assert "still holds other functions" in r.stderr
    assert [a["id"] for a in fake.live("applications")] == [app["id"]]


def test_teardown_dry_run_deletes_nothing(fake: Env) -> None:
    fake.deployed()
    before = fake.cloud.snapshot()
    r = fake.run("teardown.sh", *TD, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == [] and fake.cloud.snapshot() == before
    printed = [ln for ln in r.stderr.splitlines() if ln.startswith("DRY-RUN: ")]
    assert [" ".join(p.split()[1:5]) for p in printed] == [
        "oci events rule delete",
        "oci monitoring alarm delete",
        "oci monitoring alarm delete",
        "oci ons subscription delete",
        "oci ons topic delete",
        "oci resource-scheduler schedule delete",
        "oci resource-scheduler schedule delete",
        "oci iam policy delete",
        "oci iam dynamic-group delete",
        "oci logging log delete",
        "oci logging log-group delete",
        "oci fn function delete",
        "oci fn application delete",
    ]


def test_teardown_needs_yes_without_terminal(fake: Env) -> None:
    fake.deployed()
    r = fake.run("teardown.sh", *TD)
    assert r.returncode != 0
    assert "--yes" in r.stderr
    assert fake.writes() == []


def test_teardown_without_oci(fake: Env) -> None:
    fake.remove_tool("oci")
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode != 0
    assert "pip install oci-cli" in r.stderr


# ---- invoke.sh -------------------------------------------------------------------------


def test_invoke_with_fn_body_from_file(fake: Env, tmp_path: Path) -> None:
    body = tmp_path / "manual.json"
    body.write_text(json.dumps(MANUAL))
    r = fake.run("invoke.sh", "--body-file", str(body))
    assert r.returncode == 0, r.stderr
    [call] = fake.calls()
    assert call.argv == ["invoke", "backup-tag-sync", "backup-tag-sync", "--content-type", "application/json"]
    assert json.loads(r.stdout)["request"] == MANUAL


def test_invoke_with_oci_when_fn_is_absent(fake: Env) -> None:
    fake.deployed()
    fake.remove_tool("fn")
    fn_id = fake.the("functions")["id"]
    r = fake.run("invoke.sh", "--compartment", COMPARTMENT, stdin=json.dumps(MANUAL))
    assert r.returncode == 0, r.stderr
    call = fake.calls()[-1]
    assert call.words == ["fn", "function", "invoke"]
    assert (call.opt("--function-id"), call.opt("--file")) == (fn_id, "-")
    assert json.loads(call.opt("--body") or "") == MANUAL
    # the real CLI posted the body to the function's invoke endpoint
    assert (HOME, "POST", f"/20260325/functions/{fn_id}/actions/invoke") in fake.writes()
    assert json.loads(r.stdout)["request"] == MANUAL


def test_invoke_with_function_id_and_use_oci_without_a_tty_or_fn(fake: Env) -> None:
    fake.deployed()
    fn_id = fake.the("functions")["id"]
    r = fake.run(
        "invoke.sh", "--use-oci", "--function-id", fn_id, stdin=json.dumps(MANUAL), OCI_TEST_NO_FORKSERVER="1"
    )
    assert r.returncode == 0, r.stderr  # the CLI exec'd directly, as a user's shell runs it
    assert [c.words for c in fake.calls()] == [["fn", "function", "invoke"]]


def test_invoke_rejects_a_body_that_is_not_json(fake: Env) -> None:
    r = fake.run("invoke.sh", stdin="volumeGroupBackupId=x")
    assert r.returncode != 0
    assert "not valid JSON" in r.stderr
    assert fake.calls() == []


def test_invoke_without_fn_needs_an_id_or_compartment(fake: Env) -> None:
    fake.remove_tool("fn")
    r = fake.run("invoke.sh", stdin="{}")
    assert r.returncode != 0
    assert "--function-id" in r.stderr
