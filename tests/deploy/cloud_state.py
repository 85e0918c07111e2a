"""State of the OCI control plane the deploy scripts drive (moto style: the model, no HTTP).

Covers only the operations deploy/*.sh issue. Resources are kept in the shape of the REST API
(camelCase JSON, as Oracle's API reference documents each model); the real `oci` CLI turns them
into its kebab-case output. Identity (dynamic groups, policies, compartments, tag namespaces) is
tenancy-wide; everything else lives in one region. Where the stub must pick a behaviour Oracle
does not spell out, it picks the stricter one (a duplicate IAM name is a 409, an application
with functions cannot be deleted, a list filter on a name is an exact match).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

NOW = "2026-01-01T00:00:00.000Z"
DEAD = ("DELETED", "DELETING")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> ApiError:
    return ApiError(404, "NotAuthorizedOrNotFound", f"{what} not found or not authorized")


def require(body: dict[str, Any], *keys: str) -> None:
    for k in keys:
        if body.get(k) in (None, ""):
            raise ApiError(400, "MissingParameter", f"Missing parameter: {k}")


REGIONAL = (
    "applications",
    "functions",
    "rules",
    "logGroups",
    "logs",
    "schedules",
    "topics",
    "subscriptions",
    "alarms",
    "workRequests",
)


class Cloud:
    """One tenancy: identity state plus one state per region."""

    def __init__(self, tenancy: str, regions: list[str]) -> None:
        self.lock = threading.RLock()
        self.tenancy = tenancy
        self.regions = list(regions)
        self.data: dict[str, Any] = {
            "counter": 0,
            "compartments": {tenancy: {"name": "root", "compartmentId": None}},
            "subnets": {},
            "tagNamespaces": [],
            "buckets": {},
            "dynamicGroups": [],
            "policies": [],
            "regional": {r: {k: [] for k in REGIONAL} for r in regions},
            "endpoints": {},
        }
        # every request that reached the stub: (region, method, path) -- for assertions
        self.requests: list[tuple[str, str, str]] = []
        self.forwards: dict[str, Any] = {}  # function OCID -> runner (sync.emulator.functions.Forward)
        self.last_headers: dict[str, str] = {}  # of the request being answered (opc-meta-* of a PUT object)

    # ---- snapshots (tests replay a deployed state instead of deploying again) ----------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.data)

    def restore(self, snap: dict[str, Any]) -> None:
        with self.lock:
            endpoints = self.data["endpoints"]
            self.data = copy.deepcopy(snap)
            self.data["endpoints"] = endpoints
            self.requests.clear()

    # ---- helpers -------------------------------------------------------------------------

    def new_id(self, kind: str, region: str | None = None) -> str:
        self.data["counter"] += 1
        where = f"oc1.{region}" if region else "oc1."
        return f"ocid1.{kind}.{where}.stub{self.data['counter']:04d}"

    def coll(self, region: str, name: str) -> list[dict[str, Any]]:
        if name in ("dynamicGroups", "policies"):
            return self.data[name]
        return self.data["regional"][region][name]

    def live(self, region: str, name: str) -> list[dict[str, Any]]:
        return [o for o in self.coll(region, name) if o.get("lifecycleState") not in DEAD]

    def get(self, region: str, name: str, ident: str, key: str = "id") -> dict[str, Any]:
        for o in self.live(region, name):
            if o.get(key) == ident:
                return o
        raise not_found(name)

    def compartment(self, ident: str | None) -> None:
        if ident not in self.data["compartments"]:
            raise not_found(f"Compartment {ident}")

    def subtree(self, root: str) -> set[str]:
        """Compartments at or below root (compartments name their parent in compartmentId)."""
        comps = self.data["compartments"]
        res = {root}
        for cid in comps:
            cur: str | None = cid
            while cur is not None and cur not in res:
                cur = comps.get(cur, {}).get("compartmentId")
            if cur is not None:
                res.add(cid)
        return res

    def tags(self, body: dict[str, Any]) -> dict[str, Any]:
        ff = body.get("freeformTags") or {}
        if not isinstance(ff, dict) or not all(isinstance(v, str) for v in ff.values()):
            raise ApiError(400, "InvalidParameter", "freeformTags must map strings to strings")
        return {"freeformTags": ff, "definedTags": body.get("definedTags") or {}}

    def work_request(self, region: str, op: str, compartment: str, entity: str, ident: str) -> str:
        wr = {
            "id": self.new_id("workrequest", region),
            "operationType": op,
            "status": "SUCCEEDED",
            "compartmentId": compartment,
            "resources": [{"entityType": entity, "actionType": "CREATED", "identifier": ident}],
            "percentComplete": 100.0,
            "timeAccepted": NOW,
            "timeStarted": NOW,
            "timeFinished": NOW,
        }
        self.coll(region, "workRequests").append(wr)
        return str(wr["id"])

    def unique_name(self, region: str, name: str, key: str, value: str, **scope: str) -> None:
        for o in self.live(region, name):
            if str(o.get(key, "")).lower() == value.lower() and all(o.get(k) == v for k, v in scope.items()):
                raise ApiError(409, "Conflict", f"{name} named '{value}' already exists")
