"""The checks `doctor` runs on one region of a deployment: each a line, ✓ or ✗ with the exact fix."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.cli.doctor.needs import ALL_KINDS, Deployment, PolicyNeeds, needs_of_text, statements
from sync.cli.doctor.oci_clients import DoctorClients

DEPLOY = "deploy/deploy.sh"
MARKER = ("managed-by", "backup-tag-sync")
CONFIG_KEYS = ("DRY_RUN", "LOG_LEVEL", "FUNCTION_ID", "FUNCTION_INVOKE_ENDPOINT")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    region: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        text = f"{mark} {self.name}: {self.detail}"
        return text if self.ok else f"{text}\n    fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "check": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass
class Target:
    """The deployment `doctor` looks at: deploy.sh's options that name things."""

    compartment: str
    tenancy: str
    app: str = "backup-tag-sync"
    function: str = "backup-tag-sync"
    prefix: str = ""
    targets: list[str] = field(default_factory=list)
    member_compartments: list[str] = field(default_factory=list)
    tag_namespaces: list[str] = field(default_factory=list)
    tag_namespace_compartment: str = ""
    backup: str = ""

    @property
    def p(self) -> str:
        return self.prefix or self.app


def norm(s: str) -> str:
    return " ".join(s.split())


class Doctor:
    """Runs the checks in order; later checks use what earlier ones found (function, policy...)."""

    def __init__(self, t: Target, oci: DoctorClients, region: str = "") -> None:
        self.t, self.oci, self.region = t, oci, region
        self.fn: Any = None
        self.app: Any = None
        self.needs: PolicyNeeds = ALL_KINDS
        self.schedules: list[Any] = []
        self.results: list[Check] = []

    def add(self, name: str, ok: bool, detail: str, fix: str = "") -> Check:
        c = Check(name, ok, detail, fix, self.region)
        self.results.append(c)
        return c

    def run(self) -> list[Check]:
        steps: list[Callable[[], None]] = [
            self.application,
            self.function,
            self.config,
            self.policy,
            self.rule,
            self.dynamic_group,
            self.iam,
            self.log,
            self.schedule_checks,
            self.invokes,
            self.metrics,
        ]
        for step in steps:
            try:
                step()
            except _Stop:
                break
            except Exception as exc:  # an OCI call that failed: the check fails with its reason
                self.add(step.__name__, False, _why(exc), "check the OCI CLI config and your permissions")
        return self.results

    # ---- application, function, config, policy ---------------------------------------------

    def _one_active(self, check: str, items: list[Any], missing: str) -> Any:
        live = [i for i in items if i.lifecycle_state == "ACTIVE"]
        if not live:
            self.add(check, False, missing, f"run {DEPLOY}")
            raise _Stop
        return live[0]

    def application(self) -> None:
        found = self.oci.functions.list_applications(self.t.compartment, display_name=self.t.app).data
        self.app = self._one_active("application", found, f"'{self.t.app}' not found in {self.t.compartment}")
        self.add("application", True, f"{self.t.app} {self.app.id}")

    def function(self) -> None:
        found = self.oci.functions.list_functions(self.app.id, display_name=self.t.function).data
        summary = self._one_active("function", found, f"'{self.t.function}' not in application {self.t.app}")
        self.fn = self.oci.functions.get_function(summary.id).data
        self.add("function", True, f"{self.t.function} {self.fn.id}")

    def config(self) -> None:
        cfg = dict(self.fn.config or {})
        missing = [k for k in CONFIG_KEYS if not cfg.get(k)]
        wrong = [] if cfg.get("FUNCTION_ID") in (None, self.fn.id) else ["FUNCTION_ID"]
        if missing or wrong:
            self.add(
                "config",
                False,
                f"missing {', '.join(missing) or '-'}; wrong {', '.join(wrong) or '-'}",
                f"re-run {DEPLOY} (it rewrites the keys it owns)",
            )
        else:
            src = (
                "TAG_POLICY"
                if "TAG_POLICY" in cfg
                else cfg.get("TAG_POLICY_URI", "the image's tag_policy.yaml")
            )
            self.add("config", True, f"keys present; policy from {src}")

    def policy(self) -> None:
        from sync.cli import lint_live
        from sync.cli.common import policy_loader
        from sync.policy.loader import PolicyError

        cfg = {k: v for k, v in (self.fn.config or {}).items() if k in ("TAG_POLICY", "TAG_POLICY_URI")}
        env = {**self.oci.env, **cfg}
        if "TAG_POLICY" not in cfg:
            env.pop("TAG_POLICY", None)
        try:
            policy = policy_loader(None, env, self.oci.clients)()
        except PolicyError as exc:
            self.add(
                "policy",
                False,
                "; ".join(exc.errors)[:500],
                "fix the policy (`backup-tag-sync lint FILE`), then re-run " + DEPLOY,
            )
            return
        self.needs = needs_of_text(_policy_text(cfg, self.oci))
        out, err = io.StringIO(), io.StringIO()
        rc = lint_live.run(policy, argparse.Namespace(live=True, tag_schema=None), out, err)
        if rc != 0:
            self.add(
                "policy",
                False,
                err.getvalue().strip().replace("\n", "; ")[:500],
                "fix the policy or the tag namespaces, then re-run " + DEPLOY,
            )
        else:
            self.add("policy", True, f"{len(policy.rules)} rule(s) load; lint --live passes")

    # ---- Events, IAM -------------------------------------------------------------------------

    def rule(self) -> None:
        name = f"{self.t.p}-rule"
        found = []
        for place in dict.fromkeys([self.t.compartment, self.t.tenancy]):
            for r in self.oci.events.list_rules(place, display_name=name).data:
                if r.lifecycle_state not in ("DELETED", "DELETING"):
                    found.append(self.oci.events.get_rule(r.id).data)
        if len(found) != 1:
            self.add(
                "events rule",
                False,
                f"{len(found)} rules named '{name}' (want 1)",
                f"re-run {DEPLOY} (it keeps one and deletes the others)",
            )
            return
        r = found[0]
        cond = json.loads(r.condition or "{}")
        problems = []
        if not r.is_enabled:
            problems.append("disabled")
        if sorted(cond.get("eventType") or []) != sorted(self.needs.event_types):
            problems.append(f"event types {cond.get('eventType')} != {self.needs.event_types}")
        targets = self.t.targets or [self.t.compartment]
        if sorted((cond.get("data") or {}).get("compartmentId") or []) != sorted(targets):
            problems.append(f"compartments {(cond.get('data') or {}).get('compartmentId')} != {targets}")
        acts = [
            (a.action_type, getattr(a, "function_id", None), a.is_enabled) for a in (r.actions.actions or [])
        ]
        if acts != [("FAAS", self.fn.id, True)]:
            problems.append(f"actions {acts} do not invoke only this function")
        if problems:
            self.add("events rule", False, "; ".join(problems), f"re-run {DEPLOY}")
        else:
            self.add(
                "events rule",
                True,
                f"{name} enabled, {len(self.needs.event_types)} event type(s), {len(targets)} compartment(s)",
            )

    def dynamic_group(self) -> None:
        name = f"{self.t.p}-dg"
        dgs = [
            d
            for d in self.oci.identity.list_dynamic_groups(self.t.tenancy, name=name).data
            if d.lifecycle_state == "ACTIVE"
        ]
        if not dgs or f"'{self.fn.id}'" not in dgs[0].matching_rule:
            self.add(
                "dynamic group", False, f"'{name}' missing or not matching {self.fn.id}", f"re-run {DEPLOY}"
            )
        else:
            self.add("dynamic group", True, f"{name} matches the function")

    def iam(self) -> None:
        name = f"{self.t.p}-policy"
        pols = [
            p
            for p in self.oci.identity.list_policies(self.t.tenancy, name=name).data
            if p.lifecycle_state == "ACTIVE"
        ]
        if not pols:
            self.add("iam policy", False, f"'{name}' not found", f"re-run {DEPLOY}")
            return
        self.schedules = self._schedules()
        cfg = self.fn.config or {}
        d = Deployment(
            tenancy=self.t.tenancy,
            compartment=self.t.compartment,
            dynamic_group=f"{self.t.p}-dg",
            targets=self.t.targets or [self.t.compartment],
            needs=self.needs,
            member_compartments=self.t.member_compartments,
            namespaces=self.t.tag_namespaces,
            namespace_compartment=self.t.tag_namespace_compartment,
            metrics_compartment=cfg.get("METRICS_COMPARTMENT_ID", ""),
            schedule_ids=[s.id for s in self.schedules],
        )
        want = {norm(s) for s in statements(d)}
        have = {norm(s) for s in pols[0].statements}
        missing = sorted(want - have)
        # Statements of ours beyond what the deployment needs (an operator's extra namespaces and
        # an oci:// policy's bucket are deploy options doctor was not given: allowed).
        extra = sorted(
            s for s in have - want if "target.tag-namespace.name" not in s and "read objects" not in s
        )
        if missing or extra:
            detail = "; ".join(
                [*(f"missing: {s}" for s in missing), *(f"broader than needed: {s}" for s in extra)]
            )
            self.add(
                "iam policy", False, detail, f"re-run {DEPLOY} with the same options (it rewrites {name})"
            )
        else:
            self.add(
                "iam policy", True, f"{name}: {len(want)} statement(s) as deploy writes them, none broader"
            )

    # ---- logs, schedules, invokes, metrics -----------------------------------------------------

    def log(self) -> None:
        lm = self.oci.logging
        for g in lm.list_log_groups(self.t.tenancy, is_compartment_id_in_subtree=True).data:
            for lg in lm.list_logs(g.id, source_resource=self.app.id).data:
                src = lg.configuration.source if lg.configuration else None
                if (
                    src is not None
                    and getattr(src, "category", None) == "invoke"
                    and lg.lifecycle_state == "ACTIVE"
                ):
                    if not lg.is_enabled:
                        self.add(
                            "invoke log",
                            False,
                            f"{lg.display_name} is disabled: the function's output is lost",
                            f"oci logging log update --log-group-id {g.id} --log-id {lg.id}"
                            " --is-enabled true",
                        )
                    else:
                        self.add(
                            "invoke log", True, f"{lg.display_name} in log group {g.display_name}, enabled"
                        )
                    return
        self.add(
            "invoke log",
            False,
            f"no invoke log for application {self.t.app}",
            f"re-run {DEPLOY} (it creates {self.t.p}-invoke)",
        )

    def _schedules(self) -> list[Any]:
        res = []
        for name in (f"{self.t.p}-reconcile-daily", f"{self.t.p}-reconcile-weekly"):
            coll = self.oci.scheduler.list_schedules(
                compartment_id=self.t.compartment, display_name=name
            ).data
            res += [
                s
                for s in coll.items
                if (s.freeform_tags or {}).get(MARKER[0]) == MARKER[1]
                and s.lifecycle_state not in ("DELETED", "DELETING")
            ]
        return res

    def schedule_checks(self) -> None:
        for s in self.schedules:
            full = self.oci.scheduler.get_schedule(s.id).data
            target = (full.freeform_tags or {}).get("backup-tag-sync-target", "")
            res = full.resources or []
            bodies = [p.value for r in res for p in (r.parameters or []) if p.parameter_type == "BODY"]
            sweep = bodies[0].get("sweep", {}) if bodies and isinstance(bodies[0], dict) else {}
            problems = []
            if full.lifecycle_state != "ACTIVE":
                problems.append(f"state {full.lifecycle_state}")
            if [r.id for r in res] != [self.fn.id]:
                problems.append("does not target this function")
            if sweep.get("compartmentId") != target or sweep.get("recursive") is not True:
                problems.append(f"body {bodies[:1]} is not the reconcile sweep of {target}")
            last = f"last run {full.last_run_status or 'never'}"
            if full.last_run_status and full.last_run_status not in ("SUCCEEDED",):
                problems.append(last)
            name = f"schedule {full.display_name}"
            if problems:
                self.add(
                    name,
                    False,
                    "; ".join(problems),
                    f"re-run {DEPLOY}"
                    if "last run" not in problems[-1]
                    else "read the invoke log for that run",
                )
            else:
                self.add(name, True, f"{full.recurrence_details} -> {target}; {last}")

    def invokes(self) -> None:
        endpoint = self.fn.invoke_endpoint
        backup = self.t.backup or self._newest_backup()
        if backup:
            self._invoke(
                "dry-run invoke (manual request)", endpoint, {"volumeGroupBackupId": backup, "dryRun": True}
            )
        else:
            self.add("dry-run invoke (manual request)", False, "no backup to try", "pass --backup OCID")
        for s in self.schedules[:1]:
            full = self.oci.scheduler.get_schedule(s.id).data
            body = next(p.value for r in full.resources for p in r.parameters if p.parameter_type == "BODY")
            body = json.loads(json.dumps(body))
            body.setdefault("sweep", {})["dryRun"] = True
            self._invoke(f"dry-run invoke (body of {full.display_name})", endpoint, body)

    def _newest_backup(self) -> str:
        targets = self.t.targets or [self.t.compartment]
        items = self.oci.core.list_volume_group_backups(
            targets[0], limit=1, sort_by="TIMECREATED", sort_order="DESC"
        ).data
        return str(items[0].id) if items else ""

    def _invoke(self, name: str, endpoint: str, body: dict[str, Any]) -> None:
        resp = self.oci.invoker(endpoint).invoke_function(self.fn.id, invoke_function_body=json.dumps(body))
        raw = resp.data.content if hasattr(resp.data, "content") else resp.data.text
        try:
            answer = json.loads(raw)
        except ValueError:
            self.add(name, False, f"answer is not JSON: {raw[:200]!r}", "read the invoke log")
            return
        status = answer.get("status") if isinstance(answer, dict) else None
        shown = json.dumps(answer)[:300]
        if status in ("planned", "unchanged", "updated") or (
            isinstance(answer, dict) and "counts" in answer and status not in ("rejected", "failed")
        ):
            self.add(name, True, shown)
        else:
            self.add(
                name, False, shown, "read the answer's error and the invoke log; fix, then re-run doctor"
            )

    def metrics(self) -> None:
        comp = (self.fn.config or {}).get("METRICS_COMPARTMENT_ID")
        if not comp:
            self.add("metrics", True, "off (no METRICS_COMPARTMENT_ID)")
            return
        from oci.monitoring.models import SummarizeMetricsDataDetails

        end = datetime.now(UTC)
        details = SummarizeMetricsDataDetails(
            namespace="backup_tag_sync",
            query="outcomes[1h].sum()",
            start_time=end - timedelta(hours=24),
            end_time=end,
        )
        data = self.oci.monitoring.summarize_metrics_data(comp, details).data
        if any(d.aggregated_datapoints for d in data):
            self.add("metrics", True, f"backup_tag_sync outcomes arrived in the last 24 h ({comp})")
        else:
            self.add(
                "metrics",
                False,
                f"no backup_tag_sync metrics in {comp} in the last 24 h",
                f"check the policy grants 'use metrics in {comp}' and the invoke log for 'metrics' errors",
            )


