"""`backup-tag-sync emulator --regions r1,r2`: one emulator per region until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from sync.emulator.cli import faults_from_args, tag_checks_from_args
from sync.emulator.faults import Faults
from sync.emulator.multiregion import RegionalEmulators
from sync.emulator.seed import read_seed
from sync.emulator.signing import ApiKey


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_regions(args: argparse.Namespace, key: ApiKey, prog: str = "backup-tag-sync") -> int:
    """Serve until Ctrl-C; prog: the command as invoked, for the hint it prints."""
    regions = [r.strip() for r in str(args.regions).split(",") if r.strip()]
    try:
        seed = read_seed(args.seed)

        def faults(_region: str) -> Faults:
            return faults_from_args(args)

        group = RegionalEmulators(regions, seed, faults)
        for server in group.servers.values():
            server.backend.tag_checks.update(tag_checks_from_args(args))
    except (OSError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    group.register_api_key(key)
    try:
        group.start()
    except OSError as exc:
        group.stop()
        print(f"emulator: cannot listen: {exc}", file=sys.stderr)
        return 2
    for region, server in group.servers.items():
        print(f"OCI emulator for {region} listening on {server.url} (seed: {args.seed})")
    print(f"Use them from another shell with ({prog} sweep --regions ...):")
    for name, value in group.client_env(key).items():
        print(f"  export {name}={value}")
    print("Ctrl-C stops them.", flush=True)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        group.stop()
        signal.signal(signal.SIGTERM, previous)
    print("emulator stopped", flush=True)
    return 0
