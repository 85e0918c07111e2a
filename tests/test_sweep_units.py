"""Sweep building blocks without a server: the adaptive limiter, resume tokens, --since, progress."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest

from sync.cli.errors import CliError
from sync.cli.options import parse_since
from sync.cli.progress import ProgressBar
from sync.cli.sweep import sweep_exit_code
from sync.cloud.limiter import DECREASE_FACTOR, AdaptiveLimiter
from sync.cloud.retry import Deadline
from sync.domain.status import SweepStatus
from sync.sweep.runner import (
    Position,
    SweepError,
    SweepOptions,
    SweepProgress,
    SweepResult,
    decode_token,
    encode_token,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(rate: float | None, clock: FakeClock, **kw: float) -> AdaptiveLimiter:
    return AdaptiveLimiter(rate, clock=clock, sleep=clock.sleep, **kw)


def far(clock: FakeClock) -> Deadline:
    return Deadline.after(1000, clock)


def test_paces_calls_at_the_rate() -> None:
    clock = FakeClock()
    lim = limiter(10.0, clock, max_rate=10.0)
    start = clock.now
    for _ in range(21):
        assert lim.acquire(far(clock))
    # 21 calls at 10/s: the last starts about 2 s after the first (0.1 s tolerance up front).
    assert 1.8 <= clock.now - start <= 2.0


def test_unpaced_until_the_first_429_then_slower_and_waits_retry_after() -> None:
    clock = FakeClock()
    lim = limiter(None, clock)
    for _ in range(50):
        assert lim.acquire(far(clock))
        clock.now += 0.01  # 100 calls/s achieved
    assert clock.slept == []
    lim.throttled(2.0)
    assert lim.rate is not None and lim.rate == pytest.approx(100 * DECREASE_FACTOR, rel=0.05)
    before = clock.now
    assert lim.acquire(far(clock))
    assert clock.now - before == pytest.approx(2.0)  # everyone honours Retry-After


def test_one_decrease_per_burst_of_429s_then_gradual_growth() -> None:
    clock = FakeClock()
    lim = limiter(100.0, clock)
    for _ in range(8):  # eight threads see the same overload
        lim.throttled(None)
    assert lim.rate == pytest.approx(100 * DECREASE_FACTOR)
    assert lim.decreases == 1 and lim.throttle_count == 8
    clock.now += 2.0
    lim.throttled(None)
    assert lim.rate == pytest.approx(100 * DECREASE_FACTOR**2)
    rate = lim.rate
    clock.now += 1.0
    lim.acquire(far(clock))
    clock.now += 5.0
    lim.acquire(far(clock))
    assert rate < lim.rate < rate * 2  # grows, but gradually


def test_refuses_a_slot_after_the_deadline_without_waiting() -> None:
    clock = FakeClock()
    lim = limiter(1.0, clock)
    deadline = Deadline.after(1.5, clock)
    assert lim.acquire(deadline)
    assert lim.acquire(deadline)  # the next slot, 1 s later
    assert not lim.acquire(deadline)  # would start at 2 s, after the deadline
    lim.throttled(30.0)
    assert not lim.acquire(Deadline.after(10, clock))  # Retry-After 30 s: no slot within 10 s


def test_limiter_is_thread_safe() -> None:
    lim = AdaptiveLimiter(None)
    deadline = Deadline.after(10)

    def work() -> None:
        for _ in range(200):
            lim.acquire(deadline)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lim.granted == 1600


def test_resume_token_round_trip_and_binding() -> None:
    opts = SweepOptions("ocid1.compartment.oc1..aaaa", recursive=True)
    token = encode_token(opts, Position("ocid1.compartment.oc1..child", "PAGE-7"))
    assert decode_token(token, opts) == Position("ocid1.compartment.oc1..child", "PAGE-7")
    with pytest.raises(SweepError, match="another sweep"):
        decode_token(token, SweepOptions("ocid1.compartment.oc1..aaaa", recursive=False))
    with pytest.raises(SweepError, match="not one this tool issued"):
        decode_token("garbage!", opts)
    with pytest.raises(SweepError, match="not one this tool issued"):
        decode_token(token[:-6], opts)


def test_parse_since_forms() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01T00:00:00Z") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T02:00:00+02:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    with pytest.raises(CliError, match="RFC 3339"):
        parse_since("last tuesday")


def test_progress_bar_tty_and_plain() -> None:
    p = SweepProgress(
        scanned=200,
        done=50,
        counts={"updated": 20, "unchanged": 30},
        pages=2,
        elapsed=2.0,
        listing_done=False,
    )
    tty = io.StringIO()
    bar = ProgressBar(tty, tty=True, every=0)
    bar(p)
    bar.finish()
    text = tty.getvalue()
    assert text.startswith("\r[######") and "50/200+" in text and "updated 20" in text and text.endswith("\n")
    plain = io.StringIO()
    ProgressBar(plain, tty=False, every=0)(p)
    assert (
        plain.getvalue()
        == "progress: 50/200+ backups (listing)  25/s  updated 20  unchanged 30  elapsed 2s\n"
    )


def test_exit_codes() -> None:
    assert sweep_exit_code(SweepResult(SweepStatus.SWEPT)) == 0
    assert sweep_exit_code(SweepResult(SweepStatus.PARTIAL, resume_token="t")) == 3
    assert sweep_exit_code(SweepResult(SweepStatus.REJECTED, error="x")) == 2
    failed = SweepResult(SweepStatus.SWEPT, listing_failures=[{"error": "404", "transient": False}])
    assert sweep_exit_code(failed) == 1
