"""Outcome metrics: one PostMetricData per invocation, time-capped, never failing the invocation.

Namespace `backup_tag_sync`. `outcomes` (dimensions `status`, `function`): how many backups got
each status in this invocation, one datapoint per status that occurred. Sweeps add
`sweep_scanned` (backups listed in range) and `sweep_duration_seconds` (dimension `function`).

PostMetricData is served by the region's telemetry-ingestion host; the lean Monitoring client
(sync/cloud/lean.py) uses it, so the generated Monitoring models are never loaded.
`OCI_MONITORING_ENDPOINT` overrides the endpoint (the emulator, tests).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sync.cloud.calls import MIN_CALL_SECONDS
from sync.cloud.clients import AuthError
from sync.cloud.leanport import LeanPort
from sync.cloud.outcome import CallFailed
from sync.cloud.retry import Deadline

log = logging.getLogger("sync.function.metrics")

NAMESPACE = "backup_tag_sync"
OUTCOMES = "outcomes"
SWEEP_SCANNED = "sweep_scanned"
SWEEP_DURATION = "sweep_duration_seconds"
# At most this long is spent posting (connect and read).
POST_BUDGET_SECONDS = 1.0
# Deadline keeps DEADLINE_MARGIN_SECONDS (2 s) back from Fn's deadline for answering; the
# post may use this much of it, so the answer still leaves in time.
MARGIN_USABLE_SECONDS = 1.0
MIN_BUDGET_SECONDS = MIN_CALL_SECONDS


@dataclass(frozen=True)
class SweepFigures:
    scanned: int
    duration_seconds: float


def function_name(env: Mapping[str, str]) -> str:
    """The `function` dimension: Fn's function name or id, else "local"."""
    return (env.get("FN_FN_NAME") or env.get("FN_FN_ID") or "local").strip()[:512] or "local"


def metric_data(
    counts: Mapping[str, int],
    compartment_id: str,
    function: str,
    now: datetime,
    sweep: SweepFigures | None = None,
) -> list[dict[str, Any]]:
    """The metricData of one PostMetricData: a datapoint per status that occurred, plus sweep figures."""
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def item(name: str, dims: dict[str, str], value: float, unit: str) -> dict[str, Any]:
        return {
            "namespace": NAMESPACE,
            "compartmentId": compartment_id,
            "name": name,
            "dimensions": dims,
            "metadata": {"unit": unit},
            "datapoints": [{"timestamp": stamp, "value": value}],
        }

    out = [
        item(OUTCOMES, {"status": status, "function": function}, count, "count")
        for status, count in sorted(counts.items())
        if count > 0
    ]
    if sweep is not None:
        out.append(item(SWEEP_SCANNED, {"function": function}, sweep.scanned, "count"))
        out.append(item(SWEEP_DURATION, {"function": function}, round(sweep.duration_seconds, 3), "seconds"))
    return out


class MetricsPoster:
    """Posts an invocation's counts; built only when METRICS_COMPARTMENT_ID is set."""

    def __init__(self, port: LeanPort, env: Mapping[str, str]) -> None:
        self.port = port
        self.compartment_id = env["METRICS_COMPARTMENT_ID"].strip()
        self.function = function_name(env)

    @classmethod
    def from_env(cls, port: LeanPort, env: Mapping[str, str]) -> MetricsPoster | None:
        return cls(port, env) if (env.get("METRICS_COMPARTMENT_ID") or "").strip() else None

    def _base_client(self) -> Any:
        """The SDK BaseClient under the lean Monitoring client (its endpoint, for tests)."""
        return self.port.clients.monitoring().base_client

    def post(self, counts: Mapping[str, int], deadline: Deadline, sweep: SweepFigures | None = None) -> bool:
        """One PostMetricData, at most POST_BUDGET_SECONDS; False (logged) on any failure. Never raises."""
        data = metric_data(counts, self.compartment_id, self.function, datetime.now(UTC), sweep)
        if not data:
            return True
        budget = min(POST_BUDGET_SECONDS, deadline.remaining() + MARGIN_USABLE_SECONDS)
        if budget < MIN_BUDGET_SECONDS:
            log.warning("no time left to post metrics; dropped", extra={"operation": "PostMetricData"})
            return False
        try:
            # One attempt; its connect and read timeouts are capped by the budget.
            got = self.port.post_metric_data(data, Deadline.after(budget))
        except CallFailed as failure:  # an outage of Monitoring must never fail the invocation
            self._log_failure(failure.status, failure.code, failure.opc_request_id, failure.message)
            return False
        except AuthError as exc:
            self._log_failure(None, "AuthError", None, str(exc))
            return False
        failed = got.value.get("failedMetricsCount", 0)
        if failed:
            log.warning(
                "Monitoring refused some datapoints",
                extra={
                    "operation": "PostMetricData",
                    "opc_request_id": got.request_id,
                    "failed_metrics": str(got.value.get("failedMetrics"))[:500],
                },
            )
        else:
            log.debug(
                "metrics posted", extra={"operation": "PostMetricData", "opc_request_id": got.request_id}
            )
        return not failed

    @staticmethod
    def _log_failure(status: int | None, code: str, opc_request_id: str | None, message: str) -> None:
        log.error(
            "PostMetricData failed; metrics for this invocation dropped",
            extra={
                "operation": "PostMetricData",
                "status": status,
                "code": code,
                "opc_request_id": opc_request_id,
                "error": message[:300],
            },
        )


def outcome_counts(
    answer: Mapping[str, Any], is_sweep: bool, elapsed: float
) -> tuple[dict[str, int], SweepFigures | None]:
    """An answer's counts per status (a sweep's own counts), and a sweep's figures."""
    status = str(answer.get("status"))
    if not is_sweep:
        return {status: 1}, None
    raw = answer.get("counts")
    counts = {str(k): int(v) for k, v in raw.items() if isinstance(v, int)} if isinstance(raw, dict) else {}
    if status in ("rejected", "failed") and not counts.get(status):
        counts[status] = 1  # a sweep that could not run (bad token, policy, listing) is one outcome
    duration = answer.get("elapsedSeconds")
    seconds = float(duration) if isinstance(duration, int | float) and duration > 0 else elapsed
    scanned = answer.get("scanned")
    return counts, SweepFigures(scanned if isinstance(scanned, int) else 0, seconds)
