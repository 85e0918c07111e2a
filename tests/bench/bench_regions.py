"""Benchmark: `sweep --regions` over 3 emulated regions against one region after another (not a test).

20,000 backups over 3 regions x 10 compartments, the three kinds mixed (a group backup, its
member volume backup, a boot volume backup, in turn; half compliant with tests.test_sweep.POLICY,
50 volume groups per region), every API call 30 ms, each region's emulator limiting to 100
requests/s (its own token bucket, 429 + Retry-After above it). The sweeps run as the command
line does, in a child process (`python -m sync sweep --compartment <tenancy> --recursive`):
- together: one run with `--regions r1,r2,r3` (a rate limiter per region; `--processes` as
  given, default auto: a process per region up to the CPUs; 1: a thread per region);
- one after another: three runs, one region each (fresh data, same seed), times added up.
Figures: the together run against the per-region rate floor (the busiest region's successful
calls / 100 per s; goal <= 1.3x) and against one after another (goal >= 2.5x faster), calls per
backup (successful calls of every kind / backups; goal <= 1.05), backups updated twice (goal 0),
the peak RSS of the sweeping process, and the CPU per backup of the sweep (`wait4` rusage of the
child, its worker processes included), with the load average.

    .venv/bin/python tests/bench/bench_regions.py [--backups 20000] [--processes auto] [--skip-sequential]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sync.cloud.regions import env_suffix
from sync.emulator import ApiKey, Faults, generate_api_key
from sync.emulator.multiregion import RegionalEmulators
from tests.scale import TENANCY, populate_tenancy
from tests.test_sweep import POLICY_TEXT, stale_ids

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ["us-ashburn-1", "eu-frankfurt-1", "ap-tokyo-1"]


def start_regions(n: int, latency_ms: float, rps: float, key: ApiKey) -> RegionalEmulators:
    def faults(_region: str) -> Faults:
        return Faults(latency_ms=latency_ms, rate_limit_rps=rps)

    group = RegionalEmulators(REGIONS, {"tenancyId": TENANCY}, faults, creating_seconds=None, max_log=None)
    for index, (region, server) in enumerate(group.servers.items()):
        share = n // len(REGIONS) + (1 if index < n % len(REGIONS) else 0)
        populate_tenancy(
            server.backend,
            share,
            compartments=10,
            compliant_every=2,
            tag=env_suffix(region)[:6].lower(),
            mixed=True,
        )
    group.register_api_key(key)
    return group.start()


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any], float, float, float]:
    """(seconds, JSON answer, peak RSS MB, its CPU s, the emulators' CPU s) of one `sync sweep` child."""
    cmd = [sys.executable, "-m", "sync", "sweep", "--compartment", TENANCY, "--recursive"]
    cmd += [*args, "--output", "json", "--no-progress"]
    with tempfile.TemporaryFile() as out:
        t0 = time.monotonic()
        own0 = resource.getrusage(resource.RUSAGE_SELF)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - t0
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        body = json.loads(out.read() or b"{}")
    assert proc.returncode == 0, (proc.returncode, json.dumps(body)[:800])
    child_cpu = usage.ru_utime + usage.ru_stime
    emulators_cpu = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
    return seconds, body, usage.ru_maxrss / 1024, child_cpu, emulators_cpu


UPDATES = {"UpdateVolumeGroupBackup", "UpdateVolumeBackup", "UpdateBootVolumeBackup"}


def stale_singles(backend: Any) -> list[str]:
    """Volume and boot volume backups POLICY would still change (it sets backup-kind on them)."""
    state = backend.snapshot()
    singles = state["volumeBackups"] + state["bootVolumeBackups"]
    return [b["id"] for b in singles if (b.get("freeformTags") or {}).get("backup-kind") != "scheduled"]


def audit(group: RegionalEmulators) -> dict[str, Any]:
    ok: Counter[str] = Counter()
    throttled = 0
    per_region_ok: dict[str, int] = {}
    updates: Counter[str] = Counter()
    left = 0
    for region, server in group.servers.items():
        log = server.backend.log.requests()
        good = [r for r in log if r.status < 400]
        per_region_ok[region] = len(good)
        ok.update(r.operation for r in good)
        throttled += sum(1 for r in log if r.status == 429)
        updates.update(r.path.rsplit("/", 1)[-1] for r in good if r.operation in UPDATES)
        left += len(stale_ids(server.backend)) + len(stale_singles(server.backend))
    return {
        "ops": ok,
        "calls": sum(ok.values()),
        "per_region": per_region_ok,
        "throttled": throttled,
        "twice": sum(1 for c in updates.values() if c > 1),
        "updated": len(updates),
        "left": left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backups", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rps", type=float, default=100.0)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--processes", default="1")
    args = parser.parse_args()
    key = generate_api_key(tempfile.mkdtemp(prefix="bench-key-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    base_env.update({"TAG_POLICY": POLICY_TEXT, "PYTHONPATH": str(ROOT)})
    base_env.pop("LOG_LEVEL", None)
    n = args.backups
    print(
        f"backups: {n} over {len(REGIONS)} regions x 10 compartments (half compliant), "
        f"{args.latency_ms:.0f} ms per call, {args.rps:.0f} requests/s per region",
        flush=True,
    )

    group = start_regions(n, args.latency_ms, args.rps, key)
    try:
        env = {**base_env, **group.client_env(key)}
        together_s, body, rss, cpu, emulators_cpu = run_cli(
            ["--regions", ",".join(REGIONS), "--processes", args.processes], env
        )
        facts = audit(group)
    finally:
        group.stop()
    assert body["status"] == "swept" and facts["left"] == 0, (body["status"], facts["left"])
    floor = max(facts["per_region"].values()) / args.rps
    print(
        f"together (--regions, --processes {args.processes}): {together_s:7.1f} s   status {body['status']}"
    )
    for region, row in body["regions"].items():
        print(f"  {region:<15} {row['elapsedSeconds']:7.1f} s  scanned {row['scanned']}  {row['counts']}")
    print(f"  total {body['total']}")
    print(
        f"  calls: {facts['calls']} successful + {facts['throttled']} answered 429  "
        f"({', '.join(f'{k} {v}' for k, v in sorted(facts['ops'].items()))})"
    )
    print(f"  calls per backup: {facts['calls'] / n:.3f}  (goal <= 1.05)")
    print(f"  backups updated: {facts['updated']}, updated twice: {facts['twice']}  (goal 0)")
    print(f"  peak RSS of the sweeping process: {rss:.1f} MB")
    print(
        f"  CPU: sweeping process {cpu:.1f} s ({1000 * cpu / n:.2f} ms per backup), "
        f"the 3 emulators (this process) {emulators_cpu:.1f} s, over {together_s:.1f} s of wall time"
    )
    print(
        f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    print(
        f"rate floor (busiest region's calls / {args.rps:.0f} per s): {floor:6.1f} s   "
        f"together/floor = {together_s / floor:.2f}x  (goal <= 1.3x)",
        flush=True,
    )

    if args.skip_sequential:
        return
    group = start_regions(n, args.latency_ms, args.rps, key)
    try:
        env = {**base_env, **group.client_env(key)}
        sequential_s = 0.0
        for region in REGIONS:
            seconds, _, _, _, _ = run_cli(["--regions", region], env)
            print(f"one region at a time: {region:<15} {seconds:7.1f} s", flush=True)
            sequential_s += seconds
        seq = audit(group)
    finally:
        group.stop()
    assert seq["left"] == 0
    print(f"one after another: {sequential_s:7.1f} s   ({seq['calls']} successful calls)")
    print(f"together is {sequential_s / together_s:.2f}x faster than one after another  (goal >= 2.5x)")


if __name__ == "__main__":
    main()
