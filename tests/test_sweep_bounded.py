"""Bounded sweeps: the answer lists at most N failures, memory does not grow with the backups."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from sync.cloud.clients import OciSettings
from sync.cloud.engine import Outcome
from sync.cloud.regions import RegionError, parse_regions, region_settings
from sync.cloud.retry import Deadline
from sync.domain.resources import SourceKind
from sync.domain.status import Status, SweepStatus
from sync.emulator import ApiKey, EmulatorServer, Faults
from sync.function.fnrunner import FdkProcess
from sync.sweep.options import SweepError, SweepOptions
from sync.sweep.results import SweepResult, Tally
from sync.sweep.sources import SourceCache
from sync.sweep.tokens import (
    Position,
    decode_regions_token,
    decode_token,
    encode_regions_token,
    encode_token,
    token_region,
)
from tests.scale import TENANCY, peak_rss_mb, populate_tenancy
from tests.test_sweep import COMP, SEED, engine_for, populate, sweep

ANSWER_LIMIT = 100 * 1024
RSS_LIMIT_MB = 100.0


# -- the answer is bounded ------------------------------------------------------------------------


def test_many_failures_answer_lists_n_and_counts_the_rest(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    # The function may read but not update: every PUT is 404 (as OCI answers a missing grant).
    server = make_emulator(seed=SEED, faults=Faults(denied_operations=["UpdateVolumeGroupBackup"]))
    _, stale = populate(server.backend, 120, groups=4)

    result = sweep(server, api_key, max_failures=5)

    assert result.counts() == {"failed": 60, "unchanged": 60}
    body = result.to_json()
    assert len(body["failures"]) == 5 and body["failuresOmitted"] == 55
    assert all(f["opcRequestId"] and "404" in f["error"] and f["id"] in stale for f in body["failures"])
    assert "backups" not in body and len(json.dumps(body)) < 5000
    # Every failure is one log line, with its opc-request-id: nothing is lost from the logs.
    failed = [e for e in logs() if e.get("message") == "swept failed"]
    assert sorted(e["volume_group_backup_id"] for e in failed) == sorted(stale)
    assert all(e["opc_request_id"] for e in failed)
    assert result.permanent_failures == 60


def test_tally_keeps_first_n_and_exit_relevant_counts() -> None:
    tally = Tally(max_failures=2)
    for i in range(5):
        tally.add(Outcome(Status.FAILED, f"b{i}", error="x", opc_request_id=f"r{i}", transient=i % 2 == 0))
    tally.add(Outcome(Status.UPDATED, "u"))
    assert [f["id"] for f in tally.failures] == ["b0", "b1"] and tally.omitted == 3
    assert tally.permanent == 2 and tally.done == 6 and tally.transient_in_a_row == 0
    result = SweepResult(SweepStatus.SWEPT, tally, listing_failures=[{"error": "e", "transient": False}])
    assert result.failures_omitted == 4 and result.permanent_failures == 3


def test_options_are_checked() -> None:
    for bad in ({"max_failures": -1}, {"call_budget": 0.0}, {"page_size": 0}, {"volume_group_cache": 0}):
        with pytest.raises(SweepError):
            SweepOptions(COMP, **bad).check()  # type: ignore[arg-type]


def test_volume_group_cache_is_bounded(make_emulator: Callable[..., EmulatorServer], api_key: ApiKey) -> None:
    server = make_emulator(seed=SEED)
    populate(server.backend, 4, groups=4)
    engine = engine_for(server, api_key)
    cache = SourceCache(engine.port.get_source, size=2)
    deadline = Deadline.after(30)
    ids = [f"ocid1.volumegroup.oc1..sweepvg{g:04d}" for g in (0, 1, 0, 2, 0, 1)]
    sources = [cache(SourceKind.VOLUME_GROUP, vg, None, deadline) for vg in ids]
    names = [s.display_name if s else None for s in sources]

    assert names == ["vg-0", "vg-1", "vg-0", "vg-2", "vg-0", "vg-1"]
    assert len(cache) == 2
    # vg-0 stays (recently used); vg-1 was dropped for vg-2 and fetched again.
    assert cache.fetches == 4 and server.backend.log.count("GetVolumeGroup") == 4


# -- resume tokens name their region ------------------------------------------------------------


def test_tokens_name_their_region() -> None:
    opts = SweepOptions(COMP, region="eu-frankfurt-1")
    token = encode_token(opts, Position(COMP, "p2"))
    assert token_region(token) == "eu-frankfurt-1" and decode_token(token, opts) == Position(COMP, "p2")
    with pytest.raises(SweepError, match="region eu-frankfurt-1"):
        decode_token(token, SweepOptions(COMP, region="us-ashburn-1"))
    assert decode_regions_token(token) is None
    both = encode_regions_token({"us-ashburn-1": None, "eu-frankfurt-1": token})
    assert decode_regions_token(both) == {"eu-frankfurt-1": token, "us-ashburn-1": None}
    with pytest.raises(SweepError):
        decode_regions_token("not-a-token")


def test_region_settings_resolution() -> None:
    base = OciSettings.from_env({"OCI_AUTH": "config_file"})
    env = {"OCI_CORE_ENDPOINT_EU_FRANKFURT_1": "http://127.0.0.1:9001"}
    fra = region_settings(base, env, "eu-frankfurt-1")
    assert fra.region == "eu-frankfurt-1" and fra.core_endpoint == "http://127.0.0.1:9001"
    assert fra.identity_endpoint == "http://127.0.0.1:9001"  # Identity follows Block Storage's override
    templated = region_settings(base, {"OCI_CORE_ENDPOINT": "https://p.example/{region}/core"}, "ap-tokyo-1")
    assert templated.core_endpoint == "https://p.example/ap-tokyo-1/core"
    plain = region_settings(base, {}, "ap-tokyo-1")
    assert plain.core_endpoint is None and plain.identity_endpoint is None  # the SDK resolves them
    with pytest.raises(RegionError, match="OCI_CORE_ENDPOINT_AP_TOKYO_1"):
        region_settings(base, {"OCI_CORE_ENDPOINT": "http://127.0.0.1:9"}, "ap-tokyo-1")
    assert parse_regions(" us-ashburn-1, eu-frankfurt-1,us-ashburn-1 ") == ["us-ashburn-1", "eu-frankfurt-1"]
    assert parse_regions("Subscribed") is None
    with pytest.raises(RegionError):
        parse_regions("us-ashburn-1,../x")


# -- through the function under the real FDK: 20,000 backups ------------------------------------


def test_function_sweep_of_20000_backups_answers_under_100kb_and_stays_under_100mb(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = make_emulator(seed=None, creating_seconds=None, max_log=1000)
    populate_tenancy(server.backend, 20_000)
    env = {"PATH": "/usr/bin:/bin", "DRY_RUN": "true", "LOG_LEVEL": "info", **server.client_env(api_key)}
    with FdkProcess(env) as fn:
        # First a sweep with nothing to do (the tenancy root holds no backup): the baseline,
        # once every module the sweep needs is imported.
        empty = fn.call({"sweep": {"compartmentId": TENANCY}})
        assert empty.status == 200 and empty.json()["scanned"] == 0
        baseline = peak_rss_mb(fn.pid())
        reply = fn.call(
            {"sweep": {"compartmentId": TENANCY, "recursive": True}}, deadline_seconds=600, timeout=600
        )
        peak = peak_rss_mb(fn.pid())
        planned_lines = sum(1 for e in fn.log_lines() if e.get("message") == "swept planned")

    body = reply.json()
    assert reply.status == 200 and body["status"] == "swept", body
    assert body["scanned"] == 20_000 and body["counts"] == {"planned": 20_000}
    assert "backups" not in body and body["failures"] == []
    assert set(body) >= {"counts", "failures", "failuresOmitted", "resumeToken", "scanned", "elapsedSeconds"}
    assert datetime.fromisoformat(body["finishedAt"]) >= datetime.fromisoformat(body["startedAt"])
    assert len(reply.body) < ANSWER_LIMIT
    assert peak < RSS_LIMIT_MB, f"peak RSS {peak:.1f} MB"
    # What the sweep itself holds does not grow with the backups (the old one grew ~10 KB each).
    assert peak - baseline < 15.0, f"grew {peak - baseline:.1f} MB over {baseline:.1f} MB"
    assert planned_lines == 20_000  # the per-backup detail went to the logs, one line each
