"""Benchmark: plan 10,000 backups against a 20-rule policy (prints medians; not a test)."""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sync.policy.loader import load_policy
from sync.policy.planner import needs_volume_group, plan

N_BACKUPS = 10_000
REPEATS = 5


def policy_text() -> str:
    rules = []
    for i in range(20):
        rules.append(
            f"""
  - name: rule-{i}
    match:
      source_type: {"SCHEDULED" if i % 2 else "[SCHEDULED, MANUAL]"}
      display_name: {{regex: "^(Auto-backup|nightly)"}}
      freeform_tags: {{team: {{exists: {"true" if i % 3 else "false"}}}}}
      volume_group: {{display_name: {{regex: "-{i % 5}$"}}}}
    display_name: "${{volume_group.display_name|slug}}-${{backup.type|lower}}-${{backup.time_created|date:%Y%m%d-%H%M}}"
    freeform_tags:
      rule-{i}: "${{backup.source_type|lower}}"
      source-volume-group: "${{volume_group.display_name|truncate:64}}"
      cost: "${{volume_group.freeform_tags.cost|default:unassigned}}"
    defined_tags:
      Operations: {{CostCenter: "${{volume_group.defined_tags.Operations.CostCenter|default:none}}"}}
    copy_tags_from_volume_group: {{freeform: true, defined: [Operations]}}
    overwrite: {"true" if i % 2 else "false"}"""
        )
    return "version: 1\nmode: all\nrules:" + "".join(rules)


def inputs(rng: random.Random) -> list[tuple[dict, dict]]:
    out = []
    for i in range(N_BACKUPS):
        backup = {
            "id": f"ocid1.volumegroupbackup.oc1.iad.{i:06d}",
            "display_name": f"Auto-backup for vg-{i} via policy: gold",
            "source_type": rng.choice(["SCHEDULED", "MANUAL"]),
            "type": rng.choice(["FULL", "INCREMENTAL"]),
            "time_created": "2026-11-27T04:00:00.000Z",
            "lifecycle_state": "AVAILABLE",
            "freeform_tags": {"team": "db"} if i % 2 else {},
            "defined_tags": {"Oracle-Tags": {"CreatedBy": "x"}},
        }
        vg = {
            "display_name": f"prod vg-{i % 5}",
            "freeform_tags": {"env": "prod", "cost": f"c{i % 7}"},
            "defined_tags": {"Operations": {"CostCenter": f"cc-{i % 11}"}},
        }
        out.append((backup, vg))
    return out


def main() -> None:
    t0 = time.perf_counter()
    policy = load_policy(policy_text())
    load_ms = (time.perf_counter() - t0) * 1000
    data = inputs(random.Random(7))
    timings = []
    changed = 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        changed = 0
        for backup, vg in data:
            needs_volume_group(policy, backup)
            if plan(policy, backup, vg).changed:
                changed += 1
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    print(f"policy: 20 rules, loaded and checked in {load_ms:.1f} ms")
    print(f"planned {N_BACKUPS} backups x {REPEATS} runs; {changed} would change")
    print(
        f"median {median:.3f} s per {N_BACKUPS} ({median / N_BACKUPS * 1e6:.1f} us per backup);"
        f" min {min(timings):.3f} s, max {max(timings):.3f} s"
    )


if __name__ == "__main__":
    main()
