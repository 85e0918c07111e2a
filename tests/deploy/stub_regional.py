"""Regional operations of the control-plane stub: Functions, Events, Logging, Resource Scheduler,
Notifications and Monitoring (see stub_services for the conventions)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.deploy.cloud_state import NOW, ApiError, Cloud, not_found, require
from tests.deploy.stub_services import UNLOCKED, Result, decode, listed, ok, route, update_fields

# ---- Functions ------------------------------------------------------------------------------


@route("GET", r"/20260325/applications")
def list_applications(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    return ok(
        listed(c, region, "applications", q, {"compartmentId": "compartmentId", "displayName": "displayName"})
    )


@route("POST", r"/20260325/applications")
def create_application(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "displayName", "subnetIds")
    c.compartment(b["compartmentId"])
    for s in b["subnetIds"]:
        if s not in c.data["subnets"]:
            raise not_found(f"Subnet {s}")
    c.unique_name(region, "applications", "displayName", b["displayName"], compartmentId=b["compartmentId"])
    o = {
        "id": c.new_id("fnapp", region),
        "compartmentId": b["compartmentId"],
        "displayName": b["displayName"],
        "subnetIds": b["subnetIds"],
        "config": b.get("config") or {},
        "lifecycleState": "ACTIVE",
        "shape": "GENERIC_X86",
        "timeCreated": NOW,
        **c.tags(b),
    }
    c.coll(region, "applications").append(o)
    return ok(o)


@route("GET", r"/20260325/applications/(?P<id>[^/]+)")
def get_application(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "applications", m["id"]))


@route("DELETE", r"/20260325/applications/(?P<id>[^/]+)")
def delete_application(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    app = c.get(region, "applications", m["id"])
    if any(f["applicationId"] == app["id"] for f in c.live(region, "functions")):
        raise ApiError(409, "Conflict", "Cannot delete an application that still has functions")
    app["lifecycleState"] = "DELETED"
    return ok(None, 204)


@route("GET", r"/20260325/functions")
def list_functions(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "applicationId")
    res = listed(c, region, "functions", q, {"applicationId": "applicationId", "displayName": "displayName"})
    return ok([{k: v for k, v in f.items() if k != "config"} for f in res])  # FunctionSummary: no config


@route("GET", r"/20260325/functions/(?P<id>[^/]+)")
def get_function(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "functions", m["id"]))


@route("PUT", r"/20260325/functions/(?P<id>[^/]+)")
def update_function(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    f = c.get(region, "functions", m["id"])
    cfg = b.get("config")
    if cfg is not None and (not isinstance(cfg, dict) or not all(isinstance(v, str) for v in cfg.values())):
        raise ApiError(400, "InvalidParameter", "config must map strings to strings")
    if cfg is not None and len(str(cfg)) > 4096:
        raise ApiError(400, "InvalidParameter", "config is larger than 4 KB")
    update_fields(f, b, ("config", "freeformTags", "image", "memoryInMBs", "timeoutInSeconds"))
    return ok(f)


@route("DELETE", r"/20260325/functions/(?P<id>[^/]+)")
def delete_function(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "functions", m["id"])["lifecycleState"] = "DELETED"
    return ok(None, 204)


def invoke_function(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    """InvokeFunction. Runs without the stub's lock: a function registered in `c.forwards` (the
    real FDK running func.py, tests/deploy/test_doctor.py) may call the stub back (metrics)."""
    with c.lock:
        c.get(region, "functions", m["id"])
        forward = c.forwards.get(m["id"])
    if forward is None:  # no runner: the stub's own answer
        return ok({"status": "planned", "via": "oci", "request": b})
    raw = b.encode() if isinstance(b, str) else json.dumps(b).encode()
    status, answer = forward(raw, 60.0)
    # What Fn passes on: the function's answer, or 502 when it failed.
    return (200 if status == 200 else 502), answer, {"content-type": "application/json"}


UNLOCKED.append(("POST", re.compile(r"/20260325/functions/(?P<id>[^/]+)/actions/invoke$"), invoke_function))


def fake_fn_deploy(c: Cloud, region: str, app_name: str, compartment: str, name: str, image: str) -> str:
    """What `fn deploy` does to the control plane (called by the fake fn, not over the API)."""
    apps = [
        a
        for a in c.live(region, "applications")
        if a["displayName"] == app_name and a["compartmentId"] == compartment
    ]
    if not apps:
        raise ApiError(404, "NotFound", f"app {app_name} not found")
    app = apps[0]
    for f in c.live(region, "functions"):
        if f["applicationId"] == app["id"] and f["displayName"] == name:
            f["image"] = image
            return "updated"
    fid = c.new_id("fnfunc", region)
    c.coll(region, "functions").append(
        {
            "id": fid,
            "displayName": name,
            "applicationId": app["id"],
            "compartmentId": app["compartmentId"],
            "lifecycleState": "ACTIVE",
            "image": image,
            "memoryInMBs": 256,
            "timeoutInSeconds": 120,
            "config": {},
            "invokeEndpoint": c.data["endpoints"][region],
            "timeCreated": NOW,
            "freeformTags": {},
            "definedTags": {},
        }
    )
    return "created"


# ---- Events -----------------------------------------------------------------------------------


def rule_actions(c: Cloud, region: str, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or not isinstance(given.get("actions"), list):
        raise ApiError(400, "InvalidParameter", "actions must be an ActionDetailsList")
    out = []
    for a in given["actions"]:
        if a.get("actionType") == "FAAS":
            c.get(region, "functions", a.get("functionId"))
        out.append({**a, "id": c.new_id("eventaction", region), "lifecycleState": "ACTIVE"})
    return {"actions": out}


@route("GET", r"/20181201/rules")
def list_rules(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    res = listed(c, region, "rules", q, {"compartmentId": "compartmentId", "displayName": "displayName"})
    return ok([{k: v for k, v in r.items() if k != "actions"} for r in res])  # RuleSummary


@route("POST", r"/20181201/rules")
def create_rule(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "displayName", "condition", "actions")
    c.compartment(b["compartmentId"])
    decode(b["condition"], "condition")
    o = {
        "id": c.new_id("eventrule", region),
        "compartmentId": b["compartmentId"],
        "displayName": b["displayName"],
        "description": b.get("description"),
        "condition": b["condition"],
        "isEnabled": bool(b.get("isEnabled")),
        "actions": rule_actions(c, region, b["actions"]),
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        **c.tags(b),
    }
    c.coll(region, "rules").append(o)
    return ok(o)


@route("GET", r"/20181201/rules/(?P<id>[^/]+)")
def get_rule(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "rules", m["id"]))


@route("PUT", r"/20181201/rules/(?P<id>[^/]+)")
def update_rule(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    r = c.get(region, "rules", m["id"])
    if b.get("condition") is not None:
        decode(b["condition"], "condition")
    if b.get("actions") is not None:
        r["actions"] = rule_actions(c, region, b["actions"])
    update_fields(r, b, ("displayName", "description", "isEnabled", "condition", "freeformTags"))
    return ok(r)


@route("DELETE", r"/20181201/rules/(?P<id>[^/]+)")
def delete_rule(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "rules", m["id"])["lifecycleState"] = "DELETED"
    return ok(None, 204)