class _Stop(Exception):
    """Nothing further can be checked (no application or function)."""


def _why(exc: Exception) -> str:
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    msg = getattr(exc, "message", None) or str(exc)
    return f"{status} {code}: {msg}"[:300] if status else f"{type(exc).__name__}: {msg}"[:300]


def _policy_text(cfg: dict[str, str], oci: DoctorClients) -> str:
    """The deployed policy's text (needs are read from the raw rules); "" when it cannot be read."""
    if "TAG_POLICY" in cfg:
        return cfg["TAG_POLICY"]
    uri = cfg.get("TAG_POLICY_URI", "")
    if uri.startswith("oci://") and "@" in uri and "/" in uri.split("@", 1)[1]:
        bucket, rest = uri[len("oci://") :].split("@", 1)
        namespace, name = rest.split("/", 1)
        data = oci.object_storage.get_object(namespace, bucket, name).data
        return str(data.content.decode("utf-8"))
    from sync.function.fnrunner import ROOT

    path = uri[len("file://") :] if uri.startswith("file://") else str(ROOT / "tag_policy.yaml")
    if path == "/function/tag_policy.yaml":  # the image's own copy is this checkout's
        path = str(ROOT / "tag_policy.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return ""  # not readable here (s3://): every kind is assumed


def lines(results: list[Check]) -> Iterator[str]:
    for c in results:
        yield c.line()
