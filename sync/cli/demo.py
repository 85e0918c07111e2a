"""`backup-tag-sync demo`: emulator, function under the real FDK, a sample event, before and after.

The event is for the sample group backup with a volume and a boot volume member, so the shipped
policy's `members: tags` rule shows on both member kinds.
"""

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
from sync.domain.resources import Kind
from sync.emulator import SAMPLE_SEED_PATH, EmulatorServer, generate_api_key, load_seed
from sync.emulator.blockstorage import BlockStorageBackend
from sync.function.fnrunner import ROOT, FdkProcess

SAMPLE_EVENT = ROOT / "samples" / "members_event.json"
FDK_MISSING = (
    "demo runs the function under the Fn FDK, which this install lacks: "
    "pip install '.[cli,function]' from the checkout (or run `make demo` there)"
)


Rows = list[tuple[str, str, Any]]
Backups = list[tuple[Kind, str]]  # the group backup, then its members


def checkout_paths(cwd: Path | None = None) -> tuple[Path, Path]:
    """func.py and the sample event of the checkout the working directory is in (or the package's)."""
    here = (cwd or Path.cwd()).resolve()
    for base in (here, *here.parents, ROOT):
        func, event = base / "func.py", base / "samples" / SAMPLE_EVENT.name
        if func.is_file() and event.is_file():
            if importlib.util.find_spec("fdk") is None:
                raise CliError(FDK_MISSING)
            return func, event
    raise CliError(
        "demo runs in a checkout of the repository (it starts func.py and sends "
        f"samples/{SAMPLE_EVENT.name}): cd into one, or run `make demo` there"
    )


def _tag_rows(resource: dict[str, Any]) -> Rows:
    rows: Rows = [("displayName", "", resource.get("displayName"))]
    for key, value in sorted((resource.get("freeformTags") or {}).items()):
        rows.append(("freeformTags", key, value))
    for ns, keys in sorted((resource.get("definedTags") or {}).items()):
        for key, value in sorted(keys.items()):
            rows.append(("definedTags", f"{ns}.{key}", value))
    return rows


_KIND_NAMES = {
    Kind.VOLUME_GROUP_BACKUP: "Group backup",
    Kind.VOLUME_BACKUP: "Member volume backup",
    Kind.BOOT_VOLUME_BACKUP: "Member boot volume backup",
}


def _read(store: BlockStorageBackend, kind: Kind, backup_id: str) -> dict[str, Any]:
    read = {
        Kind.VOLUME_GROUP_BACKUP: store.get_volume_group_backup,
        Kind.VOLUME_BACKUP: store.get_volume_backup,
        Kind.BOOT_VOLUME_BACKUP: store.get_boot_volume_backup,
    }[kind]
    return read(backup_id)[0]


def _backups(store: BlockStorageBackend, group_id: str) -> Backups:
    """The group backup and its members (their kind from the OCID, as the function routes them)."""
    members = _read(store, Kind.VOLUME_GROUP_BACKUP, group_id).get("volumeBackupIds") or []
    found = [(Kind.of(member), member) for member in members]
    return [(Kind.VOLUME_GROUP_BACKUP, group_id)] + [(k, m) for k, m in found if k is not None]


def _show(
    when: str, store: BlockStorageBackend, backups: Backups, out: TextIO, before: dict[str, Rows]
) -> dict[str, Rows]:
    """Print each backup's name and tags; after the call, mark what the function changed."""
    shown: dict[str, Rows] = {}
    for kind, backup_id in backups:
        rows = shown[backup_id] = _tag_rows(_read(store, kind, backup_id))
        print(f"\n{_KIND_NAMES[kind]} {when}: {backup_id}", file=out)
        if backup_id not in before:
            print(render_table(("FIELD", "KEY", "VALUE"), rows), file=out)
            continue
        old = {(f, k): v for f, k, v in before[backup_id]}
        marked = [(_change(old, f, k, v), f, k, v) for f, k, v in rows]
        print(render_table(("CHANGE", "FIELD", "KEY", "VALUE"), marked), file=out)
    return shown


def _change(old: dict[tuple[str, str], Any], field: str, key: str, value: Any) -> str:
    if (field, key) not in old:
        return "added"
    return "" if old[(field, key)] == value else "changed"


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
            store = server.backend.blockstorage
            backups = _backups(store, backup_id)
            before = _show("before", store, backups, out, {})
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
                _show("after", store, backups, out, before)
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
    answer = first.json() if first.status == 200 else {}
    members = {"updated": len(backups) - 1}
    ok = answer.get("status") == "updated" and answer.get("members", {}).get("counts") == members
    ok = ok and second["status"] == "unchanged"
    print(f"\nDemo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s", file=out)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    return run()
