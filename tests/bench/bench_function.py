"""Benchmark: the function vs a naive baseline under the real FDK against the emulator (not a test).

Measured side by side in one run (medians; the machine is shared, so compare ratios):
1. cold start: process start to first response, vs `python -c "import fdk, oci; from oci.core
   import BlockstorageClient"` (the imports neither function can avoid);
2. calls per event, from the emulator's request log;
3. warm latency over --warm calls: total (bench's POST /call to reply) and function-side time
   = total minus the emulator's own handling time (measured inside the emulator, which runs in
   this process: the wall time of each request's handler), plus a direct-SDK baseline (the same
   GET [+ GET] [+ PUT] sent by one pre-built SDK client in this process);
4. peak RSS: VmHWM of the FDK process after --rss-calls invocations.

    .venv/bin/python tests/bench/bench_function.py [--cold 7] [--warm 500] [--rss-calls 200]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, ApiKey, EmulatorServer, generate_api_key, load_seed  # noqa: E402
from sync.emulator import http as emulator_http  # noqa: E402
from sync.function.fnrunner import FdkProcess  # noqa: E402

NAIVE = Path(__file__).resolve().parent / "naive_func.py"
EVENT = (ROOT / "tests" / "data" / "events" / "createvolumegroupbackup-end.json").read_bytes()
BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
BARE_IMPORTS = "import fdk, oci; from oci.core import BlockstorageClient"
# The same plus what any authenticated function must also do once: read its credentials and
# build a client (loading the RSA key is most of it). The naive baseline pays this too.
BARE_WITH_SIGNER = (
    BARE_IMPORTS + "; import sys; BlockstorageClient(oci.config.from_file(sys.argv[1]),"
    " service_endpoint='http://127.0.0.1:9')"
)

# A policy whose rules read only the backup: no GetVolumeGroup (calls per event: 1 or 2).
BACKUP_ONLY_POLICY = """
version: 1
rules:
  - name: provenance
    freeform_tags:
      backup-kind: "${backup.source_type|lower}"
      backup-type: "${backup.type|lower}"
"""


# -- emulator-side timing -------------------------------------------------------------------


class EmulatorClock:
    """Wall time the emulator spends handling each API request (headers parsed to reply sent)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spent = 0.0
        original = emulator_http._Handler._handle
        clock = self

        def timed(handler: Any) -> None:
            start = time.perf_counter()
            try:
                original(handler)
            finally:
                with clock.lock:
                    clock.spent += time.perf_counter() - start

        emulator_http._Handler._handle = timed  # type: ignore[method-assign]

    def take(self) -> float:
        with self.lock:
            spent, self.spent = self.spent, 0.0
        return spent


