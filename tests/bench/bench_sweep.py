"""Benchmark: sweep 1,000 backups (half compliant) at 50 ms per call under a 100 requests/s limit (not a test)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sync.cloud.clients import Clients, OciSettings
from sync.cloud.engine import Engine
from sync.cloud.limiter import AdaptiveLimiter
from sync.cloud.retry import Deadline
from sync.emulator import Backend, EmulatorServer, Faults, generate_api_key
from sync.policy.planner import plan
from sync.sweep.runner import SweepOptions, run_sweep
from tests.test_sweep import COMP, POLICY, SEED, populate, stale_ids


def server_for(n: int, latency_ms: float, rps: float, key: Any) -> EmulatorServer:
    backend = Backend.from_seed(SEED, creating_seconds=None)
    populate(backend, n)
    server = EmulatorServer(backend, faults=Faults(latency_ms=latency_ms, rate_limit_rps=rps))
    server.register_api_key(key)
    return server.start()


def clients_for(server: EmulatorServer, key: Any) -> Clients:
    return Clients(OciSettings.from_env(server.client_env(key)))


def sequential(server: EmulatorServer, key: Any) -> tuple[float, int]:
    """The plain way: SDK calls in a for loop. List every page, then GET each backup, plan it,
    and PUT (with if-match) when it needs a change; volume groups kept in a dict."""
    import oci
    from oci.core import BlockstorageClient
    from oci.core.models import UpdateVolumeGroupBackupDetails
    from oci.util import to_dict

    # The generated SDK client, as a plain loop would use it (the product's clients are lean).
    env = server.client_env(key)
    client = BlockstorageClient(
        oci.config.from_file(env["OCI_CONFIG_FILE"]), service_endpoint=env["OCI_CORE_ENDPOINT"]
    )
    t0 = time.monotonic()
    ids: list[str] = []
    page = None
    while True:
        resp = client.list_volume_group_backups(compartment_id=COMP, page=page, limit=100)
        ids += [b.id for b in resp.data]
        page = resp.next_page
        if not page:
            break
    groups: dict[str, Any] = {}
    updated = 0
    for backup_id in ids:
        got = client.get_volume_group_backup(backup_id)
        backup = to_dict(got.data)
        vg_id = backup["volume_group_id"]
        if vg_id not in groups:
            groups[vg_id] = to_dict(client.get_volume_group(vg_id).data)
        result = plan(POLICY, backup, groups[vg_id])
        if result.changed:
            body = result.update_body()
            details = UpdateVolumeGroupBackupDetails(
                display_name=body.get("displayName"),
                freeform_tags=body.get("freeformTags"),
                defined_tags=body.get("definedTags"),
            )
            client.update_volume_group_backup(backup_id, details, if_match=got.headers["etag"])
            updated += 1
    assert updated == len(ids) // 2, updated
    return time.monotonic() - t0, len(server.backend.log.requests())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backups", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rps", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()
    logging.getLogger("sync").setLevel(logging.CRITICAL)  # the engine logs each 429; the figures say enough
    key = generate_api_key(tempfile.mkdtemp(prefix="bench-key-"))
    n = args.backups

    server = server_for(n, args.latency_ms, args.rps, key)
    try:
        engine = Engine.on(clients_for(server, key), lambda: POLICY)
        limiter = AdaptiveLimiter()
        options = SweepOptions(COMP, concurrency=args.concurrency)
        t0 = time.monotonic()
        result = run_sweep(engine, options, Deadline.after(3600), limiter=limiter)
        sweep_s = time.monotonic() - t0
        log = server.backend.log.requests()
        ok = [r for r in log if r.status < 400]
        ops = Counter(r.operation for r in ok)
        throttled = sum(1 for r in log if r.status == 429)
        left = len(stale_ids(server.backend))
    finally:
        server.stop()
    assert result.status == "swept" and left == 0, (result.status, left, result.failures()[:3])
    calls_needed = len(ok)
    floor = calls_needed / args.rps

    print(f"backups: {n} (half compliant), latency {args.latency_ms:.0f} ms/call, limit {args.rps:.0f} req/s")
    print(f"sweep (concurrency {args.concurrency}): {sweep_s:6.2f} s   {result.counts()}")
    print(
        f"  calls: {calls_needed} successful + {throttled} answered 429  "
        f"({', '.join(f'{k} {v}' for k, v in sorted(ops.items()))})"
    )
    print(
        f"  calls per backup: {calls_needed / n:.3f}  (per non-compliant backup: GET + PUT = 2; compliant: 0)"
    )
    print(f"  limiter: {limiter.snapshot()}")
    print(
        f"floor (calls needed / {args.rps:.0f} per s): {floor:6.2f} s   sweep/floor = {sweep_s / floor:.2f}x"
    )

    if not args.skip_sequential:
        seq_server = server_for(n, args.latency_ms, args.rps, key)
        try:
            seq_s, seq_calls = sequential(seq_server, key)
        finally:
            seq_server.stop()
        print(f"sequential loop (list, then GET and PUT each): {seq_s:6.2f} s   {seq_calls} calls")
        print(f"sweep speed-up over sequential: {seq_s / sweep_s:.1f}x")


if __name__ == "__main__":
    main()
