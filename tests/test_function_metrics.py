"""Outcome metrics end to end: real FDK, lean PostMetricData client on the SDK, the emulator as Monitoring."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from sync.function.metrics import POST_BUDGET_SECONDS
from tests.test_function import BACKUP_1, CREATE_EVENT, function_env

METRICS_COMP = "ocid1.compartment.oc1..aaaaaaaametrics"
SAMPLE_COMP = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"


def metrics_env(emulator: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return function_env(
        emulator,
        key,
        METRICS_COMPARTMENT_ID=METRICS_COMP,
        OCI_MONITORING_ENDPOINT=emulator.url,
        FN_FN_NAME="backup-tag-sync",
        **extra,
    )


@pytest.fixture
def fn(emulator: EmulatorServer, api_key: ApiKey) -> Iterator[FdkProcess]:
    with FdkProcess(metrics_env(emulator, api_key)) as proc:
        yield proc


def posted(emulator: EmulatorServer) -> list[list[dict[str, Any]]]:
    """The metricData of every accepted PostMetricData, in order."""
    return [p["metricData"] for p in emulator.backend.monitoring.metric_posts()]


def outcomes(metric_data: list[dict[str, Any]]) -> dict[str, float]:
    out = {}
    for m in metric_data:
        if m["name"] == "outcomes":
            assert m["namespace"] == "backup_tag_sync" and m["compartmentId"] == METRICS_COMP
            assert m["dimensions"]["function"] == "backup-tag-sync"
            assert len(m["datapoints"]) == 1
            out[m["dimensions"]["status"]] = m["datapoints"][0]["value"]
    return out


def test_each_invocation_posts_its_outcome_counts_once(fn: FdkProcess, emulator: EmulatorServer) -> None:
    assert fn.call(CREATE_EVENT).json()["status"] == "updated"
    assert fn.call(CREATE_EVENT).json()["status"] == "unchanged"
    assert fn.call(b"{").json()["status"] == "rejected"
    assert emulator.backend.log.count("PostMetricData") == 3
    assert [outcomes(p) for p in posted(emulator)] == [{"updated": 1}, {"unchanged": 1}, {"rejected": 1}]
    for data in posted(emulator):
        assert {m["name"] for m in data} == {"outcomes"}  # no sweep figures outside sweeps


def test_sweep_posts_its_counts_scanned_and_duration_in_one_call(
    fn: FdkProcess, emulator: EmulatorServer
) -> None:
    answer = fn.call({"sweep": {"compartmentId": SAMPLE_COMP, "recursive": True, "dryRun": True}}).json()
    assert answer["status"] == "swept" and answer["counts"]
    assert emulator.backend.log.count("PostMetricData") == 1
    (data,) = posted(emulator)
    assert outcomes(data) == answer["counts"]
    figures = {m["name"]: m for m in data if m["name"] != "outcomes"}
    assert set(figures) == {"sweep_scanned", "sweep_duration_seconds"}
    assert figures["sweep_scanned"]["datapoints"][0]["value"] == answer["scanned"]
    assert figures["sweep_scanned"]["dimensions"] == {"function": "backup-tag-sync"}
    duration = figures["sweep_duration_seconds"]["datapoints"][0]["value"]
    assert 0 < duration <= answer["elapsedSeconds"] + 0.01


def test_without_metrics_compartment_nothing_is_posted(emulator: EmulatorServer, api_key: ApiKey) -> None:
    with FdkProcess(function_env(emulator, api_key, OCI_MONITORING_ENDPOINT=emulator.url)) as proc:
        assert proc.call(CREATE_EVENT).json()["status"] == "updated"
    assert emulator.backend.log.count("PostMetricData") == 0


def _timed(proc: FdkProcess, body: Any) -> tuple[dict[str, Any], float]:
    began = time.monotonic()
    reply = proc.call(body)
    answer = reply.json() | {"_status": reply.status}
    answer.pop("opcRequestId")  # each GET has its own
    return answer, time.monotonic() - began


@pytest.mark.parametrize(
    "outage",
    [
        {"error_rate": 1.0, "error_mix": {503: 1.0}},
        {"slow_rate": 1.0, "slow_seconds": 6.0},  # answers long after the client gave up
    ],
    ids=["5xx", "timeout"],
)
def test_monitoring_outage_changes_neither_answer_nor_latency_beyond_the_cap(
    emulator: EmulatorServer, api_key: ApiKey, outage: dict[str, Any]
) -> None:
    manual = {"volumeGroupBackupId": BACKUP_1, "dryRun": True}
    with FdkProcess(metrics_env(emulator, api_key)) as proc:
        proc.call(manual)  # warm: imports and clients built
        healthy, healthy_s = _timed(proc, manual)
        emulator.faults.update({**outage, "operations": ["PostMetricData"], "seed": 3})
        broken, broken_s = _timed(proc, manual)
        errors = [e for e in proc.log_lines() if e.get("operation") == "PostMetricData"]
    assert broken == healthy  # same status, same body
    assert healthy["_status"] == 200 and healthy["status"] == "planned"
    # The post is capped at POST_BUDGET_SECONDS (plus scheduling slack on a shared machine).
    assert broken_s - healthy_s < POST_BUDGET_SECONDS + 1.0, (healthy_s, broken_s)
    (error,) = [e for e in errors if e["level"] == "error"]
    if "error_rate" in outage:
        failed_posts = [r for r in emulator.backend.log.requests("PostMetricData") if r.fault]
        assert len(failed_posts) == 1  # not retried
        assert error["status"] == 503 and error["opc_request_id"] == failed_posts[0].opc_request_id
    else:  # the emulator records the slow request only when it answers, after the client left
        assert error["status"] is None and "timed out" in error["error"].lower(), error


def test_the_real_endpoint_is_the_regions_telemetry_ingestion_host(api_key: ApiKey) -> None:
    from sync.cloud.clients import Clients, OciSettings
    from sync.cloud.leanport import LeanPort
    from sync.function.metrics import MetricsPoster

    settings = OciSettings.from_env({"OCI_AUTH": "config_file", "OCI_CONFIG_FILE": str(api_key.config_path)})
    poster = MetricsPoster(LeanPort(Clients(settings)), {"METRICS_COMPARTMENT_ID": METRICS_COMP})
    # The key's config names us-ashburn-1; PostMetricData is not served on telemetry.<region>.
    assert (
        poster._base_client().endpoint == "https://telemetry-ingestion.us-ashburn-1.oraclecloud.com/20180401"
    )
