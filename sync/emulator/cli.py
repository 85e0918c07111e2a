"""`backup-tag-sync emulator`: serve the local OCI emulator with a generated API key until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from sync.emulator.backend import load_seed
from sync.emulator.faults import Faults
from sync.emulator.http import EmulatorServer
from sync.emulator.seed import SAMPLE_SEED_PATH
from sync.emulator.signing import generate_api_key


def build_parser(prog: str = "backup-tag-sync") -> argparse.ArgumentParser:
    """The emulator's parser; prog: the command as invoked, for its usage and example."""
    parser = argparse.ArgumentParser(
        prog=f"{prog} emulator",
        description="Serve a local emulator of the OCI Block Storage, Identity and Object Storage "
        "calls backup-tag-sync makes; the real oci SDK talks to it over HTTP. It prints the "
        "settings (export lines) that point the function and the command line at it.",
        epilog=f"example:\n  {prog} emulator --key-dir /tmp/oci-emu --latency-ms 20 "
        "--error-rate 0.05 --fault-seed 1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=SAMPLE_SEED_PATH,
        metavar="FILE",
        help="seed JSON (compartments, backups, volume groups, tag namespaces, objects) "
        "(default: the bundled sample_seed.json)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, a free port)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="milliseconds added before every answer, to mimic a remote endpoint (default: 0)",
    )
    parser.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="fraction of requests answered 429, 500 or 503 at random (default: 0, none)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=0.0,
        metavar="RPS",
        help="requests per second served before 429 TooManyRequests (default: 0, no limit)",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for the random faults, so a run repeats exactly (default: different each run)",
    )
    parser.add_argument(
        "--transient-error",
        action="append",
        default=[],
        metavar="STATUS:COUNT[:OP,OP]",
        help="answer the next COUNT requests (of these operations, default: any) with STATUS: 404 "
        "NotAuthorizedOrNotFound, 400 RelatedResourceNotAuthorizedOrNotFound, 401 NotAuthenticated or "
        "409 IncorrectState; repeatable (default: none)",
    )
    parser.add_argument(
        "--drip-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="send each answer's headers, then its body one byte every S seconds (default: 0, off)",
    )
    parser.add_argument(
        "--drip-operations",
        metavar="OP,OP",
        help="drip only these operations' answers, e.g. PostMetricData,GetVolumeBackup (default: all)",
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="send each answer's headers and half its body, hang S seconds, then close the "
        "connection (default: 0, off)",
    )
    parser.add_argument(
        "--stall-operations",
        metavar="OP,OP",
        help="stall only these operations' answers (default: all)",
    )
    parser.add_argument(
        "--validate-all-defined-tags",
        action="store_true",
        help="check every defined tag in an update body, values already on the backup included "
        "(default: only the values the update changes)",
    )
    parser.add_argument(
        "--unusable-tag-namespaces",
        metavar="NS,NS",
        help="tag namespaces the caller may not use (e.g. Oracle-Tags): an update naming them is "
        "refused 400 RelatedResourceNotAuthorizedOrNotFound (default: none)",
    )
    parser.add_argument(
        "--key-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the API key and OCI config live (reused if present) (default: a temporary directory)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr (default: quiet)")
    parser.add_argument(
        "--regions",
        metavar="R1,R2",
        help="one emulator per region, each with its own copy of the seed, faults and port "
        "(default: one emulator)",
    )
    return parser


def _names(raw: str | None) -> list[str] | None:
    return None if raw is None else [n.strip() for n in raw.split(",") if n.strip()]


def _transient_rule(raw: str) -> dict[str, Any]:
    status, _, rest = raw.partition(":")
    count, _, operations = rest.partition(":")
    try:
        return {"status": int(status), "count": int(count), "operations": _names(operations or None)}
    except ValueError as exc:
        raise ValueError(f"--transient-error {raw!r}: expected STATUS:COUNT[:OP,OP]") from exc


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The Faults the command line's switches ask for (ValueError on a bad value)."""
    return Faults(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        rate_limit_rps=args.rate_limit,
        seed=args.fault_seed,
        transient_errors=[_transient_rule(r) for r in args.transient_error],
        drip_seconds=args.drip_seconds,
        drip_operations=_names(args.drip_operations),
        stall_seconds=args.stall_seconds,
        stall_operations=_names(args.stall_operations),
    )


def tag_checks_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The TagChecks.update() changes the command line's switches ask for."""
    return {
        "validateAllDefinedTags": bool(args.validate_all_defined_tags),
        "unusableTagNamespaces": _names(args.unusable_tag_namespaces) or [],
    }


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, prog: str = "backup-tag-sync") -> int:
    """prog: the command as invoked (the command line passes it; the emulator may not import it)."""
    args = build_parser(prog).parse_args(argv)
    try:
        faults = faults_from_args(args)
        backend = load_seed(args.seed)
        backend.tag_checks.update(tag_checks_from_args(args))
    except (OSError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="oci-emulator-") as tmp:
        key_dir = args.key_dir if args.key_dir is not None else Path(tmp)
        key = generate_api_key(key_dir, reuse=True)
        if args.regions:
            from sync.emulator.regions_cli import serve_regions

            return serve_regions(args, key, prog)
        server = EmulatorServer(backend, faults=faults, host=args.host, port=args.port, verbose=args.verbose)
        server.register_api_key(key)
        try:
            server.start()
        except OSError as exc:
            print(f"emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 2
        url = server.url
        print(f"OCI emulator listening on {url} (seed: {args.seed})")
        print("Use it from another shell with:")
        for name, value in server.client_env(key).items():
            print(f"  export {name}={value}")
        print(f"Admin: {url}/_emulator/requests  {url}/_emulator/state  POST {url}/_emulator/faults")
        print("Ctrl-C stops it.", flush=True)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            signal.signal(signal.SIGTERM, previous)
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
