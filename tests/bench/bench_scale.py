"""Benchmark: the function's sweep answer size and peak RSS at 20,000 and 100,000 backups (not a test).

The function runs under the real FDK (dry run, the default policy tag_policy.yaml, LOG_LEVEL
info) against the emulator in this process; the tenancy holds N backups over 10 compartments
and 50 volume groups (--mixed: the three kinds in turn, each group backup's member among them),
and one request sweeps it all (recursive). Each N gets a fresh FDK
process; its baseline is the same process after a sweep with nothing to do.

    .venv/bin/python tests/bench/bench_scale.py [--backups 20000 100000] [--mixed]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sync.emulator import ApiKey, Backend, EmulatorServer, generate_api_key
from sync.function.fnrunner import FdkProcess
from tests.scale import TENANCY, peak_rss_mb, populate_tenancy

ANSWER_GOAL_KB = 100.0
RSS_GOAL_MB = 100.0


def measure(n: int, key: ApiKey, mixed: bool = False) -> dict[str, float]:
    backend = Backend(creating_seconds=None, max_log=1000)
    populate_tenancy(backend, n, mixed=mixed)
    server = EmulatorServer(backend)
    server.register_api_key(key)
    with server:
        env = {"PATH": "/usr/bin:/bin", "DRY_RUN": "true", "LOG_LEVEL": "info", **server.client_env(key)}
        with FdkProcess(env) as fn:
            empty = fn.call({"sweep": {"compartmentId": TENANCY}})
            assert empty.status == 200, empty.body[:300]
            baseline = peak_rss_mb(fn.pid())
            t0 = time.monotonic()
            reply = fn.call(
                {"sweep": {"compartmentId": TENANCY, "recursive": True}}, deadline_seconds=3600, timeout=3600
            )
            seconds = time.monotonic() - t0
            peak = peak_rss_mb(fn.pid())
    body = reply.json()
    assert reply.status == 200 and body["scanned"] == n and body["status"] == "swept", body
    return {
        "answer_kb": len(reply.body) / 1024,
        "peak_mb": peak,
        "baseline_mb": baseline,
        "seconds": seconds,
        "per_backup_ms": 1000 * seconds / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backups", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="the three kinds in turn: a group backup (members: tags), its member volume backup, a boot volume backup",
    )
    args = parser.parse_args()
    key = generate_api_key(tempfile.mkdtemp(prefix="bench-key-"))
    kinds = "the three kinds mixed" if args.mixed else "volume group backups"
    print(
        f"function sweep under the real FDK, dry run, default policy, {kinds}, 10 compartments, 50 volume groups"
    )
    print(
        f"{'backups':>8}  {'answer':>9}  {'peak RSS':>9}  {'baseline':>9}  {'growth':>7}  {'time':>7}  goals met"
    )
    for n in args.backups:
        m = measure(n, key, args.mixed)
        ok = m["answer_kb"] < ANSWER_GOAL_KB and m["peak_mb"] < RSS_GOAL_MB
        print(
            f"{n:>8}  {m['answer_kb']:>6.2f} KB  {m['peak_mb']:>6.1f} MB  {m['baseline_mb']:>6.1f} MB  "
            f"{m['peak_mb'] - m['baseline_mb']:>4.1f} MB  {m['seconds']:>6.1f}s  "
            f"{'yes' if ok else 'NO'} (answer < {ANSWER_GOAL_KB:.0f} KB, RSS < {RSS_GOAL_MB:.0f} MB)",
            flush=True,
        )


if __name__ == "__main__":
    main()
