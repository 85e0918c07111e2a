"""Benchmark: what a Monitoring outage adds to an invocation's latency (not a test).

One FDK process with METRICS_COMPARTMENT_ID set, against the emulator. Warm dry-run manual
requests (GET only), --calls per condition, medians and the worst case:
- no metrics (METRICS_COMPARTMENT_ID unset, a second process): the floor;
- Monitoring healthy;
- Monitoring answering 503 to every PostMetricData;
- Monitoring hanging (answers after --hang seconds, long after the client gave up).
The answers under an outage are checked to equal the healthy ones.

    .venv/bin/python tests/bench/bench_metrics_outage.py [--calls 15] [--hang 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed  # noqa: E402
from sync.function.fnrunner import FdkProcess  # noqa: E402
from sync.function.metrics import POST_BUDGET_SECONDS  # noqa: E402

BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
BODY = {"volumeGroupBackupId": BACKUP_1, "dryRun": True}


def measure(proc: FdkProcess, calls: int) -> tuple[list[float], list[Any]]:
    times, answers = [], []
    for _ in range(calls):
        began = time.monotonic()
        reply = proc.call(BODY)
        times.append(time.monotonic() - began)
        answer = reply.json()
        answer.pop("opcRequestId", None)
        answers.append((reply.status, answer))
    return times, answers


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--hang", type=float, default=4.0)
    args = parser.parse_args()
    key = generate_api_key(Path(tempfile.mkdtemp(prefix="bench-key-")))
    server = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
    server.register_api_key(key)
    rows: list[tuple[str, list[float]]] = []
    with server:
        base = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning", **server.client_env(key)}
        with FdkProcess(base) as proc:
            measure(proc, 2)
            rows.append(("no metrics configured", measure(proc, args.calls)[0]))
        env = {
            **base,
            "METRICS_COMPARTMENT_ID": "ocid1.compartment.oc1..bench",
            "OCI_MONITORING_ENDPOINT": server.url,
        }
        with FdkProcess(env) as proc:
            measure(proc, 2)
            healthy_times, healthy = measure(proc, args.calls)
            rows.append(("Monitoring healthy", healthy_times))
            outages = {
                "Monitoring 503": {"error_rate": 1.0, "error_mix": {503: 1.0}},
                f"Monitoring hangs {args.hang:g} s": {"slow_rate": 1.0, "slow_seconds": args.hang},
            }
            for label, faults in outages.items():
                server.faults.update({**faults, "operations": ["PostMetricData"], "seed": 1})
                times, answers = measure(proc, args.calls)
                server.faults.update({"error_rate": 0.0, "slow_rate": 0.0})
                assert answers == healthy, f"{label}: the answer changed"
                rows.append((label, times))
    floor = statistics.median(rows[1][1])
    print(f"{'condition':<24} {'median ms':>10} {'max ms':>8} {'median - healthy':>17}")
    for label, times in rows:
        med = statistics.median(times)
        print(f"{label:<24} {med * 1000:>10.1f} {max(times) * 1000:>8.1f} {(med - floor) * 1000:>+16.1f}")
    print(
        f"cap on the post: {POST_BUDGET_SECONDS:g} s read (connect capped at 0.5 s); answers identical: yes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
