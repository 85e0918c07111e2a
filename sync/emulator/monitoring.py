"""Monitoring service: PostMetricData, validated as Oracle documents it, recording what it accepted.

Sources: API reference MetricData/PostMetricData (20180401) and the SDK's models
(oci.monitoring.models.MetricDataDetails, Datapoint, PostMetricDataDetails,
PostMetricDataResponseDetails), whose docstrings carry the rules checked here.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.emulator.errors import invalid
from sync.emulator.paging import Json

# "starts with an alphabetical character and includes only alphanumeric characters and
# underscores"; reserved prefixes oci_ and oracle_.
NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
RESERVED_PREFIXES = ("oci_", "oracle_")
# "starts with an alphabetical character and includes only alphanumeric characters, dots,
# underscores, hyphens, and dollar signs".
METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._$-]*")
DIMENSION_KEY = re.compile(r"[!-~]{1,256}")  # printable ASCII, no spaces, 1-256
MAX_DIMENSION_VALUE = 512
MAX_DIMENSIONS = 20  # per metric group; minimum 1
MAX_STREAMS = 50  # unique metric streams per call
MAX_METADATA_CHARS = 256
PAST = timedelta(hours=2)  # "less than two hours in the past
FUTURE = timedelta(minutes=10)  # and less than 10 minutes in the future"
ATOMICITY = ("ATOMIC", "NON_ATOMIC")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def metric_problem(item: Any, now: datetime) -> str | None:
    """Why one MetricDataDetails fails input validation (None: it passes)."""
    if not isinstance(item, dict):
        return "a metric object must be a JSON object"
    namespace, name = item.get("namespace"), item.get("name")
    if not isinstance(namespace, str) or not NAMESPACE.fullmatch(namespace):
        return f"invalid namespace {namespace!r}"
    if namespace.lower().startswith(RESERVED_PREFIXES):
        return f"namespace {namespace!r} uses a reserved prefix (oci_, oracle_)"
    if not isinstance(item.get("compartmentId"), str) or not item["compartmentId"]:
        return "compartmentId is required"
    if not isinstance(name, str) or not METRIC_NAME.fullmatch(name):
        return f"invalid metric name {name!r}"
    dims = item.get("dimensions")
    if not isinstance(dims, dict) or not 1 <= len(dims) <= MAX_DIMENSIONS:
        return f"dimensions must be an object with 1 to {MAX_DIMENSIONS} entries"
    for key, value in dims.items():
        if not DIMENSION_KEY.fullmatch(key):
            return f"invalid dimension key {key!r}"
        if not isinstance(value, str) or not value or len(value) > MAX_DIMENSION_VALUE:
            return f"dimension {key!r}: a value of 1 to {MAX_DIMENSION_VALUE} characters is required"
    meta = item.get("metadata")
    if meta is not None and (
        not isinstance(meta, dict)
        or any(len(str(k)) > MAX_METADATA_CHARS or len(str(v)) > MAX_METADATA_CHARS for k, v in meta.items())
    ):
        return "metadata must be an object of keys and values up to 256 characters"
    points = item.get("datapoints")
    if not isinstance(points, list) or not points:
        return "at least one datapoint is required"
    for point in points:
        if not isinstance(point, dict):
            return "a datapoint must be a JSON object"
        when = _parse_time(point.get("timestamp"))
        if when is None:
            return f"datapoint timestamp {point.get('timestamp')!r} is not RFC 3339"
        if not now - PAST < when < now + FUTURE:
            return f"datapoint timestamp {point['timestamp']} is not within 2 hours past / 10 minutes future"
        value = point.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "datapoint value must be a number"
        count = point.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count <= 0):
            return "datapoint count must be greater than zero"
    return None


class MonitoringBackend:
    """Custom metrics posted with PostMetricData; every accepted post is kept for tests."""

    def __init__(self, *, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._posts: list[Json] = []

    def post_metric_data(self, body: Any, now: datetime | None = None) -> Json:
        """PostMetricData: 200 with failedMetricsCount, or 400 when nothing (ATOMIC: anything) fails."""
        now = now or datetime.now(UTC)
        if not isinstance(body, dict):
            raise invalid("The request body must be a PostMetricDataDetails object")
        atomicity = body.get("batchAtomicity", "NON_ATOMIC")
        if atomicity not in ATOMICITY:
            raise invalid(f"batchAtomicity must be one of {', '.join(ATOMICITY)}")
        data = body.get("metricData")
        if not isinstance(data, list) or not data:
            raise invalid("metricData is required and must not be empty")
        streams = {
            (m.get("namespace"), m.get("name"), tuple(sorted((m.get("dimensions") or {}).items())))
            for m in data
            if isinstance(m, dict) and isinstance(m.get("dimensions"), dict)
        }
        if len(streams) > MAX_STREAMS:
            raise invalid(f"at most {MAX_STREAMS} unique metric streams per call ({len(streams)} given)")
        accepted, failed = [], []
        for item in data:
            problem = metric_problem(item, now)
            if problem is None:
                accepted.append(item)
            else:
                failed.append({"message": problem, "metricData": item})
        if failed and (atomicity == "ATOMIC" or not accepted):
            raise invalid(f"{len(failed)} metric object(s) failed validation: {failed[0]['message']}")
        with self._lock:
            self._posts.append({"metricData": accepted, "receivedAt": now.isoformat()})
        return {"failedMetricsCount": len(failed), "failedMetrics": failed}

    def metric_posts(self) -> list[Json]:
        """Every accepted PostMetricData, oldest first: {"metricData": [...], "receivedAt"}."""
        with self._lock:
            return [dict(p) for p in self._posts]

    def reset(self) -> None:
        with self._lock:
            self._posts.clear()
