"""The control-plane operations deploy/*.sh use, one function per REST operation, over a Cloud.

Each returns (status, body, headers). Paths and models follow Oracle's API reference for
Identity 20160918, Core 20160918 (GetSubnet), Object Storage (GetBucket), Functions 20260325 (the version oci 2.189.0 calls),
Events 20181201, Logging Management 20200531, Resource Scheduler 20240430, Notifications
20181201 and Monitoring 20180401.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tests.deploy.cloud_state import NOW, ApiError, Cloud, not_found, require

Result = tuple[int, Any, dict[str, str]]
REGION_KEYS = {"us-ashburn-1": "IAD", "us-phoenix-1": "PHX", "eu-frankfurt-1": "FRA"}
Handler = Callable[[Cloud, str, "re.Match[str]", dict[str, str], dict[str, Any]], Result]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
UNLOCKED: list[tuple[str, re.Pattern[str], Handler]] = []  # routes that take the lock themselves


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern + r"$"), fn))
        return fn

    return deco


def ok(body: Any, status: int = 200, **headers: str) -> Result:
    return status, body, headers


def listed(c: Cloud, region: str, coll: str, q: dict[str, str], filters: dict[str, str]) -> list[Any]:
    res = []
    for o in c.live(region, coll):
        if all(q.get(p) is None or o.get(f) == q[p] for p, f in filters.items()):
            res.append(o)
    return res


def update_fields(o: dict[str, Any], body: dict[str, Any], fields: tuple[str, ...]) -> None:
    for f in fields:
        if f in body and body[f] is not None:
            o[f] = body[f]


# ---- Identity ------------------------------------------------------------------------------


@route("GET", r"/20160918/regions")
def list_regions(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok([{"key": REGION_KEYS.get(r, r[:3].upper()), "name": r} for r in c.regions])


@route("GET", r"/20160918/tenancies/(?P<t>[^/]+)/regionSubscriptions")
def list_region_subscriptions(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    if m["t"] != c.tenancy:
        raise not_found("Tenancy")
    return ok(
        [
            {
                "regionKey": REGION_KEYS.get(r, r[:3].upper()),
                "regionName": r,
                "status": "READY",
                "isHomeRegion": i == 0,
            }
            for i, r in enumerate(c.regions)
            if r in c.data.get("subscribed", c.regions)
        ]
    )


@route("GET", r"/20160918/compartments/(?P<id>[^/]+)")
def get_compartment(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    comp = c.data["compartments"].get(m["id"])
    if comp is None:
        raise not_found("Compartment")
    return ok({"id": m["id"], "lifecycleState": "ACTIVE", "timeCreated": NOW, "description": "", **comp})


@route("GET", r"/20160918/tagNamespaces")
def list_tag_namespaces(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    return ok([n for n in c.data["tagNamespaces"] if n["compartmentId"] == q["compartmentId"]])


def iam_list(kind: str) -> Handler:
    def fn(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
        require(q, "compartmentId")
        return ok(listed(c, region, kind, q, {"compartmentId": "compartmentId", "name": "name"}))

    return fn


route("GET", r"/20160918/dynamicGroups")(iam_list("dynamicGroups"))
route("GET", r"/20160918/policies")(iam_list("policies"))


@route("POST", r"/20160918/dynamicGroups")
def create_dynamic_group(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "name", "description", "matchingRule")
    if b["compartmentId"] != c.tenancy:
        raise ApiError(400, "InvalidParameter", "dynamic groups live in the tenancy")
    c.unique_name(region, "dynamicGroups", "name", b["name"])
    o = {
        "id": c.new_id("dynamicgroup"),
        "compartmentId": c.tenancy,
        "name": b["name"],
        "description": b["description"],
        "matchingRule": b["matchingRule"],
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        **c.tags(b),
    }
    c.data["dynamicGroups"].append(o)
    return ok(o)


@route("POST", r"/20160918/policies")
def create_policy(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "name", "description", "statements")
    c.compartment(b["compartmentId"])
    c.unique_name(region, "policies", "name", b["name"])
    check_statements(b["statements"])
    o = {
        "id": c.new_id("policy"),
        "compartmentId": b["compartmentId"],
        "name": b["name"],
        "description": b["description"],
        "statements": b["statements"],
        "versionDate": b.get("versionDate"),
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        **c.tags(b),
    }
    c.data["policies"].append(o)
    return ok(o)


def check_statements(statements: Any) -> None:
    if not isinstance(statements, list) or not statements:
        raise ApiError(400, "InvalidParameter", "statements must be a non-empty list")
    for s in statements:
        if not isinstance(s, str) or not re.match(r"(?i)^\s*(allow|define|endorse|admit)\s", s) or "\n" in s:
            raise ApiError(400, "InvalidParameter", f"Invalid policy statement: {s!r}")


def iam_item(kind: str, fields: tuple[str, ...]) -> tuple[Handler, Handler, Handler]:
    def get(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
        return ok(c.get(region, kind, m["id"]))

    def put(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
        o = c.get(region, kind, m["id"])
        if "statements" in b:
            check_statements(b["statements"])
        update_fields(o, b, fields)
        return ok(o)

    def delete(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
        c.get(region, kind, m["id"])["lifecycleState"] = "DELETED"
        return ok(None, 204)

    return get, put, delete


for _kind, _fields in (
    ("dynamicGroups", ("description", "matchingRule", "freeformTags")),
    ("policies", ("description", "statements", "versionDate", "freeformTags")),
):
    _get, _put, _delete = iam_item(_kind, _fields)
    route("GET", f"/20160918/{_kind}/(?P<id>[^/]+)")(_get)
    route("PUT", f"/20160918/{_kind}/(?P<id>[^/]+)")(_put)
    route("DELETE", f"/20160918/{_kind}/(?P<id>[^/]+)")(_delete)


# ---- Core, Object Storage ---------------------------------------------------------------------


@route("GET", r"/20160918/subnets/(?P<id>[^/]+)")
def get_subnet(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    s = c.data["subnets"].get(m["id"])
    if s is None:
        raise not_found("Subnet")
    return ok(
        {
            "id": m["id"],
            "lifecycleState": "AVAILABLE",
            "cidrBlock": "10.0.1.0/24",
            "vcnId": "ocid1.vcn.oc1..v",
            **s,
        }
    )


@route("GET", r"/n/(?P<ns>[^/]+)/b/(?P<b>[^/]+)")
def get_bucket(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    bk = c.data["buckets"].get(f"{m['ns']}/{m['b']}")
    if bk is None:
        raise ApiError(404, "BucketNotFound", f"Either the bucket named '{m['b']}' does not exist")
    return ok({"name": m["b"], "namespace": m["ns"], "createdBy": "u", "etag": "e", "timeCreated": NOW, **bk})


@route("GET", r"/n/?")
def get_namespace(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.data.get("namespace", "acmens"))


def _object(c: Cloud, m: Any) -> tuple[str, dict[str, Any]]:
    key = f"{m['ns']}/{m['b']}"
    if key not in c.data["buckets"]:
        raise ApiError(404, "BucketNotFound", f"Either the bucket named '{m['b']}' does not exist")
    return key, c.data.setdefault("objects", {})


OBJECT = r"/n/(?P<ns>[^/]+)/b/(?P<b>[^/]+)/o/(?P<o>.+)"


@route("PUT", OBJECT)
def put_object(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    key, objects = _object(c, m)
    body = b if isinstance(b, str) else json.dumps(b)
    meta = {k: v for k, v in c.last_headers.items() if k.lower().startswith("opc-meta-")}
    objects[f"{key}/{unquote(m['o'])}"] = {"content": body, "meta": meta}
    return ok(None, 200, etag="e-obj")


def _stored(c: Cloud, m: Any) -> dict[str, Any]:
    key, objects = _object(c, m)
    o = objects.get(f"{key}/{unquote(m['o'])}")
    if o is None:
        raise ApiError(404, "ObjectNotFound", f"The object '{m['o']}' was not found in the bucket '{m['b']}'")
    return dict(o)


@route("HEAD", OBJECT)
def head_object(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(None, 200, **{k.lower(): v for k, v in _stored(c, m)["meta"].items()})


@route("GET", OBJECT)
def get_object(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return 200, _stored(c, m)["content"].encode(), {"content-type": "application/octet-stream"}


def decode(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        raise ApiError(400, "InvalidParameter", f"{what} is not valid JSON") from e
