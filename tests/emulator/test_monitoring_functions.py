"""The emulator's Monitoring (PostMetricData) and Functions (InvokeFunction) services, through the real SDK."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import oci
import pytest
from oci.monitoring.models import Datapoint, MetricDataDetails, PostMetricDataDetails

from sync.emulator import ApiKey, EmulatorServer
from tests.emulator_fixtures import client_kwargs, oci_config

COMP = "ocid1.compartment.oc1..aaaaaaaametrics"
FN = "ocid1.fnfunc.oc1.iad.aaaaaaaaemulatortest"


@pytest.fixture
def monitoring(emulator: EmulatorServer, api_key: ApiKey) -> Any:
    return oci.monitoring.MonitoringClient(oci_config(api_key), **client_kwargs(emulator.url))


@pytest.fixture
def invoker(emulator: EmulatorServer, api_key: ApiKey) -> Any:
    return oci.functions.FunctionsInvokeClient(oci_config(api_key), **client_kwargs(emulator.url))


def metric(name: str = "outcomes", namespace: str = "backup_tag_sync", **over: Any) -> MetricDataDetails:
    when = over.pop("when", datetime.now(UTC))
    fields: dict[str, Any] = {
        "namespace": namespace,
        "compartment_id": COMP,
        "name": name,
        "dimensions": {"status": "updated", "function": "local"},
        "datapoints": [Datapoint(timestamp=when, value=3)],
        **over,
    }
    return MetricDataDetails(**fields)


def test_post_metric_data_is_recorded_exactly(monitoring: Any, emulator: EmulatorServer) -> None:
    resp = monitoring.post_metric_data(PostMetricDataDetails(metric_data=[metric(), metric("sweep_scanned")]))
    assert resp.status == 200 and resp.data.failed_metrics_count == 0
    (post,) = emulator.backend.monitoring.metric_posts()
    assert [m["name"] for m in post["metricData"]] == ["outcomes", "sweep_scanned"]
    assert post["metricData"][0]["dimensions"] == {"status": "updated", "function": "local"}
    assert post["metricData"][0]["datapoints"][0]["value"] == 3
    with urllib.request.urlopen(f"{emulator.url}/_emulator/metrics") as admin:
        assert json.load(admin) == emulator.backend.monitoring.metric_posts()


@pytest.mark.parametrize(
    "bad",
    [
        {"namespace": "oci_reserved"},
        {"namespace": "9starts_with_digit"},
        {"name": "has space"},
        {"dimensions": {}},
        {"dimensions": {"k": ""}},
        {"when": datetime.now(UTC) - timedelta(hours=3)},
        {"when": datetime.now(UTC) + timedelta(minutes=30)},
    ],
    ids=["reserved-ns", "ns-digit", "name-space", "no-dims", "empty-dim", "too-old", "too-new"],
)
def test_non_atomic_reports_the_bad_object_and_keeps_the_good(
    monitoring: Any, emulator: EmulatorServer, bad: dict[str, Any]
) -> None:
    good = metric()
    args = {"namespace": bad.pop("namespace", "backup_tag_sync"), "name": bad.pop("name", "outcomes"), **bad}
    resp = monitoring.post_metric_data(PostMetricDataDetails(metric_data=[good, metric(**args)]))
    assert resp.data.failed_metrics_count == 1 and resp.data.failed_metrics[0].message
    (post,) = emulator.backend.monitoring.metric_posts()
    assert len(post["metricData"]) == 1
    with pytest.raises(oci.exceptions.ServiceError) as err:  # ATOMIC: all or nothing
        monitoring.post_metric_data(
            PostMetricDataDetails(metric_data=[good, metric(**args)], batch_atomicity="ATOMIC")
        )
    assert err.value.status == 400 and err.value.code == "InvalidParameter"
    assert len(emulator.backend.monitoring.metric_posts()) == 1


def test_post_with_nothing_valid_is_400(monitoring: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as err:
        monitoring.post_metric_data(PostMetricDataDetails(metric_data=[metric(namespace="oracle_x")]))
    assert err.value.status == 400 and err.value.request_id
    assert emulator.backend.monitoring.metric_posts() == []


def test_detached_invoke_is_202_and_recorded(invoker: Any, emulator: EmulatorServer) -> None:
    emulator.backend.functions.register_function(FN)
    resp = invoker.invoke_function(FN, invoke_function_body=b'{"sweep": {}}', fn_invoke_type="detached")
    assert resp.status == 202
    (inv,) = emulator.backend.functions.invocations()
    assert inv.function_id == FN and inv.body == '{"sweep": {}}'
    assert inv.headers["fn-invoke-type"] == "detached"
    assert emulator.backend.log.requests("InvokeFunction")[0].opc_request_id == resp.request_id


def test_sync_invoke_answers_what_the_function_answers(invoker: Any, emulator: EmulatorServer) -> None:
    seen: list[bytes] = []

    def run(body: bytes, timeout: float) -> tuple[int, bytes]:
        seen.append(body)
        return 200, b'{"status": "unchanged"}'

    emulator.backend.functions.register_function(FN, run)
    resp = invoker.invoke_function(FN, invoke_function_body=b"{}", fn_invoke_type="sync")
    assert resp.status == 200 and resp.data.content == b'{"status": "unchanged"}'
    assert seen == [b"{}"]


def test_unknown_function_is_404(invoker: Any) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as err:
        invoker.invoke_function(FN, invoke_function_body=b"{}", fn_invoke_type="detached")
    assert err.value.status == 404 and err.value.code == "NotAuthorizedOrNotFound"


def test_admin_registers_a_function_and_lists_its_invocations(invoker: Any, emulator: EmulatorServer) -> None:
    def admin(method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"{emulator.url}/_emulator/{path}", data=data, method=method)
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)

    assert admin("POST", "functions", {"id": FN}) == {"ok": True}
    invoker.invoke_function(FN, invoke_function_body=b'{"n": 1}', fn_invoke_type="detached")
    (listed,) = admin("GET", f"invocations?functionId={FN}")
    assert listed["invokeType"] == "detached" and listed["body"] == '{"n": 1}'
    assert listed["headers"]["fn-invoke-type"] == "detached"
    assert admin("GET", "invocations?functionId=ocid1.fnfunc.oc1..other") == []
