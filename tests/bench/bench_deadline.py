"""Benchmark: time from request to answer when every OCI call is slower than the deadline allows.

Two cases, each event sent through the real FDK with an `Fn-Deadline` --deadline seconds ahead:
`latency`: the emulator adds --latency seconds to every API call; `drip`: every endpoint (Block
Storage, Identity, Monitoring: metrics are on) sends its headers at once and then one body byte
every --drip seconds, which no per-read timeout catches. Prints min/median/max time to the answer
vs the deadline, how far before it the slowest answer came, how many came after it (goal: none),
and the statuses (not a test).

    .venv/bin/python tests/bench/bench_deadline.py [--runs 20] [--latency 2.5] [--drip 0.5] [--deadline 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed  # noqa: E402
from sync.function.fnrunner import FdkProcess  # noqa: E402

EVENT = (ROOT / "tests" / "data" / "events" / "createvolumegroupbackup-end.json").read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency", type=float, default=2.5, help="seconds added to every OCI call")
    parser.add_argument("--drip", type=float, default=0.5, help="seconds between body bytes (drip case)")
    parser.add_argument("--deadline", type=float, default=4.0, help="Fn-Deadline, seconds after the request")
    parser.add_argument("--case", choices=("latency", "drip", "both"), default="both")
    args = parser.parse_args(argv)
    late = 0
    if args.case in ("latency", "both"):
        late += run(args, {"latency_ms": args.latency * 1000}, f"{args.latency:.1f} s per OCI call")
    if args.case in ("drip", "both"):
        faults = {"drip_seconds": args.drip}  # every operation, Monitoring included
        late += run(args, faults, f"every answer dripping one byte per {args.drip:.1f} s")
    return 1 if late else 0


def run(args: argparse.Namespace, faults: dict[str, float], label: str) -> int:
    """Send --runs events with these emulator faults on; print the figures; the number of late answers."""
    with tempfile.TemporaryDirectory() as tmp:
        key = generate_api_key(Path(tmp))
        emulator = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
        emulator.register_api_key(key)
        emulator.faults.update(faults)
        with emulator:
            env = {
                "PATH": "/usr/bin:/bin",
                "LOG_LEVEL": "info",
                **emulator.client_env(key),
                "METRICS_COMPARTMENT_ID": "ocid1.compartment.oc1..aaaaaaaametrics",
                "OCI_MONITORING_ENDPOINT": emulator.url,
            }
            times: list[float] = []
            statuses: Counter[str] = Counter()
            with FdkProcess(env) as fn:
                for _ in range(args.runs):
                    start = time.monotonic()
                    reply = fn.call(EVENT, deadline_seconds=args.deadline)
                    times.append(time.monotonic() - start)
                    statuses[f"{reply.status} {reply.json().get('status')}"] += 1
            if "latency_ms" in faults:
                time.sleep(args.latency + 0.5)  # the emulator logs a request once it has answered it
            calls = Counter(r.operation for r in emulator.backend.log.requests())
    late = sum(1 for t in times if t >= args.deadline)
    print(f"{args.runs} events, {label}, Fn-Deadline {args.deadline:.1f} s ahead")
    print(
        f"  request to answer: min {min(times):.3f} s, median {statistics.median(times):.3f} s,"
        f" max {max(times):.3f} s; deadline {args.deadline:.3f} s; slowest"
        f" {args.deadline - max(times):.3f} s before it; after the deadline: {late}"
    )
    print(f"  answers: {dict(statuses)}; OCI calls logged: {dict(calls)}")
    return late


if __name__ == "__main__":
    sys.exit(main())
