"""Tenancy-scale data and the function's sweep measured under the real FDK: answer size, peak RSS."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sync.emulator import ApiKey, Backend, EmulatorServer
from sync.function.fnrunner import FdkProcess

TENANCY = "ocid1.tenancy.oc1..aaaaaaaascaletenancy"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def compartment_id(c: int) -> str:
    return f"ocid1.compartment.oc1..aaaaaaaascale{c:04d}"


def populate_tenancy(
    backend: Backend,
    n: int,
    *,
    compartments: int = 10,
    groups: int = 50,
    compliant_every: int = 0,
    tag: str = "",
    mixed: bool = False,
) -> None:
    """n scheduled backups spread over `compartments` under the tenancy, as OCI names them.

    compliant_every=k: every k-th backup already carries the tags of tests.test_sweep.POLICY
    (0: none). `tag` makes the ids unique per region. mixed: the three kinds in turn: a group
    backup, its member volume backup (the next one, naming its group, in the same compartment),
    then a standalone boot volume backup; otherwise every backup is a group backup.
    """
    backend.identity.tenancy_id = TENANCY
    for c in range(compartments):
        backend.identity.add_compartment(
            {"id": compartment_id(c), "compartmentId": TENANCY, "name": f"team-{c}"}
        )
    for g in range(groups):
        backend.blockstorage.add_volume_group(
            {
                "id": f"ocid1.volumegroup.oc1..{tag}scalevg{g:05d}",
                "displayName": f"app-{g}-data",
                "compartmentId": compartment_id(g % compartments),
                "freeformTags": {"env": "prod" if g % 2 else "dev", "owner": f"team-{g % compartments}"},
            }
        )
    for i in range(n):
        g = i % groups
        ok = compliant_every and i % compliant_every == 0
        tags = {"backup-kind": "scheduled", "source-volume-group": f"app-{g}-data"} if ok else {}
        created = T0 + timedelta(seconds=37 * i)
        if mixed and i % 3:
            _add_single(backend, i, tag, compartment_id(g % compartments), created, bool(ok))
            continue
        members = [f"ocid1.volumebackup.oc1..{tag}scale{i + 1:07d}"] if mixed and i + 1 < n else []
        backend.blockstorage.add_volume_group_backup(
            {
                "id": f"ocid1.volumegroupbackup.oc1..{tag}scale{i:07d}",
                "compartmentId": compartment_id(g % compartments),
                "volumeGroupId": f"ocid1.volumegroup.oc1..{tag}scalevg{g:05d}",
                "displayName": f"Auto-backup for {created:%Y-%m-%d %H:%M} via policy: gold",
                "type": "INCREMENTAL" if i % 7 else "FULL",
                "sourceType": "SCHEDULED",
                "lifecycleState": "AVAILABLE",
                "timeCreated": created.isoformat().replace("+00:00", "Z"),
                "freeformTags": tags,
                "sizeInGBs": 50 + g,
                "uniqueSizeInGbs": 3,
                "volumeBackupIds": members,
            }
        )


def _add_single(backend: Backend, i: int, tag: str, compartment: str, created: datetime, ok: bool) -> None:
    """Backup i of a mixed tenancy: the member volume backup of group backup i - 1, or a boot volume backup."""
    common = {
        "compartmentId": compartment,
        "type": "INCREMENTAL",
        "sourceType": "SCHEDULED",
        "lifecycleState": "AVAILABLE",
        "timeCreated": created.isoformat().replace("+00:00", "Z"),
        "freeformTags": {"backup-kind": "scheduled"} if ok else {},
        "sizeInGBs": 50,
    }
    if i % 3 == 1:
        backend.blockstorage.add_volume_backup(
            {
                **common,
                "id": f"ocid1.volumebackup.oc1..{tag}scale{i:07d}",
                "volumeId": f"ocid1.volume.oc1..{tag}scalevol{i % 50:05d}",
                "volumeGroupBackupId": f"ocid1.volumegroupbackup.oc1..{tag}scale{i - 1:07d}",
                "displayName": f"Auto-backup for {created:%Y-%m-%d %H:%M} via policy: gold - data",
            }
        )
    else:
        backend.blockstorage.add_boot_volume_backup(
            {
                **common,
                "id": f"ocid1.bootvolumebackup.oc1..{tag}scale{i:07d}",
                "bootVolumeId": f"ocid1.bootvolume.oc1..{tag}scaleboot{i % 50:05d}",
                "displayName": f"Auto-backup for {created:%Y-%m-%d %H:%M} via policy: gold (Boot Volume)",
            }
        )


@dataclass
class FunctionSweep:
    answer: dict[str, Any]
    answer_bytes: int
    peak_rss_mb: float
    seconds: float
    log_lines: int


def peak_rss_mb(pid: int) -> float:
    """VmHWM (the process's peak resident set) from /proc, in MB (1024 * 1024 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def function_sweep(
    server: EmulatorServer, key: ApiKey, extra_env: dict[str, str] | None = None
) -> FunctionSweep:
    """The function (default policy, DRY_RUN) under the real FDK sweeps the whole tenancy once."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DRY_RUN": "true",
        "LOG_LEVEL": "info",
        **server.client_env(key),
        **(extra_env or {}),
    }
    with FdkProcess(env) as fn:
        t0 = time.monotonic()
        reply = fn.call(
            {"sweep": {"compartmentId": TENANCY, "recursive": True}}, deadline_seconds=3600, timeout=3600
        )
        seconds = time.monotonic() - t0
        rss = peak_rss_mb(fn.pid())
        lines = len(fn.stderr_text().splitlines())
    assert reply.status == 200, reply.body[:500]
    return FunctionSweep(json.loads(reply.body), len(reply.body), rss, seconds, lines)