# -- helpers --------------------------------------------------------------------------------


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def env_for(emulator: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "info", **emulator.client_env(key), **extra}


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.key = generate_api_key(tmp / "key")
        self.clock = EmulatorClock()
        self.emulator = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
        self.emulator.register_api_key(self.key)
        self.emulator.start()
        self.original = copy.deepcopy(self.backup())

    def backup(self) -> dict[str, Any]:
        return self.emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]

    def reset_backup(self) -> None:
        self.emulator.backend.blockstorage.add_volume_group_backup(self.original)

    @contextmanager
    def fdk(self, func: Path | None = None, **extra: str) -> Iterator[FdkProcess]:
        proc = FdkProcess(env_for(self.emulator, self.key, **extra), func_path=func or ROOT / "func.py")
        try:
            yield proc.start()
        finally:
            proc.cleanup()

    # 1. cold start -----------------------------------------------------------------------

    def bare_imports(self, with_signer: bool = False) -> float:
        # os._exit: interpreter teardown (~70 ms of freeing the SDK's modules) is not part of
        # "start to first response", which is what the functions are timed on.
        code = (BARE_WITH_SIGNER if with_signer else BARE_IMPORTS) + "; import os; os._exit(0)"
        argv = [sys.executable, "-c", code, str(self.key.config_path)]
        start = time.monotonic()
        subprocess.run(argv, check=True, capture_output=True)
        return time.monotonic() - start

    def cold(self, func: Path | None) -> float:
        self.reset_backup()
        proc = FdkProcess(env_for(self.emulator, self.key), func_path=func or ROOT / "func.py")
        try:
            proc.start()
            reply = proc.call(EVENT)
            elapsed = time.monotonic() - proc.started_at
            assert reply.status == 200 and reply.json()["status"] == "updated", reply.body[:300]
            return elapsed
        finally:
            proc.cleanup()

    # 2. calls per event --------------------------------------------------------------------

    def calls(self, proc: FdkProcess, reset: bool) -> tuple[str, int, list[str]]:
        if reset:
            self.reset_backup()
        self.emulator.backend.log.reset()
        answer = proc.call(EVENT).json()
        ops = [r.operation for r in self.emulator.backend.log.requests()]
        return answer["status"], len(ops), ops

    # 3. warm latency -----------------------------------------------------------------------

    def warm(self, proc: FdkProcess, n: int, reset: bool, expect: str) -> tuple[list[float], list[float]]:
        totals, sides = [], []
        for _ in range(n):
            if reset:
                self.reset_backup()
            self.clock.take()
            start = time.perf_counter()
            reply = proc.call(EVENT)
            total = time.perf_counter() - start
            spent = self.clock.take()
            status = reply.json()["status"]
            assert status == expect, (status, expect)
            totals.append(total * 1000)
            sides.append((total - spent) * 1000)
        return totals, sides

    def direct_sdk(self, n: int, with_put: bool) -> list[float]:
        """The same HTTP calls from one pre-built SDK client in this process (no FDK, no engine)."""
        import oci

        client = oci.core.BlockstorageClient(
            oci.config.from_file(str(self.key.config_path)),
            service_endpoint=self.emulator.url,
            retry_strategy=oci.retry.NoneRetryStrategy(),
            circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
        )
        details = oci.core.models.UpdateVolumeGroupBackupDetails(freeform_tags={"a": "b"})
        out = []
        for _ in range(n):
            self.reset_backup()
            start = time.perf_counter()
            got = client.get_volume_group_backup(BACKUP_1)
            client.get_volume_group(got.data.volume_group_id)
            if with_put:
                client.update_volume_group_backup(BACKUP_1, details, if_match=got.headers["etag"])
            out.append((time.perf_counter() - start) * 1000)
        return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fn-") as tmp:
        b = Bench(Path(tmp))
        try:
            # 1. cold start, interleaved so drift in machine load hits all three alike
            bare, bare_signer, ours, naive = [], [], [], []
            for _ in range(args.cold):
                bare.append(b.bare_imports())
                bare_signer.append(b.bare_imports(with_signer=True))
                ours.append(b.cold(None))
                naive.append(b.cold(NAIVE))
            results["cold"] = {
                "bare_imports_s": statistics.median(bare),
                "bare_signer_s": statistics.median(bare_signer),
                "ours_s": statistics.median(ours),
                "naive_s": statistics.median(naive),
                "runs": args.cold,
            }

            # 2. calls per event
            calls: dict[str, Any] = {}
            with b.fdk(TAG_POLICY=BACKUP_ONLY_POLICY) as proc:
                calls["backup-only policy, change needed"] = b.calls(proc, reset=True)
                calls["backup-only policy, already compliant"] = b.calls(proc, reset=False)
            with b.fdk() as proc:
                calls["default policy (needs volume group), change needed"] = b.calls(proc, reset=True)
                calls["default policy (needs volume group), already compliant"] = b.calls(proc, reset=False)
            with b.fdk(NAIVE) as proc:
                calls["naive, change needed"] = b.calls(proc, reset=True)
                calls["naive, already compliant"] = b.calls(proc, reset=False)
            results["calls"] = calls

            # 3. warm latency and 4. peak RSS (the warm runs are the RSS workload)
            warm: dict[str, Any] = {}
            rss: dict[str, float] = {}
            with b.fdk() as proc:
                b.warm(proc, 5, reset=True, expect="updated")  # warm-up
                warm["ours change (GET, GET vg, PUT)"] = b.warm(proc, args.warm, True, "updated")
                warm["ours compliant (GET, GET vg)"] = b.warm(proc, args.warm, False, "unchanged")
                rss["ours after warm runs"] = vm_hwm_mb(proc.pid())
            with b.fdk(TAG_POLICY=BACKUP_ONLY_POLICY) as proc:
                b.warm(proc, 5, reset=False, expect="unchanged")
                warm["ours compliant, backup-only policy (GET)"] = b.warm(proc, args.warm, False, "unchanged")
            with b.fdk(NAIVE) as proc:
                b.warm(proc, 5, reset=True, expect="updated")
                warm["naive (GET, GET vg, PUT always)"] = b.warm(proc, args.warm, True, "updated")
                rss["naive after warm runs"] = vm_hwm_mb(proc.pid())
            direct = b.direct_sdk(args.warm, with_put=True)
            results["warm"] = {
                name: {
                    "total_p50_ms": statistics.median(t),
                    "total_p99_ms": pct(t, 99),
                    "fn_side_p50_ms": statistics.median(s),
                    "fn_side_p99_ms": pct(s, 99),
                }
                for name, (t, s) in warm.items()
            }
            results["direct_sdk_3_calls_p50_ms"] = statistics.median(direct)

            # 4. peak RSS over exactly --rss-calls invocations from a fresh process
            with b.fdk() as proc:
                for i in range(args.rss_calls):
                    if i % 2 == 0:
                        b.reset_backup()
                    proc.call(EVENT)
                rss[f"ours, fresh, {args.rss_calls} calls"] = vm_hwm_mb(proc.pid())
            with b.fdk(NAIVE) as proc:
                for _ in range(args.rss_calls):
                    b.reset_backup()
                    proc.call(EVENT)
                rss[f"naive, fresh, {args.rss_calls} calls"] = vm_hwm_mb(proc.pid())
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    BARE_IMPORTS + "; print(open('/proc/self/status').read())",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            hwm = next(line for line in out.splitlines() if line.startswith("VmHWM:"))
            rss["bare imports (python -c)"] = int(hwm.split()[1]) / 1024
            results["rss_mb"] = rss
        finally:
            b.emulator.stop()
    return results


