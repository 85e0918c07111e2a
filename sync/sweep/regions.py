"""Several regions at once: one sweep per region on its own thread (its own clients and rate limiter).

A region that cannot start (authentication, endpoint settings) or that fails on the way (401,
a 5xx storm outliving the call budget) is reported with its reason; the others go on. The
answer has a row per region and a total; its resume token names the unfinished regions only.
"""

from __future__ import annotations

import contextvars
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sync.cloud.engine import Engine
from sync.cloud.retry import Deadline
from sync.domain.status import SweepStatus
from sync.sweep.options import SweepOptions
from sync.sweep.results import SweepProgress, SweepResult
from sync.sweep.runner import run_sweep
from sync.sweep.tokens import encode_regions_token


@dataclass
class RegionSweep:
    """One region's row: its sweep's result, or why it could not start (`error`, status failed)."""

    region: str
    result: SweepResult | None = None
    error: str | None = None

    @property
    def status(self) -> SweepStatus:
        return self.result.status if self.result is not None else SweepStatus.FAILED

    @property
    def reason(self) -> str | None:
        return self.error if self.result is None else self.result.error

    def to_json(self) -> dict[str, Any]:
        if self.result is not None:
            return self.result.to_json()
        return {"status": SweepStatus.FAILED.value, "region": self.region, "error": self.error}


@dataclass
class RegionsResult:
    """Every region's row, the total, and one resume token for the regions left unfinished."""

    regions: list[RegionSweep] = field(default_factory=list)
    elapsed: float = 0.0
    dry_run: bool = False

    @property
    def status(self) -> SweepStatus:
        statuses = {r.status for r in self.regions}
        if statuses <= {SweepStatus.SWEPT}:
            return SweepStatus.SWEPT
        if statuses <= {SweepStatus.FAILED, SweepStatus.REJECTED}:
            return SweepStatus.FAILED
        return SweepStatus.PARTIAL

    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for r in self.regions:
            if r.result is not None:
                total.update(r.result.counts())
        return dict(total)

    @property
    def scanned(self) -> int:
        return sum(r.result.scanned for r in self.regions if r.result is not None)

    @property
    def permanent_failures(self) -> int:
        return sum(r.result.permanent_failures for r in self.regions if r.result is not None)

    def unfinished(self) -> dict[str, str | None]:
        """region -> where to resume it (None: from its beginning), for every region not swept."""
        return {
            r.region: r.result.resume_token if r.result is not None else None
            for r in self.regions
            if r.status is not SweepStatus.SWEPT
        }

    @property
    def resume_token(self) -> str | None:
        left = self.unfinished()
        return encode_regions_token(left) if left else None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "regions": {r.region: r.to_json() for r in self.regions},
            "total": {"counts": self.counts(), "scanned": self.scanned},
            "resumeToken": self.resume_token,
            "dryRun": self.dry_run,
            "elapsedSeconds": round(self.elapsed, 3),
        }


def sweep_regions(
    regions: list[str],
    engine_for: Callable[[str], Engine],
    options: SweepOptions,
    deadline: Deadline,
    resume: Mapping[str, str | None] | None = None,
    progress: Callable[[str, SweepProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> RegionsResult:
    """Sweep every region in parallel; never raises (a region's problem is its row's reason).

    engine_for(region) builds that region's engine (its own clients); each region's sweep has its
    own limiter. Whatever engine_for raises becomes the region's reason. resume: region -> its resume
    token. stop: as run_sweep's.
    """
    started = time.monotonic()
    tokens = dict(resume or {})

    def one(region: str) -> RegionSweep:
        try:
            engine = engine_for(region)
        except Exception as exc:  # setup problems are this region's reason, not a crash
            return RegionSweep(region, error=str(exc) or type(exc).__name__)
        opts = dataclasses.replace(options, region=region, resume_token=tokens.get(region))
        report = (lambda p: progress(region, p)) if progress is not None else None
        try:
            return RegionSweep(region, run_sweep(engine, opts, deadline, report, stop=stop))
        except Exception as exc:  # run_sweep does not raise; a bug in one region must not lose the others
            return RegionSweep(region, error=f"internal error: {exc!r}"[:300])

    with ThreadPoolExecutor(max(1, len(regions)), thread_name_prefix="region") as pool:
        # Each region logs with the caller's context (e.g. its Fn call id).
        futures = [pool.submit(contextvars.copy_context().run, one, region) for region in regions]
        rows = [f.result() for f in futures]
    return RegionsResult(rows, time.monotonic() - started, options.dry_run)
