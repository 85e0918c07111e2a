"""Benchmark: OCI calls per event for each backup kind, under the real FDK against the emulator (not a test).

Counted from the emulator's request log, for a backup that needs a change and for the same
event delivered again (compliant), with a policy that reads only the backup and one that also
reads its source. Goals (issue 20): a volume or boot volume backup costs GET + PUT when no rule
reads its source, + one source read when one does; a group backup with N members whose rule
says `members: tags` costs at most 1 + 1 + 2N calls (+1 when a rule reads the volume group),
and only N member GETs beyond the group's own reads when every member is already compliant.
Also the median wall time per event (bench's POST /call to reply; the machine is shared).

    .venv/bin/python tests/bench/bench_kinds.py [--members 2 8 32] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.emulator import SAMPLE_SEED_PATH, ApiKey, EmulatorServer, generate_api_key, load_seed  # noqa: E402
from sync.function.fnrunner import FdkProcess  # noqa: E402

EVENTS = ROOT / "tests" / "data" / "events"
PREFIX = "com.oraclecloud.blockvolumes."
VOLUME_BACKUP = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BOOT_BACKUP = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"
GROUP = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
MEMBER = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup00010000000000000000000000000000001"
TAGS = """
    freeform_tags:
      backup-kind: "${backup.source_type|lower}"
      backup-type: "${backup.type|lower}"
"""
# Reads only the backup (no source read); members get the group rule's tags.
BACKUP_ONLY = f"""
version: 1
rules:
  - name: every-kind{TAGS}    members: tags
"""
# Also reads what each backup was taken from (volume, boot volume, volume group).
WITH_SOURCE = f"""
version: 1
rules:
  - name: every-kind{TAGS}      source-name: "${{source.display_name}}"
    members: tags
