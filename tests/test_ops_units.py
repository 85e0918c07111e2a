"""Pure parts of metrics, continuation and `since`: no server, no mocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sync.cloud.retry import Deadline
from sync.function.continuation import RESERVE_SECONDS, ContinuationSettings, continuation_body
from sync.function.metrics import SweepFigures, function_name, metric_data, outcome_counts
from sync.requests.bodies import SweepRequest, parse_request
from sync.requests.since import SinceError, parse_since

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
COMP = "ocid1.compartment.oc1..aaaa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", NOW - timedelta(days=2)),
        ("36h", NOW - timedelta(hours=36)),
        ("90m", NOW - timedelta(minutes=90)),
        ("3660d", NOW - timedelta(days=3660)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T00:00:00Z", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T02:00:00+02:00", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_since_forms(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("999999999d", "too far back"),
        ("9" * 5000 + "d", "too far back"),  # more digits than int() takes
        ("0001-01-01T00:00:00+01:00", "out of range once in UTC"),
        ("2d ago", "use RFC 3339"),
        ("", "use RFC 3339"),
    ],
)
def test_absurd_since_is_a_since_error_never_overflow(text: str, why: str) -> None:
    with pytest.raises(SinceError, match=why):
        parse_since(text, NOW)


def test_body_since_needs_a_zone_and_a_time() -> None:
    for text in ("2026-11-01", "2026-11-01T00:00:00"):
        with pytest.raises(SinceError):
            parse_since(text, NOW, allow_date=False, assume_utc=False)


def test_scheduled_body_parses_to_a_recursive_sweep_two_days_back() -> None:
    req = parse_request(f'{{"sweep": {{"compartmentId": "{COMP}", "recursive": true, "since": "2d"}}}}')
    assert isinstance(req, SweepRequest) and req.recursive and req.continuation == 0
    assert req.since is not None
    assert abs((datetime.now(UTC) - timedelta(days=2) - req.since).total_seconds()) < 60


def test_continuation_depth_is_bounded_in_the_body() -> None:
    for bad in ("-1", "1001", "true", '"3"'):
        body = f'{{"sweep": {{"compartmentId": "{COMP}", "continuation": {bad}}}}}'
        assert type(parse_request(body)).__name__ == "Rejected", bad


def test_continuation_body_carries_an_absolute_since_and_round_trips() -> None:
    req = SweepRequest(COMP, since=NOW - timedelta(days=2), recursive=True, continuation=4)
    body = continuation_body(req, "tok", 5)
    assert body == {
        "sweep": {
            "compartmentId": COMP,
            "recursive": True,
            "dryRun": False,
            "page": "tok",
            "continuation": 5,
            "availableOnly": True,
            "since": "2026-11-25T03:00:00Z",
        }
    }
    again = parse_request(json.dumps(body))
    assert again == SweepRequest(COMP, NOW - timedelta(days=2), False, True, "tok", 5)


def test_continuation_settings() -> None:
    off = ContinuationSettings.from_env({"FUNCTION_ID": "ocid1.fnfunc.oc1..a"})
    assert not off.enabled
    deadline = Deadline(100.0, lambda: 0.0)
    assert off.sweep_deadline(deadline) is deadline
    on = ContinuationSettings.from_env(
        {"FN_FN_ID": "ocid1.fnfunc.oc1..a", "FUNCTION_INVOKE_ENDPOINT": "https://x"}
    )
    assert on.enabled and on.function_id == "ocid1.fnfunc.oc1..a" and on.max_continuations == 20
    assert on.sweep_deadline(deadline).at == 100.0 - RESERVE_SECONDS
    bad = ContinuationSettings.from_env({"SWEEP_MAX_CONTINUATIONS": "99999"})
    assert bad.max_continuations == 20 and bad.error and "0..1000" in bad.error
    assert ContinuationSettings.from_env({"SWEEP_MAX_CONTINUATIONS": "0"}).max_continuations == 0


def test_metric_data_one_datapoint_per_status_that_occurred() -> None:
    data = metric_data(
        {"updated": 2, "unchanged": 0, "failed": 1}, COMP, "fn", NOW, SweepFigures(40, 1.23456)
    )
    names = [(m["name"], m["dimensions"]) for m in data]
    assert names == [
        ("outcomes", {"status": "failed", "function": "fn"}),
        ("outcomes", {"status": "updated", "function": "fn"}),
        ("sweep_scanned", {"function": "fn"}),
        ("sweep_duration_seconds", {"function": "fn"}),
    ]
    assert [m["datapoints"][0]["value"] for m in data] == [1, 2, 40, 1.235]
    assert {m["datapoints"][0]["timestamp"] for m in data} == {"2026-11-27T03:00:00.000Z"}
    assert all(m["namespace"] == "backup_tag_sync" and m["compartmentId"] == COMP for m in data)


def test_outcome_counts() -> None:
    assert outcome_counts({"status": "updated"}, False, 0.1) == ({"updated": 1}, None)
    counts, figures = outcome_counts(
        {"status": "partial", "counts": {"updated": 3}, "scanned": 9, "elapsedSeconds": 2.5}, True, 9.0
    )
    assert counts == {"updated": 3} and figures == SweepFigures(9, 2.5)
    counts, figures = outcome_counts({"status": "rejected", "error": "bad token"}, True, 0.25)
    assert counts == {"rejected": 1} and figures == SweepFigures(0, 0.25)


def test_function_name() -> None:
    assert function_name({"FN_FN_NAME": "backup-tag-sync", "FN_FN_ID": "x"}) == "backup-tag-sync"
    assert function_name({"FN_FN_ID": "ocid1.fnfunc.oc1..a"}) == "ocid1.fnfunc.oc1..a"
    assert function_name({}) == "local"
