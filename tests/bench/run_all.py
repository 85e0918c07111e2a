"""`make bench`: every benchmark script in tests/bench/, then the reliability, fuzz, log-safety
and injection suites at full counts. Prints everything; exits 1 if anything failed.

    .venv/bin/python tests/bench/run_all.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

FULL_COUNTS = {
    "RACE_TRIALS": "200",
    "DELIVERY_ROUNDS": "50",
    "FAULT_EVENTS": "500",
    "FAULT_WORKERS": "8",
    "FUZZ_EXAMPLES": "5000",
}
SUITES = [
    "tests/test_reliability.py",
    "tests/test_fuzz.py",
    "tests/test_log_safety.py",
    "tests/test_injection.py",
]


def run(title: str, cmd: list[str], env: dict[str, str] | None = None) -> int:
    print(f"\n##### {title}\n$ {' '.join(cmd)}", flush=True)
    start = time.monotonic()
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    print(f"##### {title}: exit {code} in {time.monotonic() - start:.0f} s", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run every benchmark and the full-count suites")
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--only", nargs="*", help="script names (e.g. bench_function) or 'suites'")
    args = parser.parse_args(argv)
    failures = []
    scripts = sorted(p for p in HERE.glob("bench_*.py"))
    for script in scripts:
        if args.only and script.stem not in args.only:
            continue
        cmd = [sys.executable, str(script.relative_to(ROOT))]
        if args.quick and script.stem == "bench_function":
            cmd += ["--cold", "3", "--warm", "50", "--rss-calls", "50"]
        if args.quick and script.stem == "bench_deadline":
            cmd += ["--runs", "5"]
        if args.quick and script.stem == "bench_hostile":
            cmd += ["--repeats", "1"]
        if args.quick and script.stem == "bench_regions":
            cmd += ["--backups", "3000"]
        if args.quick and script.stem == "bench_scale":
            cmd += ["--backups", "2000", "5000"]
        if script.stem == "bench_size":
            cmd += ["--reuse"]  # reuses build/bench-size/site when present
        if run(script.stem, cmd):
            failures.append(script.stem)
    if not args.only or "suites" in args.only:
        env = {**os.environ}
        if not args.quick:
            env.update(FULL_COUNTS)
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "--durations=0", *SUITES]
        if run("reliability, fuzz, log-safety and injection suites", cmd, env):
            failures.append("suites")
    print(f"\n##### done: {'FAILED: ' + ', '.join(failures) if failures else 'all passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
