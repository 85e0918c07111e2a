"""Monitoring routes (API 20180401): PostMetricData, served on the telemetry-ingestion host in OCI."""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, json_body, json_reply


def post_metric_data(backend: Backend, req: Request) -> Reply:
    return json_reply(200, backend.monitoring.post_metric_data(json_body(req.body)))


ROUTES = [
    Route("POST", "/20180401/metrics", "PostMetricData", post_metric_data),
]
