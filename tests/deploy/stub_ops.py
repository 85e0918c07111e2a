"""Operations resources of the control-plane stub: Logging, Resource Scheduler, Notifications and
Monitoring (see stub_services for the conventions). Creates and deletes that Oracle runs as work
requests answer 202 with `opc-work-request-id`, and the work request is already SUCCEEDED."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.cloud_state import NOW, ApiError, Cloud, require
from tests.deploy.stub_services import Result, listed, ok, route, update_fields

# ---- Logging --------------------------------------------------------------------------------


@route("GET", r"/20200531/logGroups")
def list_log_groups(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    if q.get("isCompartmentIdInSubtree") == "true":
        under = c.subtree(q["compartmentId"])
        return ok(
            [
                g
                for g in listed(c, region, "logGroups", q, {"displayName": "displayName"})
                if g["compartmentId"] in under
            ]
        )
    return ok(
        listed(c, region, "logGroups", q, {"compartmentId": "compartmentId", "displayName": "displayName"})
    )


@route("POST", r"/20200531/logGroups")
def create_log_group(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "displayName")
    c.compartment(b["compartmentId"])
    c.unique_name(region, "logGroups", "displayName", b["displayName"], compartmentId=b["compartmentId"])
    o = {
        "id": c.new_id("loggroup", region),
        "compartmentId": b["compartmentId"],
        "displayName": b["displayName"],
        "description": b.get("description"),
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        "timeLastModified": NOW,
        **c.tags(b),
    }
    c.coll(region, "logGroups").append(o)
    wr = c.work_request(region, "CREATE_LOG_GROUP", o["compartmentId"], "loggroup", o["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("GET", r"/20200531/logGroups/(?P<id>[^/]+)")
def get_log_group(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "logGroups", m["id"]))


@route("DELETE", r"/20200531/logGroups/(?P<id>[^/]+)")
def delete_log_group(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    g = c.get(region, "logGroups", m["id"])
    if any(lg["logGroupId"] == g["id"] for lg in c.live(region, "logs")):
        raise ApiError(409, "Conflict", "Log group is not empty")
    g["lifecycleState"] = "DELETED"
    wr = c.work_request(region, "DELETE_LOG_GROUP", g["compartmentId"], "loggroup", g["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("GET", r"/20200531/logGroups/(?P<g>[^/]+)/logs")
def list_logs(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "logGroups", m["g"])
    res = []
    for lg in c.live(region, "logs"):
        src = lg["configuration"]["source"]
        if lg["logGroupId"] != m["g"]:
            continue
        if q.get("sourceResource") not in (None, src.get("resource")):
            continue
        if q.get("sourceService") not in (None, src.get("service")):
            continue
        if q.get("displayName") not in (None, lg["displayName"]) or q.get("logType") not in (
            None,
            lg["logType"],
        ):
            continue
        res.append(lg)
    return ok(res)


@route("POST", r"/20200531/logGroups/(?P<g>[^/]+)/logs")
def create_log(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    g = c.get(region, "logGroups", m["g"])
    require(b, "displayName", "logType", "configuration")
    conf = b["configuration"]
    src = conf.get("source") or {}
    if b["logType"] != "SERVICE" or src.get("sourceType") != "OCISERVICE":
        raise ApiError(
            400, "InvalidParameter", "a service log needs logType SERVICE and sourceType OCISERVICE"
        )
    if src.get("service") != "functions" or src.get("category") != "invoke":
        raise ApiError(400, "InvalidParameter", "functions logs: service 'functions', category 'invoke'")
    c.get(region, "applications", src.get("resource"))
    if any(lg["configuration"]["source"].get("resource") == src["resource"] for lg in c.live(region, "logs")):
        raise ApiError(409, "Conflict", "a log for this resource and category already exists")
    o = {
        "id": c.new_id("log", region),
        "tenancyId": c.tenancy,
        "logGroupId": g["id"],
        "compartmentId": g["compartmentId"],
        "displayName": b["displayName"],
        "logType": "SERVICE",
        "isEnabled": b.get("isEnabled", True),
        "lifecycleState": "ACTIVE",
        "configuration": {"compartmentId": conf.get("compartmentId") or g["compartmentId"], **conf},
        "retentionDuration": b.get("retentionDuration") or 30,
        "timeCreated": NOW,
        "timeLastModified": NOW,
        **c.tags(b),
    }
    c.coll(region, "logs").append(o)
    wr = c.work_request(region, "CREATE_LOG", g["compartmentId"], "log", o["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("GET", r"/20200531/logGroups/(?P<g>[^/]+)/logs/(?P<id>[^/]+)")
def get_log(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    lg = c.get(region, "logs", m["id"])
    if lg["logGroupId"] != m["g"]:
        raise ApiError(404, "NotAuthorizedOrNotFound", "log not in this log group")
    return ok(lg)


@route("PUT", r"/20200531/logGroups/(?P<g>[^/]+)/logs/(?P<id>[^/]+)")
def update_log(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    lg = c.get(region, "logs", m["id"])
    update_fields(lg, b, ("displayName", "isEnabled", "retentionDuration", "freeformTags"))
    wr = c.work_request(region, "UPDATE_LOG", lg["compartmentId"], "log", lg["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("DELETE", r"/20200531/logGroups/(?P<g>[^/]+)/logs/(?P<id>[^/]+)")
def delete_log(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    lg = c.get(region, "logs", m["id"])
    if lg["logGroupId"] != m["g"]:
        raise ApiError(404, "NotAuthorizedOrNotFound", "log not in this log group")
    lg["lifecycleState"] = "DELETED"
    wr = c.work_request(region, "DELETE_LOG", lg["compartmentId"], "log", lg["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("GET", r"/20200531/workRequests/(?P<id>[^/]+)")
def get_work_request(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "workRequests", m["id"]))


# ---- Resource Scheduler ---------------------------------------------------------------------

CRON = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")


def check_schedule(c: Cloud, region: str, b: dict[str, Any]) -> None:
    if b.get("action") is not None and b["action"] not in ("START_RESOURCE", "STOP_RESOURCE"):
        raise ApiError(400, "InvalidParameter", f"unknown action {b['action']}")
    if b.get("recurrenceType") == "CRON" and not CRON.match(str(b.get("recurrenceDetails", ""))):
        raise ApiError(400, "InvalidParameter", f"invalid cron expression {b.get('recurrenceDetails')!r}")
    for r in b.get("resources") or []:
        c.get(region, "functions", r.get("id"))
        for p in r.get("parameters") or []:
            if p.get("parameterType") != "BODY" or not isinstance(p.get("value"), dict):
                raise ApiError(400, "InvalidParameter", "parameters: BODY with an object value expected")


@route("GET", r"/20240430/schedules")
def list_schedules(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(
        {
            "items": listed(
                c, region, "schedules", q, {"compartmentId": "compartmentId", "displayName": "displayName"}
            )
        }
    )


@route("POST", r"/20240430/schedules")
def create_schedule(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "compartmentId", "action", "recurrenceDetails", "recurrenceType")
    c.compartment(b["compartmentId"])
    check_schedule(c, region, b)
    o = {
        "id": c.new_id("resourceschedule", region),
        "compartmentId": b["compartmentId"],
        "displayName": b.get("displayName"),
        "description": b.get("description"),
        "action": b["action"],
        "recurrenceDetails": b["recurrenceDetails"],
        "recurrenceType": b["recurrenceType"],
        "resources": b.get("resources") or [],
        "resourceFilters": b.get("resourceFilters") or [],
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        **c.tags(b),
    }
    c.coll(region, "schedules").append(o)
    wr = c.work_request(region, "CREATE_SCHEDULE", o["compartmentId"], "schedule", o["id"])
    return ok(o, 200, **{"opc-work-request-id": wr})


@route("GET", r"/20240430/schedules/(?P<id>[^/]+)")
def get_schedule(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "schedules", m["id"]))


@route("PUT", r"/20240430/schedules/(?P<id>[^/]+)")
def update_schedule(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    s = c.get(region, "schedules", m["id"])
    check_schedule(c, region, {**s, **{k: v for k, v in b.items() if v is not None}})
    update_fields(
        s,
        b,
        (
            "displayName",
            "description",
            "action",
            "recurrenceDetails",
            "recurrenceType",
            "resources",
            "freeformTags",
        ),
    )
    wr = c.work_request(region, "UPDATE_SCHEDULE", s["compartmentId"], "schedule", s["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


@route("DELETE", r"/20240430/schedules/(?P<id>[^/]+)")
def delete_schedule(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    s = c.get(region, "schedules", m["id"])
    s["lifecycleState"] = "DELETED"
    wr = c.work_request(region, "DELETE_SCHEDULE", s["compartmentId"], "schedule", s["id"])
    return ok(None, 202, **{"opc-work-request-id": wr})


# ---- Notifications -------------------------------------------------------------------------


@route("GET", r"/20181201/topics")
def list_topics(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    return ok(listed(c, region, "topics", q, {"compartmentId": "compartmentId", "name": "name"}))


@route("POST", r"/20181201/topics")
def create_topic(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "name", "compartmentId")
    c.compartment(b["compartmentId"])
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", b["name"]):
        raise ApiError(400, "InvalidParameter", "topic names: letters, numbers, hyphens, underscores")
    c.unique_name(region, "topics", "name", b["name"])
    o = {
        "topicId": c.new_id("onstopic", region),
        "name": b["name"],
        "compartmentId": b["compartmentId"],
        "description": b.get("description"),
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        "etag": "e1",
        "apiEndpoint": c.data["endpoints"][region],
        **c.tags(b),
    }
    c.coll(region, "topics").append(o)
    return ok(o)


@route("GET", r"/20181201/topics/(?P<id>[^/]+)")
def get_topic(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "topics", m["id"], key="topicId"))


@route("DELETE", r"/20181201/topics/(?P<id>[^/]+)")
def delete_topic(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "topics", m["id"], key="topicId")["lifecycleState"] = "DELETED"
    return ok(None, 202)


@route("GET", r"/20181201/subscriptions")
def list_subscriptions(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    return ok(listed(c, region, "subscriptions", q, {"compartmentId": "compartmentId", "topicId": "topicId"}))


@route("POST", r"/20181201/subscriptions")
def create_subscription(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(b, "topicId", "compartmentId", "protocol", "endpoint")
    c.get(region, "topics", b["topicId"], key="topicId")
    if b["protocol"] == "EMAIL" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", b["endpoint"]):
        raise ApiError(400, "InvalidParameter", "not an email address")
    o = {
        "id": c.new_id("onssubscription", region),
        "topicId": b["topicId"],
        "compartmentId": b["compartmentId"],
        "protocol": b["protocol"],
        "endpoint": b["endpoint"],
        "lifecycleState": "PENDING",
        "createdTime": 1767225600000,
        "etag": "e1",
        **c.tags(b),
    }
    c.coll(region, "subscriptions").append(o)
    return ok(o)


@route("DELETE", r"/20181201/subscriptions/(?P<id>[^/]+)")
def delete_subscription(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "subscriptions", m["id"])["lifecycleState"] = "DELETED"
    return ok(None, 202)


# ---- Monitoring -----------------------------------------------------------------------------

ALARM_FIELDS = (
    "displayName",
    "metricCompartmentId",
    "namespace",
    "query",
    "severity",
    "body",
    "destinations",
    "isEnabled",
    "pendingDuration",
    "freeformTags",
)
QUERY = re.compile(
    r"^[A-Za-z][A-Za-z0-9_]*\[\d+[mhd]\](\{[^{}]*\})?\.[a-z]+\(\)\s*(>|>=|<|<=|==|!=)\s*\d+(\.\d+)?$"
)


def check_alarm(c: Cloud, region: str, b: dict[str, Any]) -> None:
    if b.get("query") is not None and not QUERY.match(b["query"]):
        raise ApiError(400, "InvalidParameter", f"invalid MQL query {b['query']!r}")
    if b.get("severity") not in (None, "CRITICAL", "ERROR", "WARNING", "INFO"):
        raise ApiError(400, "InvalidParameter", "severity")
    for d in b.get("destinations") or []:
        c.get(region, "topics", d, key="topicId")


@route("GET", r"/20180401/alarms")
def list_alarms(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    require(q, "compartmentId")
    return ok(
        listed(c, region, "alarms", q, {"compartmentId": "compartmentId", "displayName": "displayName"})
    )


@route("POST", r"/20180401/alarms")
def create_alarm(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    require(
        b,
        "displayName",
        "compartmentId",
        "metricCompartmentId",
        "namespace",
        "query",
        "severity",
        "destinations",
    )
    c.compartment(b["compartmentId"])
    check_alarm(c, region, b)
    o = {
        "id": c.new_id("alarm", region),
        "compartmentId": b["compartmentId"],
        "lifecycleState": "ACTIVE",
        "timeCreated": NOW,
        "timeUpdated": NOW,
        **{k: b.get(k) for k in ALARM_FIELDS},
        **c.tags(b),
    }
    c.coll(region, "alarms").append(o)
    return ok(o)


@route("GET", r"/20180401/alarms/(?P<id>[^/]+)")
def get_alarm(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    return ok(c.get(region, "alarms", m["id"]))


@route("PUT", r"/20180401/alarms/(?P<id>[^/]+)")
def update_alarm(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    a = c.get(region, "alarms", m["id"])
    check_alarm(c, region, b)
    update_fields(a, b, ALARM_FIELDS)
    return ok(a)


@route("DELETE", r"/20180401/alarms/(?P<id>[^/]+)")
def delete_alarm(c: Cloud, region: str, m: Any, q: dict[str, str], b: Any) -> Result:
    c.get(region, "alarms", m["id"])["lifecycleState"] = "DELETED"
    return ok(None, 204)


@route("POST", r"/20180401/metrics")
def post_metric_data(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    """PostMetricData (telemetry-ingestion): kept so SummarizeMetricsData can answer."""
    require(b, "metricData")
    for md in b["metricData"]:
        require(md, "namespace", "compartmentId", "name", "datapoints")
        c.data.setdefault("metrics", []).append(md)
    return ok({"failedMetricsCount": 0, "failedMetrics": []})


@route("POST", r"/20180401/metrics/actions/summarizeMetricsData")
def summarize_metrics_data(c: Cloud, region: str, m: Any, q: dict[str, str], b: dict[str, Any]) -> Result:
    """SummarizeMetricsData: each stored metric of the namespace and compartment whose name the
    query starts with, its datapoints as the aggregated ones (no windowing: the stub's clock is the test's)."""
    require(q, "compartmentId")
    require(b, "namespace", "query")
    name = re.match(r"[A-Za-z0-9_]+", b["query"])
    res = [
        {
            "namespace": md["namespace"],
            "compartmentId": md["compartmentId"],
            "name": md["name"],
            "dimensions": md.get("dimensions") or {},
            "aggregatedDatapoints": [
                {"timestamp": d["timestamp"], "value": d["value"]} for d in md["datapoints"]
            ],
        }
        for md in c.data.get("metrics", [])
        if md["namespace"] == b["namespace"]
        and md["compartmentId"] == q["compartmentId"]
        and name is not None
        and md["name"] == name[0]
    ]
    return ok(res)
