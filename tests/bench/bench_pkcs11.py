"""Benchmark: the function's cold start and peak RSS with and without the SDK's PKCS#11 extras (not a test).

`import oci` imports `oci.auth.signers`, which imports the HSM signer and through it
`python-pkcs11` (a C extension) and `asn1crypto` when they are installed; the SDK catches their
absence (`oci/auth/signers/__init__.py`: "Some environments do not have optional PKCS#11
dependencies installed"). The function signs with API keys or resource principals, never an
HSM, so tools/prune_oci.py can leave both out of the image. This compares, in one run and
alternating, the same FDK process on two import trees: the venv's site-packages as installed,
and the same entries less `pkcs11` and `asn1crypto` (symlinks; `python -S` so that only the
tree given is searched).

    .venv/bin/python tests/bench/bench_pkcs11.py [--runs 5] [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed  # noqa: E402
from sync.function.fnrunner import FdkProcess  # noqa: E402
from tests.bench.bench_function import BACKUP_1, EVENT, env_for, vm_hwm_mb  # noqa: E402

PRUNED = ("pkcs11", "asn1crypto")


def tree(tmp: Path, name: str, leave_out: tuple[str, ...]) -> Path:
    """A directory of symlinks to site-packages' entries, less those named (and their dist-info)."""
    site = Path(sysconfig.get_paths()["purelib"])
    out = tmp / name
    out.mkdir()
    for entry in site.iterdir():
        base = entry.name.split("-")[0].lower().removeprefix("python_")
        if base not in leave_out:
            (out / entry.name).symlink_to(entry)
    return out


def python_on(tmp: Path, site: Path) -> str:
    script = tmp / f"python-{site.name}"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="$PYTHONPATH:{site}" exec {sys.executable} -S "$@"\n')
    script.chmod(0o755)
    return str(script)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        key = generate_api_key(tmp / "key")
        emulator = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
        emulator.register_api_key(key)
        emulator.start()
        original = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
        pythons = {
            "as installed": python_on(tmp, tree(tmp, "full", ())),
            "less pkcs11, asn1crypto": python_on(tmp, tree(tmp, "pruned", PRUNED)),
        }
        cold: dict[str, list[float]] = {k: [] for k in pythons}
        rss: dict[str, list[float]] = {k: [] for k in pythons}
        try:
            for _ in range(args.runs):
                for name, python in pythons.items():
                    emulator.backend.blockstorage.add_volume_group_backup(original)
                    proc = FdkProcess(env_for(emulator, key), python=python)
                    try:
                        proc.start()
                        reply = proc.call(EVENT)
                        cold[name].append(time.monotonic() - proc.started_at)
                        assert reply.status == 200 and reply.json()["status"] == "updated", reply.body[:300]
                        for _ in range(args.calls - 1):
                            emulator.backend.blockstorage.add_volume_group_backup(original)
                            proc.call(EVENT)
                        rss[name].append(vm_hwm_mb(proc.pid()))
                    finally:
                        proc.cleanup()
        finally:
            emulator.stop()
    print(f"== cold start (median of {args.runs}) and peak RSS after {args.calls} events (median, MB) ==")
    for name in pythons:
        print(
            f"  {name:24s} cold {statistics.median(cold[name]) * 1000:6.0f} ms   "
            f"VmHWM {statistics.median(rss[name]):5.1f} MB (min {min(rss[name]):.1f}, max {max(rss[name]):.1f})"
        )
    a, b = (statistics.median(rss[n]) for n in pythons)
    print(f"  peak RSS saved by leaving the PKCS#11 extras out: {a - b:.1f} MB")


if __name__ == "__main__":
    main()