"""
EVENT_TYPES = {
    "volume_backup": "createvolumebackup.end",
    "boot_volume_backup": "createbootvolumebackup.end",
    "volume_group_backup": "createvolumegroupbackup.end",
}


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.key: ApiKey = generate_api_key(tmp / "key")
        self.emulator = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
        self.emulator.register_api_key(self.key)
        self.emulator.start()
        self.serial = 0
        self.template = json.loads((EVENTS / "createvolumegroupbackup-end.json").read_text())

    def close(self) -> None:
        self.emulator.stop()

    @contextmanager
    def fdk(self, policy: str) -> Iterator[FdkProcess]:
        env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning", **self.emulator.client_env(self.key)}
        proc = FdkProcess({**env, "TAG_POLICY": policy})
        try:
            yield proc.start()
        finally:
            proc.cleanup()

    def fresh_id(self, like: str) -> str:
        self.serial += 1
        return f"{like[:-12]}9{self.serial:011d}"  # no seeded id ends in 9 + 11 digits

    def fresh_copy(self, backup_id: str) -> str:
        """A new backup like a seeded one (untagged by us), so each run starts from a change."""
        backend = self.emulator.backend
        new_id = self.fresh_id(backup_id)
        if backup_id.startswith("ocid1.volumebackup."):
            backend.blockstorage.add_volume_backup(
                {**backend.blockstorage.get_volume_backup(backup_id)[0], "id": new_id}
            )
        elif backup_id.startswith("ocid1.bootvolumebackup."):
            backend.blockstorage.add_boot_volume_backup(
                {**backend.blockstorage.get_boot_volume_backup(backup_id)[0], "id": new_id}
            )
        return new_id

    def fresh_group(self, members: int) -> str:
        """A group backup with `members` fresh member volume backups naming it."""
        backend = self.emulator.backend
        group_id = self.fresh_id(GROUP)
        ids = []
        for _ in range(members):
            member_id = self.fresh_id(MEMBER)
            member = backend.blockstorage.get_volume_backup(MEMBER)[0]
            backend.blockstorage.add_volume_backup(
                {**member, "id": member_id, "volumeGroupBackupId": group_id}
            )
            ids.append(member_id)
        group = backend.blockstorage.get_volume_group_backup(GROUP)[0]
        backend.blockstorage.add_volume_group_backup({**group, "id": group_id, "volumeBackupIds": ids})
        return group_id

    def event(self, kind: str, backup_id: str) -> bytes:
        body = json.loads(json.dumps(self.template))
        body["eventType"] = PREFIX + EVENT_TYPES[kind]
        body["data"]["resourceId"] = backup_id
        return json.dumps(body).encode()

    def deliver(self, proc: FdkProcess, kind: str, backup_id: str) -> tuple[str, Counter[str], float]:
        self.emulator.backend.log.reset()
        start = time.perf_counter()
        reply = proc.call(self.event(kind, backup_id))
        elapsed = (time.perf_counter() - start) * 1000
        answer = reply.json()
        ops = Counter(r.operation for r in self.emulator.backend.log.requests())
        return str(answer["status"]), ops, elapsed


def measure(b: Bench, proc: FdkProcess, kind: str, make: Any, repeats: int) -> dict[str, Any]:
    """The calls for a change and for the same event again; median wall times over `repeats`."""
    first_ms, again_ms = [], []
    first: tuple[str, Counter[str]] | None = None
    again: tuple[str, Counter[str]] | None = None
    for _ in range(repeats):
        backup_id = make()
        status, ops, ms = b.deliver(proc, kind, backup_id)
        first_ms.append(ms)
        first = first or (status, ops)
        status, ops, ms = b.deliver(proc, kind, backup_id)
        again_ms.append(ms)
        again = again or (status, ops)
    assert first is not None and again is not None
    return {
        "change": {"status": first[0], "calls": sum(first[1].values()), "ops": dict(first[1])},
        "again": {"status": again[0], "calls": sum(again[1].values()), "ops": dict(again[1])},
        "change_p50_ms": statistics.median(first_ms),
        "again_p50_ms": statistics.median(again_ms),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-kinds-") as tmp:
        b = Bench(Path(tmp))
        try:
            for policy_name, policy in (("backup only", BACKUP_ONLY), ("reads source", WITH_SOURCE)):
                with b.fdk(policy) as proc:
                    proc.call(b.event("volume_backup", b.fresh_copy(VOLUME_BACKUP)))  # warm the container
                    cases = {
                        "volume_backup": ("volume_backup", lambda: b.fresh_copy(VOLUME_BACKUP)),
                        "boot_volume_backup": ("boot_volume_backup", lambda: b.fresh_copy(BOOT_BACKUP)),
                    }
                    for n in args.members:
                        cases[f"volume_group_backup, {n} members"] = (
                            "volume_group_backup",
                            lambda n=n: b.fresh_group(n),
                        )
                    for name, (kind, make) in cases.items():
                        results[f"{policy_name}: {name}"] = measure(b, proc, kind, make, args.repeats)
        finally:
            b.close()
    return results


def goals(results: dict[str, Any], members: list[int]) -> list[str]:
    """Each goal as a line: PASS or FAIL with the figures."""
    lines = []

    def check(name: str, ok: bool, detail: str) -> None:
        lines.append(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    for kind in ("volume_backup", "boot_volume_backup"):
        plain, source = results[f"backup only: {kind}"], results[f"reads source: {kind}"]
        check(f"{kind}, no source read", plain["change"]["calls"] == 2, f"{plain['change']['calls']} calls")
        check(f"{kind}, + source read", source["change"]["calls"] == 3, f"{source['change']['calls']} calls")
        check(f"{kind}, again", plain["again"]["calls"] == 1, f"{plain['again']['calls']} calls, no PUT")
    for n in members:
        plain = results[f"backup only: volume_group_backup, {n} members"]
        source = results[f"reads source: volume_group_backup, {n} members"]
        check(
            f"group, {n} members, change",
            plain["change"]["calls"] <= 2 + 2 * n and source["change"]["calls"] <= 3 + 2 * n,
            f"{plain['change']['calls']} calls (limit {2 + 2 * n}); reading the volume group"
            f" {source['change']['calls']} (limit {3 + 2 * n})",
        )
        check(
            f"group, {n} members, compliant",
            plain["again"]["calls"] == 1 + n and plain["again"]["ops"].get("GetVolumeBackup") == n,
            f"{plain['again']['calls']} calls: the group's GET and {n} member GETs, no PUT",
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    results = run(args)
    print("## OCI calls per event, by kind (real FDK, emulator request log)\n")
    print("| policy: backup | change: calls (ops) | again: calls | change p50 ms | again p50 ms |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        ops = ", ".join(f"{op} {n}" for op, n in sorted(r["change"]["ops"].items()))
        print(
            f"| {name} | {r['change']['calls']} ({ops}) | {r['again']['calls']} |"
            f" {r['change_p50_ms']:.1f} | {r['again_p50_ms']:.1f} |"
        )
    print()
    lines = goals(results, args.members)
    print("\n".join(lines))
    return 1 if any(line.startswith("FAIL") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
