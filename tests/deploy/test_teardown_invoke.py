"""deploy/teardown.sh and deploy/invoke.sh against fake oci and fn CLIs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.conftest import COMPARTMENT, TENANCY, Env

TD = ("--compartment", COMPARTMENT)
MANUAL = {
    "volumeGroupBackupId": "ocid1.volumegroupbackup.oc1.iad.example",
    "dryRun": True,
}


def live_marked(fake: Env) -> list[tuple[str, str]]:
    res = []
    for coll in ("applications", "functions", "dynamic_groups", "policies", "rules"):
        for o in fake.state[coll]:
            if o["lifecycle-state"] not in ("DELETED", "DELETING") and (
                o.get("freeform-tags", {}).get("managed-by") == "backup-tag-sync"
            ):
                res.append((coll, o["id"]))
    return res


def test_teardown_after_deploy_leaves_nothing_marked(fake: Env) -> None:
    fake.deployed("--tag-namespace", "Operations")
    assert len(live_marked(fake)) == 5
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert live_marked(fake) == []
    deletes = [" ".join(c.words) for c in fake.mutating()]
    # dependents first, the application last
    assert deletes == [
        "events rule delete",
        "iam policy delete",
        "iam dynamic-group delete",
        "fn function delete",
        "fn application delete",
    ]
    assert all("--force" in c.argv for c in fake.mutating())
    # a second teardown finds nothing and changes nothing
    fake.clear_log()
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert fake.mutating() == []
    assert "nothing with the managed-by=backup-tag-sync tag to delete" in r.stderr


def test_teardown_leaves_unmarked_resources_of_the_same_name(fake: Env) -> None:
    fake.deployed()

    def add_foreign(s: dict) -> None:
        s["policies"].append(
            {
                "id": "ocid1.policy.oc1..theirs",
                "name": "backup-tag-sync-policy",
                "compartment-id": TENANCY,
                "statements": ["Allow group Admins to manage all-resources in tenancy"],
                "lifecycle-state": "ACTIVE",
                "freeform-tags": {"managed-by": "someone-else"},
            }
        )
        s["rules"].append(
            {
                "id": "ocid1.eventrule.oc1..theirs",
                "display-name": "backup-tag-sync-rule",
                "compartment-id": TENANCY,
                "condition": "{}",
                "is-enabled": True,
                "lifecycle-state": "ACTIVE",
                "freeform-tags": {},
            }
        )

    fake.edit_state(add_foreign)
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert live_marked(fake) == []
    deleted = {c.argv[4] for c in fake.mutating()}  # service, resource, delete, --x-id, ID
    assert "ocid1.policy.oc1..theirs" not in deleted
    assert "ocid1.eventrule.oc1..theirs" not in deleted
    theirs = {o["id"]: o for o in fake.state["policies"] + fake.state["rules"]}
    assert theirs["ocid1.policy.oc1..theirs"]["lifecycle-state"] == "ACTIVE"
    assert theirs["ocid1.eventrule.oc1..theirs"]["lifecycle-state"] == "ACTIVE"
    assert "ocid1.policy.oc1..theirs: no managed-by=backup-tag-sync tag, left alone" in r.stderr


def test_teardown_keeps_an_application_with_other_functions(fake: Env) -> None:
    fake.deployed()

    def add_fn(s: dict) -> None:
        app = s["applications"][0]
        s["functions"].append(
            {
                "id": "ocid1.fnfunc.oc1..other",
                "display-name": "other-fn",
                "application-id": app["id"],
                "compartment-id": COMPARTMENT,
                "lifecycle-state": "ACTIVE",
                "freeform-tags": {},
            }
        )

    fake.edit_state(add_fn)
    r = fake.run("teardown.sh", *TD, "--yes")
    assert r.returncode == 0, r.stderr
    assert [c.words[:2] for c in fake.mutating()][-1] == ["fn", "function"]
    assert "still holds other functions" in r.stderr
    assert fake.state["applications"][0]["lifecycle-state"] == "ACTIVE"


def test_teardown_dry_run_deletes_nothing(fake: Env) -> None:
    fake.deployed()
    before = fake.state
    r = fake.run("teardown.sh", *TD, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fake.mutating() == []
    assert fake.state == before
    printed = [ln for ln in r.stderr.splitlines() if ln.startswith("DRY-RUN: ")]
    assert [" ".join(p.split()[1:5]) for p in printed] == [
        "oci events rule delete",
        "oci iam policy delete",
        "oci iam dynamic-group delete",
        "oci fn function delete",
        "oci fn application delete",
    ]


def test_teardown_needs_yes_without_terminal(fake: Env) -> None:
    fake.deployed()
    r = fake.run("teardown.sh", *TD)
    assert r.returncode != 0
    assert "--yes" in r.stderr
    assert fake.mutating() == []


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
    assert call.argv == [
        "invoke",
        "backup-tag-sync",
        "backup-tag-sync",
        "--content-type",
        "application/json",
    ]
    assert json.loads(r.stdout)["request"] == MANUAL


def test_invoke_with_oci_when_fn_is_absent(fake: Env) -> None:
    fake.deployed()
    fake.remove_tool("fn")
    fn_id = fake.state["functions"][0]["id"]
    r = fake.run("invoke.sh", "--compartment", COMPARTMENT, stdin=json.dumps(MANUAL))
    assert r.returncode == 0, r.stderr
    call = fake.calls()[-1]
    assert call.words == ["fn", "function", "invoke"]
    assert call.opt("--function-id") == fn_id
    assert call.opt("--file") == "-"
    assert json.loads(call.opt("--body") or "") == MANUAL
    assert json.loads(r.stdout)["request"] == MANUAL


def test_invoke_with_function_id_and_use_oci(fake: Env) -> None:
    fake.deployed()
    fn_id = fake.state["functions"][0]["id"]
    r = fake.run("invoke.sh", "--use-oci", "--function-id", fn_id, stdin=json.dumps(MANUAL))
    assert r.returncode == 0, r.stderr
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
