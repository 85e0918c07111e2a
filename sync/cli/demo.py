"""`backup-tag-sync demo`: emulator, function under the real FDK, a sample event, before and after."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from sync.cli.common import CliError
from sync.cli.table import render_table
from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed
from sync.function.fnrunner import ROOT, FdkProcess

SAMPLE_EVENT = ROOT / "samples" / "event.json"
FDK_MISSING = (
    "demo runs the function under the Fn FDK, which this install lacks: "
    "pip install '.[cli,function]' from the checkout (or run `make demo` there)"
)


def checkout_paths(cwd: Path | None = None) -> tuple[Path, Path]:
    """func.py and samples/event.json of the checkout the working directory is in (or the package's)."""
    here = (cwd or Path.cwd()).resolve()
    for base in (here, *here.parents, ROOT):
        func, event = base / "func.py", base / "samples" / "event.json"
        if func.is_file() and event.is_file():
            if importlib.util.find_spec("fdk") is None:
                raise CliError(FDK_MISSING)
            return func, event
    raise CliError(
        "demo runs in a checkout of the repository (it starts func.py and sends samples/event.json): "
        "cd into one, or run `make demo` there"
    )


def _tag_rows(resource: dict[str, Any]) -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = [("displayName", "", resource.get("displayName"))]
    for key, value in sorted((resource.get("freeformTags") or {}).items()):
        rows.append(("freeformTags", key, value))
    for ns, keys in sorted((resource.get("definedTags") or {}).items()):
        for key, value in sorted(keys.items()):
            rows.append(("definedTags", f"{ns}.{key}", value))
    return rows


def _show(title: str, resource: dict[str, Any], out: TextIO) -> None:
    print(f"\n{title}", file=out)
    print(render_table(("FIELD", "KEY", "VALUE"), _tag_rows(resource)), file=out)


def run(out: TextIO = sys.stdout, event_path: Path = SAMPLE_EVENT, func_path: Path = ROOT / "func.py") -> int:
    started = time.monotonic()
    event = event_path.read_bytes()
    backup_id = json.loads(event)["data"]["resourceId"]
    with tempfile.TemporaryDirectory(prefix="bts-demo-") as tmp:
        key = generate_api_key(Path(tmp))
        server = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
        server.register_api_key(key)
        with server:
            print(f"OCI emulator listening on {server.url} (signatures checked)", file=out)
            _show("Backup before:", server.backend.blockstorage.get_volume_group_backup(backup_id)[0], out)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LOG_LEVEL": "info",
                **server.client_env(key),
            }
            with FdkProcess(env, func_path=func_path) as fn:
                print(f"\nFunction running under the Fn FDK on unix socket {fn.socket_path}", file=out)
                print(f"Sending {event_path.name} as Fn would (POST /call) ...", file=out)
                first = fn.call(event)
                print(f"\nFunction answered HTTP {first.status}:", file=out)
                print(json.dumps(first.json(), indent=2), file=out)
                _show("Backup after:", server.backend.blockstorage.get_volume_group_backup(backup_id)[0], out)
                calls = [f"{r.method} {r.operation} -> {r.status}" for r in server.backend.log.requests()]
                print("\nOCI calls made: " + "; ".join(calls), file=out)
                server.backend.log.reset()
                second = fn.call(event).json()
                again = len(server.backend.log.requests())
                print(
                    f"\nSame event again (OCI Events may deliver twice): {second['status']},"
                    f" {again} OCI call(s), no update sent",
                    file=out,
                )
    ok = first.status == 200 and first.json().get("status") == "updated" and second["status"] == "unchanged"
    print(f"\nDemo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s", file=out)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    return run()
