"""`backup-tag-sync doctor` against a deployment the real deploy.sh made on the control-plane stub.

The SDK reads the stub (Functions, Events, Identity, Logging, Resource Scheduler, Monitoring) and
the emulator (Block Storage). The stub forwards InvokeFunction to the real FDK running func.py
against the emulator, so the dry-run invokes are the function's own answers, and its metrics
reach the stub's Monitoring. Each broken state is one thing changed on the stub."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sync.cli.main import main
from sync.emulator import ApiKey, EmulatorServer
from sync.emulator.functions import forward_to_unix_socket
from sync.function.fnrunner import FdkProcess
from tests.deploy.conftest import BASE_ARGS, COMPARTMENT, HOME, TENANCY, Env

# The emulator's sample compartment: the deployment's target, so its sweeps find backups.
PROD = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
ARGS = ("--target-compartment", PROD)


@pytest.fixture
def deployed(fake: Env, emulator: EmulatorServer, api_key: ApiKey) -> Iterator[Env]:
    fake.edit(lambda c: c.data["compartments"].__setitem__(PROD, {"name": "prod", "compartmentId": TENANCY}))
    r = fake.run("deploy.sh", *BASE_ARGS, *ARGS)
    assert r.returncode == 0, r.stderr
    fn = fake.the("functions")
    env = {
        **emulator.client_env(api_key),
        "OCI_IDENTITY_ENDPOINT": emulator.url,
        "OCI_MONITORING_ENDPOINT": fake.cloud.data["endpoints"][HOME],
        "METRICS_COMPARTMENT_ID": fn["config"]["METRICS_COMPARTMENT_ID"],
        "LOG_LEVEL": "warning",
    }
    with FdkProcess(env) as proc:
        fake.cloud.forwards[fn["id"]] = forward_to_unix_socket(proc.socket_path)
        yield fake
    fake.cloud.forwards.clear()


def doctor(
    fake: Env, emulator: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str]:
    stub = fake.cloud.data["endpoints"][HOME]
    env = {
        **emulator.client_env(api_key),  # the stub does not check signatures; the emulator does
        "OCI_TENANCY": TENANCY,
        **{
            k: stub
            for k in (
                "OCI_FUNCTIONS_ENDPOINT",
                "OCI_EVENTS_ENDPOINT",
                "OCI_IDENTITY_ENDPOINT",
                "OCI_LOGGING_ENDPOINT",
                "OCI_RESOURCE_SCHEDULER_ENDPOINT",
                "OCI_MONITORING_ENDPOINT",
            )
        },
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("TAG_POLICY", raising=False)
    monkeypatch.delenv("TAG_POLICY_URI", raising=False)
    out, err = io.StringIO(), io.StringIO()
    rc = main(["doctor", "--compartment", COMPARTMENT, *ARGS, *extra], out, err)
    return rc, out.getvalue() + err.getvalue()


def failed(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith("✗")]


def test_fresh_deploy_is_all_green(
    deployed: Env, emulator: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, text = doctor(deployed, emulator, api_key, monkeypatch)
    assert rc == 0, text
    assert failed(text) == []
    for name in (
        "application",
        "function",
        "config",
        "policy",
        "events rule",
        "dynamic group",
        "iam policy",
        "invoke log",
        "schedule backup-tag-sync-reconcile-daily",
        "schedule backup-tag-sync-reconcile-weekly",
        "dry-run invoke (manual request)",
        "dry-run invoke (body of backup-tag-sync-reconcile-daily)",
        "metrics",
    ):
        assert f"✓ {name}:" in text, (name, text)
    # the answers are the function's own: a planned manual request, a sweep with counts
    manual = next(ln for ln in text.splitlines() if "manual request" in ln)
    assert '"status": "planned"' in manual or '"status": "unchanged"' in manual
    assert '"counts"' in next(ln for ln in text.splitlines() if "body of" in ln)
    rc, js = doctor(deployed, emulator, api_key, monkeypatch, "--json")
    data = json.loads(js)
    assert rc == 0 and data["ok"] is True and len(data["checks"]) == 13


def _first(fake: Env, coll: str, pred: Callable[[dict[str, Any]], bool] = lambda o: True) -> dict[str, Any]:
    return next(o for o in fake.live(coll) if pred(o))


def disable_rule(f: Env) -> None:
    f.the("rules")["isEnabled"] = False


def second_rule(f: Env) -> None:
    f.cloud.coll(HOME, "rules").append(
        {**f.the("rules"), "id": "ocid1.eventrule.oc1.iad.old", "compartmentId": TENANCY}
    )


def narrow_events(f: Env) -> None:
    r = f.the("rules")
    cond = json.loads(r["condition"])
    cond["eventType"] = cond["eventType"][:1]
    r["condition"] = json.dumps(cond)


def wrong_dynamic_group(f: Env) -> None:
    f.the("dynamicGroups")["matchingRule"] = "ALL {resource.type = 'fnfunc'}"


def drop_statement(f: Env) -> None:
    f.the("policies")["statements"] = [
        s for s in f.the("policies")["statements"] if "use volume-backups" not in s
    ]


def broader_statement(f: Env) -> None:
    f.the("policies")["statements"].append(
        "Allow dynamic-group backup-tag-sync-dg to manage all-resources in tenancy"
    )


def disable_log(f: Env) -> None:
    f.the("logs")["isEnabled"] = False


def change_schedule_body(f: Env) -> None:
    s = _first(f, "schedules", lambda o: o["displayName"].endswith("weekly"))
    s["resources"][0]["parameters"][0]["value"] = {"sweep": {"compartmentId": COMPARTMENT}}


def drop_config_key(f: Env) -> None:
    fn = f.the("functions")
    fn["config"] = {k: v for k, v in fn["config"].items() if k != "FUNCTION_ID"}


def bad_inline_policy(f: Env) -> None:
    fn = f.the("functions")
    fn["config"] = {**fn["config"], "TAG_POLICY": "version: 1\nrules:\n  - name: x\n    overwrite: maybe\n"}


BROKEN = [
    (disable_rule, "events rule", "disabled", "re-run deploy/deploy.sh"),
    (second_rule, "events rule", "2 rules named 'backup-tag-sync-rule'", "deletes the others"),
    (narrow_events, "events rule", "event types", "re-run deploy/deploy.sh"),
    (wrong_dynamic_group, "dynamic group", "not matching", "re-run deploy/deploy.sh"),
    (
        drop_statement,
        "iam policy",
        "missing: Allow dynamic-group backup-tag-sync-dg to use volume-backups",
        "rewrites backup-tag-sync-policy",
    ),
    (
        broader_statement,
        "iam policy",
        "broader than needed: Allow dynamic-group backup-tag-sync-dg to manage all-resources",
        "rewrites",
    ),
    (disable_log, "invoke log", "is disabled", "oci logging log update"),
    (
        change_schedule_body,
        "schedule backup-tag-sync-reconcile-weekly",
        "is not the reconcile sweep",
        "re-run deploy/deploy.sh",
    ),
    (drop_config_key, "config", "missing FUNCTION_ID", "re-run deploy/deploy.sh"),
    (bad_inline_policy, "policy", "overwrite", "backup-tag-sync lint FILE"),
]


@pytest.mark.parametrize(("breaker", "check", "detail", "fix"), BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_each_broken_state_gives_exactly_its_failure_and_fix(
    deployed: Env,
    emulator: EmulatorServer,
    api_key: ApiKey,
    monkeypatch: pytest.MonkeyPatch,
    breaker: Callable[[Env], None],
    check: str,
    detail: str,
    fix: str,
) -> None:
    deployed.edit(lambda c: breaker(deployed))
    rc, text = doctor(deployed, emulator, api_key, monkeypatch)
    assert rc == 1, text
    [line] = failed(text)
    assert line.startswith(f"✗ {check}:") and detail in line, text
    after = text.split(line, 1)[1].splitlines()[1]
    assert after.strip().startswith("fix:") and fix in after, text


def test_no_function_stops_after_saying_so(
    deployed: Env, emulator: EmulatorServer, api_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed.edit(lambda c: deployed.the("functions").update({"lifecycleState": "DELETED"}))
    rc, text = doctor(deployed, emulator, api_key, monkeypatch)
    assert rc == 1
    assert failed(text) == ["✗ function: 'backup-tag-sync' not in application backup-tag-sync"]
    assert "fix: run deploy/deploy.sh" in text and "events rule" not in text