def report(r: dict[str, Any]) -> None:
    c = r["cold"]
    print(f"== cold start: process start to first response (median of {c['runs']}) ==")
    print(f"  bare imports ({BARE_IMPORTS}): {c['bare_imports_s'] * 1000:7.0f} ms")
    ratio = c["ours_s"] / c["bare_imports_s"]
    print(
        f"  ours (FDK + first event, 3 OCI calls):  {c['ours_s'] * 1000:7.0f} ms  "
        f"= {ratio:.2f}x bare ({(ratio - 1) * 100:+.0f}%; goal <= +20%)"
    )
    print(
        f"  naive:                                  {c['naive_s'] * 1000:7.0f} ms  "
        f"= {c['naive_s'] / c['bare_imports_s']:.2f}x bare"
    )
    if "bare_signer_s" in c:
        signer = c["bare_signer_s"]
        print(f"  bare imports + config + signed client (no call): {signer * 1000:7.0f} ms")
        print(
            f"  ours against that floor: {c['ours_s'] / signer:.2f}x ({(c['ours_s'] / signer - 1) * 100:+.0f}%);"
            f" naive: {c['naive_s'] / signer:.2f}x"
        )
    print("== OCI calls per event (emulator request log) ==")
    for name, (status, n, ops) in r["calls"].items():
        print(f"  {name:58s} {n}  {status:9s} {', '.join(ops)}")
    print("== warm invocations (ms; fn-side = total - emulator handling) ==")
    print(f"  {'scenario':44s} {'p50':>7s} {'p99':>7s} {'fn p50':>7s} {'fn p99':>7s}")
    for name, w in r["warm"].items():
        print(
            f"  {name:44s} {w['total_p50_ms']:7.2f} {w['total_p99_ms']:7.2f} "
            f"{w['fn_side_p50_ms']:7.2f} {w['fn_side_p99_ms']:7.2f}"
        )
    ours = r["warm"]["ours change (GET, GET vg, PUT)"]
    naive = r["warm"]["naive (GET, GET vg, PUT always)"]
    print(
        f"  ratio ours/naive, same 3 calls: total p50 {ours['total_p50_ms'] / naive['total_p50_ms']:.2f}, "
        f"fn-side p50 {ours['fn_side_p50_ms'] / naive['fn_side_p50_ms']:.2f}"
    )
    direct = r["direct_sdk_3_calls_p50_ms"]
    print(
        f"  direct SDK, same 3 calls from one pre-built client: p50 {direct:.2f} ms -> "
        f"ours adds {ours['total_p50_ms'] - direct:.2f} ms over the bare SDK calls (FDK, engine, logs)"
    )
    print("== peak RSS (VmHWM, MB; goal <= 100) ==")
    for name, mb in r["rss_mb"].items():
        print(f"  {name:40s} {mb:6.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cold", type=int, default=7, help="cold starts per function")
    parser.add_argument("--warm", type=int, default=500, help="warm calls per scenario")
    parser.add_argument("--rss-calls", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = run(args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
