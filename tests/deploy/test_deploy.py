"""deploy/deploy.sh through the real oci CLI against the control-plane stub (fake fn)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from tests.deploy.conftest import (
    BASE_ARGS,
    BUCKET_COMPARTMENT,
    COMPARTMENT,
    METRICS_COMPARTMENT,
    STANDARD,
    TAGS_COMPARTMENT,
    TARGET_B,
    TENANCY,
    Env,
)

ET = "com.oraclecloud.blockvolumes."
# The shipped tag_policy.yaml has rules without `kind`: they match every kind.
ALL_EVENTS = [
    ET + "createvolumegroupbackup.end",
    ET + "createvolumebackup.end",
    ET + "copyvolumebackup.end",
    ET + "createbootvolumebackup.end",
    ET + "copybootvolumebackup.end",
]
G = "dynamic-group backup-tag-sync-dg"
MARKER = {"managed-by": "backup-tag-sync"}
NOTIFY = ("--notify-email", "ops@example.com")


def kind_grants(where: str) -> list[str]:
    """The grants of every kind in one compartment (Core policy reference)."""
    return [
        f"Allow {G} to inspect volume-group-backups in {where}",
        f"Allow {G} to manage volume-group-backups in {where} where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"Allow {G} to inspect volume-groups in {where}",
        f"Allow {G} to use volume-backups in {where}",
        f"Allow {G} to use boot-volume-backups in {where}",
        f"Allow {G} to inspect volumes in {where}",
    ]


def schedule_grants(where: str, sid: str) -> list[str]:
    cond = f"all {{request.principal.type = 'resourceschedule', request.principal.id = '{sid}'}}"
    return [
        f"Allow any-user to read fn-function in {where} where {cond}",
        f"Allow any-user to use fn-invocation in {where} where {cond}",
    ]


def deploy(fake: Env, *args: str, **env: str):
    r = fake.run("deploy.sh", *BASE_ARGS, *args, **env)
    assert r.returncode == 0, r.stderr
    return r


def writes(fake: Env) -> Counter[str]:
    """Requests that changed something, by method and resource collection (ids dropped)."""
    res: Counter[str] = Counter()
    for _region, method, path in fake.writes():
        parts = [p for p in path.split("/") if p and not p.startswith("ocid1.")]
        res[f"{method} {'/'.join(parts[1:])}"] += 1
    return res


def schedule_body(since: str | None, target: str = COMPARTMENT) -> dict:
    sweep: dict = {"compartmentId": target, "recursive": True}
    if since:
        sweep["since"] = since
    return {"sweep": sweep}


# ---- first run, second run ---------------------------------------------------------------


def test_first_run_creates_each_resource_once_and_a_second_run_nothing(fake: Env) -> None:
    r = deploy(fake, "--tag-namespace", "Operations", *NOTIFY)
    assert writes(fake) == Counter(
        {
            "POST applications": 1,
            "PUT functions": 1,  # the config, after the fake fn deploy created the function
            "POST logGroups": 1,
            "POST logGroups/logs": 1,
            "POST schedules": 2,
            "POST dynamicGroups": 1,
            "POST policies": 1,
            "POST rules": 1,
            "POST topics": 1,
            "POST subscriptions": 1,
            "POST alarms": 2,
        }
    )
    assert [str(c) for c in fake.calls() if c.tool == "fn" and c.mutating] == [
        "fn deploy --app backup-tag-sync"
    ]
    fn = fake.the("functions")
    assert r.stdout.strip() == fn["id"]
    for kind, name in (
        ("application", "backup-tag-sync"),
        ("log-group", "backup-tag-sync-logs"),
        ("log", "backup-tag-sync-invoke"),
        ("schedule", "backup-tag-sync-reconcile-daily"),
        ("schedule", "backup-tag-sync-reconcile-weekly"),
        ("dynamic-group", "backup-tag-sync-dg"),
        ("policy", "backup-tag-sync-policy"),
        ("events-rule", "backup-tag-sync-rule"),
        ("topic", "backup-tag-sync-alerts"),
        ("subscription", "ops@example.com"),
        ("alarm", "backup-tag-sync-failed-outcomes"),
        ("alarm", "backup-tag-sync-function-errors"),
    ):
        assert re.search(rf"^  {kind} +\S+ +{re.escape(name)} +created +ocid1\.", r.stderr, re.M), (
            kind,
            r.stderr,
        )
    for coll in (
        "applications",
        "functions",
        "logGroups",
        "logs",
        "rules",
        "topics",
        "subscriptions",
        "alarms",
    ):
        assert all(o["freeformTags"] == MARKER for o in fake.live(coll)), coll
    assert all(o["freeformTags"]["managed-by"] == "backup-tag-sync" for o in fake.live("schedules"))
    for coll in ("dynamicGroups", "policies"):
        assert fake.the(coll)["freeformTags"] == MARKER

    # a second run (same options, no rebuild) creates and updates nothing
    fake.clear_log()
    r = deploy(fake, "--tag-namespace", "Operations", *NOTIFY, "--skip-build")
    assert fake.writes() == []
    assert not any(c.mutating for c in fake.calls())
    rows = [ln for ln in r.stderr.splitlines() if re.match(r"^  \S+ +\S+ +\S+ +kept ", ln)]
    assert len(rows) == 14, r.stderr
    assert " created " not in r.stderr and " updated " not in r.stderr


def test_iam_statements_and_matching_rule_exact(fake: Env) -> None:
    fake.deployed()
    fn_id = fake.the("functions")["id"]
    dg = fake.the("dynamicGroups")
    assert (dg["compartmentId"], dg["name"]) == (TENANCY, "backup-tag-sync-dg")
    assert dg["matchingRule"] == f"ALL {{resource.type = 'fnfunc', resource.id = '{fn_id}'}}"
    daily, weekly = (
        fake.cloud.get("us-ashburn-1", "schedules", n, key="displayName")["id"]
        for n in ("backup-tag-sync-reconcile-daily", "backup-tag-sync-reconcile-weekly")
    )
    pol = fake.the("policies")
    assert (pol["compartmentId"], pol["name"]) == (TENANCY, "backup-tag-sync-policy")
    c = f"compartment id {COMPARTMENT}"
    assert pol["statements"] == [
        *kind_grants(c),
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'Operations'",
        f"Allow {G} to use tag-namespaces in tenancy where target.tag-namespace.name = 'FinOps'",
        f"Allow {G} to inspect tag-namespaces in tenancy",
        f"Allow {G} to use metrics in {c} where target.metrics.namespace = 'backup_tag_sync'",
        f"Allow {G} to use fn-invocation in {c}",
        f"Allow service cloudEvents to use functions-family in {c}",
        *schedule_grants(c, daily),
        *schedule_grants(c, weekly),
    ]


def test_function_config_log_and_schedules_exact(fake: Env) -> None:
    fake.deployed()
    fn = fake.the("functions")
    assert fn["config"] == {
        "DRY_RUN": "false",
        "LOG_LEVEL": "info",
        "METRICS_COMPARTMENT_ID": COMPARTMENT,
        "FUNCTION_ID": fn["id"],
        "FUNCTION_INVOKE_ENDPOINT": fn["invokeEndpoint"],
    }
    app = fake.the("applications")
    group = fake.the("logGroups")
    assert (group["displayName"], group["compartmentId"]) == ("backup-tag-sync-logs", COMPARTMENT)
    log = fake.the("logs")
    assert (log["displayName"], log["logType"], log["isEnabled"], log["logGroupId"]) == (
        "backup-tag-sync-invoke",
        "SERVICE",
        True,
        group["id"],
    )
    assert log["configuration"]["source"] == {
        "sourceType": "OCISERVICE",
        "service": "functions",
        "resource": app["id"],
        "category": "invoke",
    }
    by_name = {s["displayName"]: s for s in fake.live("schedules")}
    for name, cron, since in (
        ("backup-tag-sync-reconcile-daily", "0 3 * * *", "2d"),
        ("backup-tag-sync-reconcile-weekly", "0 4 * * 0", None),
    ):
        s = by_name[name]
        assert (s["action"], s["recurrenceType"], s["recurrenceDetails"], s["compartmentId"]) == (
            "START_RESOURCE",
            "CRON",
            cron,
            COMPARTMENT,
        )
        assert s["resources"] == [
            {"id": fn["id"], "parameters": [{"parameterType": "BODY", "value": schedule_body(since)}]}
        ]
        assert s["freeformTags"] == {**MARKER, "backup-tag-sync-target": COMPARTMENT}


def test_alarms_and_topic_exact(fake: Env) -> None:
    fake.deployed()
    topic = fake.the("topics")
    assert (topic["name"], topic["compartmentId"]) == ("backup-tag-sync-alerts", COMPARTMENT)
    sub = fake.the("subscriptions")
    assert (sub["protocol"], sub["endpoint"], sub["topicId"]) == (
        "EMAIL",
        "ops@example.com",
        topic["topicId"],
    )
    fn_id = fake.the("functions")["id"]
    alarms = {a["displayName"]: a for a in fake.live("alarms")}
    failed = alarms["backup-tag-sync-failed-outcomes"]
    assert (failed["namespace"], failed["metricCompartmentId"], failed["query"], failed["severity"]) == (
        "backup_tag_sync",
        COMPARTMENT,
        'outcomes[1h]{status = "failed"}.sum() > 0',
        "CRITICAL",
    )
    errors = alarms["backup-tag-sync-function-errors"]
    assert (errors["namespace"], errors["metricCompartmentId"], errors["query"]) == (
        "oci_faas",
        COMPARTMENT,
        f'FunctionResponseCount[1h]{{resourceId = "{fn_id}", responseType = "Error"}}.sum() > 0',
    )
    for a in (failed, errors):
        assert (a["destinations"], a["isEnabled"], a["compartmentId"]) == (
            [topic["topicId"]],
            True,
            COMPARTMENT,
        )
        assert "Operating it" in a["body"]


def test_events_rule_condition_and_action_exact(fake: Env) -> None:
    fake.deployed()
    fn_id = fake.the("functions")["id"]
    rule = fake.the("rules")
    assert (rule["compartmentId"], rule["displayName"], rule["isEnabled"]) == (
        COMPARTMENT,
        "backup-tag-sync-rule",
        True,
    )
    assert json.loads(rule["condition"]) == {
        "eventType": ALL_EVENTS,
        "data": {"compartmentId": [COMPARTMENT]},
    }
    [action] = rule["actions"]["actions"]
    assert (action["actionType"], action["functionId"], action["isEnabled"]) == ("FAAS", fn_id, True)


def test_several_targets_metrics_compartment_and_policy_uri(fake: Env) -> None:
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
        "--metrics-compartment",
        METRICS_COMPARTMENT,
        "--no-reconcile",
        "--log-level",
        "debug",
        "--dry-run-writes",
    )
    a, b = f"compartment id {COMPARTMENT}", f"compartment id {TARGET_B}"
    assert fake.the("policies")["statements"] == [
        *kind_grants(a),
        *kind_grants(b),
        f"Allow {G} to use tag-namespaces in compartment id {TAGS_COMPARTMENT} where target.tag-namespace.name = 'Operations'",
        f"Allow {G} to inspect tag-namespaces in compartment id {TAGS_COMPARTMENT}",
        f"Allow {G} to read objects in compartment id {BUCKET_COMPARTMENT} where target.bucket.name = 'tag-policies'",
        f"Allow {G} to use metrics in compartment id {METRICS_COMPARTMENT} where target.metrics.namespace = 'backup_tag_sync'",
        f"Allow {G} to use fn-invocation in {a}",
        f"Allow service cloudEvents to use functions-family in {a}",
    ]
    assert fake.live("schedules") == []
    rule = fake.the("rules")
    assert rule["compartmentId"] == TENANCY  # targets beyond the function's compartment
    assert json.loads(rule["condition"])["data"] == {"compartmentId": [COMPARTMENT, TARGET_B]}
    cfg = fake.the("functions")["config"]
    assert {k: cfg[k] for k in ("DRY_RUN", "LOG_LEVEL", "TAG_POLICY_URI", "METRICS_COMPARTMENT_ID")} == {
        "DRY_RUN": "true",
        "LOG_LEVEL": "debug",
        "TAG_POLICY_URI": "oci://tag-policies@acmens/prod/tag_policy.yaml",
        "METRICS_COMPARTMENT_ID": METRICS_COMPARTMENT,
    }


def test_no_metrics_drops_the_key_and_the_grant(fake: Env) -> None:
    fake.deployed()
    r = deploy(fake, *STANDARD, "--skip-build", "--no-metrics")
    assert "METRICS_COMPARTMENT_ID" not in fake.the("functions")["config"]
    assert not any("use metrics" in s for s in fake.the("policies")["statements"])
    assert writes(fake) == Counter({"PUT functions": 1, "PUT policies": 1})
    assert re.search(r"^  policy +tenancy +backup-tag-sync-policy +updated", r.stderr, re.M)


def test_no_reconcile_removes_the_schedules_and_their_statements(fake: Env) -> None:
    fake.deployed()
    r = deploy(fake, *STANDARD, "--skip-build", "--no-reconcile")
    assert fake.live("schedules") == []
    assert not any("resourceschedule" in s for s in fake.the("policies")["statements"])
    assert writes(fake) == Counter({"DELETE schedules": 2, "PUT policies": 1})
    assert len(re.findall(r"^  schedule +\S+ +backup-tag-sync-reconcile-\w+ +deleted ", r.stderr, re.M)) == 2


def test_policy_file_goes_inline(fake: Env, tmp_path: Path) -> None:
    fake.deployed()
    pol = tmp_path / "p.yaml"
    pol.write_text("version: 1\nrules:\n  - name: r\n    display_name: x\n")
    deploy(fake, *STANDARD, "--policy-file", str(pol), "--skip-build")
    cfg = fake.the("functions")["config"]
    assert cfg["TAG_POLICY"] == pol.read_text().rstrip("\n")
    assert "TAG_POLICY_URI" not in cfg


# ---- drift ---------------------------------------------------------------------------------


def test_drifted_policy_statement_is_updated_with_a_version_date(fake: Env) -> None:
    fake.deployed()
    want = list(fake.the("policies")["statements"])
    fake.edit(
        lambda c: fake.the("policies")["statements"].__setitem__(
            1, f"Allow {G} to manage volume-group-backups in tenancy"
        )
    )
    r = deploy(fake, *STANDARD, "--skip-build")
    [call] = [c for c in fake.calls() if c.mutating]
    assert call.words == ["iam", "policy", "update"]
    # the real CLI refuses --statements without --version-date
    assert call.opt("--version-date") == "" and "--force" in call.argv
    assert fake.the("policies")["statements"] == want
    assert fake.writes() == [("us-ashburn-1", "PUT", f"/20160918/policies/{fake.the('policies')['id']}")]
    assert re.search(r"^  policy +tenancy +backup-tag-sync-policy +updated", r.stderr, re.M)


def test_reordered_or_reflowed_statements_are_not_drift(fake: Env) -> None:
    fake.deployed()

    def reflow(c: object) -> None:
        p = fake.the("policies")
        p["statements"] = ["  " + x.replace(" to ", "  to ") for x in reversed(p["statements"])]

    fake.edit(reflow)
    deploy(fake, *STANDARD, "--skip-build")
    assert fake.writes() == []


def test_drifted_rule_schedule_config_and_matching_rule_are_updated(fake: Env) -> None:
    fake.deployed()
    want_cond = fake.the("rules")["condition"]

    def drift(c: object) -> None:
        fake.the("rules")["condition"] = json.dumps(
            {"eventType": ["com.oraclecloud.blockvolumes.updatevolumegroupbackup"]}
        )
        fake.the("rules")["isEnabled"] = False
        f = fake.the("functions")
        f["config"] = {**f["config"], "DRY_RUN": "true", "S3_ENDPOINT_URL": "https://x"}
        fake.the("dynamicGroups")["matchingRule"] = "ALL {resource.type = 'fnfunc'}"
        daily = next(s for s in fake.live("schedules") if s["displayName"].endswith("daily"))
        daily["recurrenceDetails"] = "0 12 * * *"

    fake.edit(drift)
    deploy(fake, *STANDARD, "--skip-build")
    assert writes(fake) == Counter(
        {"PUT rules": 1, "PUT functions": 1, "PUT dynamicGroups": 1, "PUT schedules": 1}
    )
    assert fake.the("rules")["condition"] == want_cond and fake.the("rules")["isEnabled"] is True
    cfg = fake.the("functions")["config"]
    assert (cfg["DRY_RUN"], cfg["S3_ENDPOINT_URL"]) == ("false", "https://x")  # keys we do not own are kept
    assert fake.the("dynamicGroups")["matchingRule"].endswith(
        f"resource.id = '{fake.the('functions')['id']}'}}"
    )
    assert sorted(s["recurrenceDetails"] for s in fake.live("schedules")) == ["0 3 * * *", "0 4 * * 0"]


def test_changed_cron_and_removed_target_reshape_the_schedules(fake: Env) -> None:
    deploy(fake, "--target-compartment", COMPARTMENT, "--target-compartment", TARGET_B, "--skip-build")
    assert len(fake.live("schedules")) == 4
    fake.clear_log()
    deploy(fake, "--target-compartment", TARGET_B, "--reconcile-schedule", "30 2 * * *", "--skip-build")
    daily = [s for s in fake.live("schedules") if s["displayName"].endswith("daily")]
    assert [(s["recurrenceDetails"], s["resources"][0]["parameters"][0]["value"]) for s in daily] == [
        ("30 2 * * *", schedule_body("2d", TARGET_B))
    ]
    assert len(fake.live("schedules")) == 2  # the two for COMPARTMENT were deleted
    assert writes(fake)["DELETE schedules"] == 2


def test_existing_unmarked_dynamic_group_is_not_taken_over(fake: Env) -> None:
    fake.edit(
        lambda c: c.data["dynamicGroups"].append(
            {
                "id": "ocid1.dynamicgroup.oc1..theirs",
                "name": "backup-tag-sync-dg",
                "compartmentId": TENANCY,
                "matchingRule": "ANY {instance.compartment.id = 'x'}",
                "lifecycleState": "ACTIVE",
                "freeformTags": {},
            }
        )
    )
    r = fake.run("deploy.sh", *BASE_ARGS)
    assert r.returncode == 1
    assert "a dynamic group named 'backup-tag-sync-dg' exists but has no managed-by" in r.stderr
    assert fake.writes() == []  # found before any change


# ---- --dry-run ---------------------------------------------------------------------------------


def test_dry_run_prints_every_command_and_changes_nothing(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--tag-namespace", "Operations", *NOTIFY, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == [] and not any(c.mutating for c in fake.calls())
    printed = [line for line in r.stderr.splitlines() if line.startswith("DRY-RUN: ")]
    assert [" ".join(p.split()[1:5]) for p in printed] == [
        "oci fn application create",
        "fn deploy --app backup-tag-sync",
        "oci fn function update",
        "oci logging log-group create",
        "oci logging log create",
        "oci resource-scheduler schedule create",
        "oci resource-scheduler schedule create",
        "oci iam dynamic-group create",
        "oci iam policy create",
        "oci events rule create",
        "oci ons topic create",
        "oci ons subscription create",
        "oci monitoring alarm create",
        "oci monitoring alarm create",
    ]
    assert "target.tag-namespace.name = '\\''Operations'\\''" in r.stderr
    assert "request.principal.id = '\\''<schedule-ocid:backup-tag-sync-reconcile-daily:" in r.stderr
    for c in fake.calls():
        if c.tool == "oci":
            assert c.words[-1] in ("list", "get") or "--help" in c.argv, c


def test_dry_run_after_deploy_shows_only_the_drift(fake: Env) -> None:
    fake.deployed()
    fake.edit(lambda c: fake.the("rules").update({"isEnabled": False}))
    r = fake.run("deploy.sh", *BASE_ARGS, *STANDARD, "--dry-run", "--skip-build")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == []
    printed = [line for line in r.stderr.splitlines() if line.startswith("DRY-RUN: ")]
    assert len(printed) == 1 and "oci events rule update" in printed[0] and "--is-enabled true" in printed[0]
