"""The function's answer to a sweep request: bounded (counts, first failures, resume token, timing)."""

from __future__ import annotations

from collections.abc import Mapping

from sync.cloud.engine import Engine
from sync.cloud.retry import Deadline
from sync.requests.bodies import SweepRequest
from sync.sweep.options import DEFAULT_MAX_FAILURES, MAX_FAILURES_LIMIT, SweepOptions
from sync.sweep.results import SweepResult
from sync.sweep.runner import run_sweep

# Function config: how many failures an answer lists (the rest are counted, and logged).
MAX_FAILURES_ENV = "SWEEP_MAX_FAILURES"


def max_failures_from(env: Mapping[str, str]) -> int:
    """SWEEP_MAX_FAILURES (0 to MAX_FAILURES_LIMIT); the default when unset or not a number."""
    raw = (env.get(MAX_FAILURES_ENV) or "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_FAILURES
    except ValueError:
        return DEFAULT_MAX_FAILURES
    return min(max(value, 0), MAX_FAILURES_LIMIT)


def sweep_for_function(
    engine: Engine,
    request: SweepRequest,
    deadline: Deadline,
    dry_run_config: bool,
    max_failures: int = DEFAULT_MAX_FAILURES,
) -> SweepResult:
    """The function's sweep: bounded (counts, the first failures, where to resume); answered with HTTP 200."""
    options = SweepOptions(
        compartment_id=request.compartment_id,
        recursive=request.recursive,
        since=request.since,
        dry_run=request.dry_run or dry_run_config,
        resume_token=request.page,
        available_only=request.available_only,
        max_failures=max_failures,
        kinds=request.kinds,
    )
    return run_sweep(engine, options, deadline)
