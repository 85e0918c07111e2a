"""Benchmark: what the event path imports (`python -X importtime`), summed by package (not a test).

A child interpreter imports fdk and func.py as the FDK does and answers the sample create event
against the emulator (GET, GET volume group, PUT), under `-X importtime`. Prints the import
time summed by top-level package (self times, so nothing is counted twice), the biggest
`oci` parts, and whether any heavy SDK service package was imported. Median of --runs.

    .venv/bin/python tests/bench/bench_imports.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed  # noqa: E402

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import fdk
import func
from sync.function.handler import get_app
body = open(sys.argv[2], 'rb').read()
status, answer = get_app().handle(body, 'bench', None)
assert answer['status'] == 'updated', answer
"""
EVENT = ROOT / "tests" / "data" / "events" / "createvolumegroupbackup-end.json"
HEAVY = ("oci.core", "oci.identity", "oci.object_storage", "oci.dns")


def group(module: str) -> str:
    parts = module.split(".")
    if parts[0] in ("oci", "sync") and len(parts) > 1:
        return ".".join(parts[:2]) if parts[1] != "_vendor" else "oci._vendor"
    return parts[0]


def run_once(env: dict[str, str]) -> tuple[dict[str, float], list[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, str(ROOT), str(EVENT)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    by_group: dict[str, float] = defaultdict(float)
    modules: list[str] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        by_group[group(name.strip())] += float(self_us) / 1000.0
        modules.append(name.strip())
    return by_group, modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="import time of the event path, by package")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        key = generate_api_key(Path(tmp))
        runs: list[dict[str, float]] = []
        modules: list[str] = []
        for _ in range(args.runs):
            emulator = EmulatorServer(load_seed(SAMPLE_SEED_PATH))  # fresh: the event renames the backup
            emulator.register_api_key(key)
            with emulator:
                env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning", **emulator.client_env(key)}
                by_group, modules = run_once(env)
            runs.append(by_group)
    groups = sorted({g for r in runs for g in r})
    medians = {g: statistics.median(r.get(g, 0.0) for r in runs) for g in groups}
    total = statistics.median(sum(r.values()) for r in runs)
    print(f"event path imports (median of {args.runs}): {total:.0f} ms in {len(modules)} modules")
    for name, ms in sorted(medians.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {name:32s} {ms:7.1f} ms  {100 * ms / total:4.1f}%")
    heavy = sorted({m for m in modules if m.startswith(HEAVY)})
    print(f"heavy SDK service packages imported: {', '.join(heavy) if heavy else 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
