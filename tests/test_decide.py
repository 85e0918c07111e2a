"""One decision: the event path and the sweep decide the same for every backup, and decide() itself."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.cloud.clients import Clients, OciSettings
from sync.cloud.engine import Engine, Outcome
from sync.cloud.members import read_group_backup
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind, Source, SourceKind
from sync.domain.status import Status
from sync.emulator import ApiKey, EmulatorServer
from sync.policy.decide import Action, decide, source_to_read
from sync.policy.loader import load_policy
from sync.sweep.item import Reads, process_backup
from sync.sweep.options import SweepOptions
from sync.sweep.sources import GroupBackupCache, SourceCache

TENANCY = "ocid1.tenancy.oc1..aaaaaaaadecidetenancy"
COMP = "ocid1.compartment.oc1..aaaaaaaadecidecomp"
SEED = {"tenancyId": TENANCY, "compartments": [{"id": COMP, "compartmentId": TENANCY, "name": "main"}]}
STATES = ("AVAILABLE", "AVAILABLE", "AVAILABLE", "CREATING", "TERMINATING", "TERMINATED", "FAULTY")

# Every branch of a decision: skipped states, a volume group read only by some rules, copied tags,
# overwrite off, a regex on the name, a missing value (warning), too many tags (rejected), copied
# tags over the limit (left out, warning).
POLICY = load_policy(
    """
version: 1
rules:
  - name: provenance
    freeform_tags:
      backup-kind: "${backup.source_type|lower}"
  - name: prod-groups
    match:
      volume_group:
        display_name: {regex: "^prod-"}
    display_name: "${volume_group.display_name}-${backup.type|lower}"
    freeform_tags:
      owner: "${volume_group.freeform_tags.owner}"
    copy_tags_from_volume_group: true
  - name: fill-only
    match:
      display_name: {regex: "^Auto"}
    overwrite: false
    freeform_tags:
      env: "${backup.freeform_tags.team|default:none}"
""",
    "decide-test",
)


def vg_id(g: int) -> str:
    return f"ocid1.volumegroup.oc1..decidevg{g:03d}"


def random_backups(rng: random.Random, backend: Any, n: int) -> list[str]:
    """n backups of random state, names, tags and volume groups (some gone, some not an OCID)."""
    for g in range(8):
        # 70 tags to copy: more than fit, so they are left out with a warning.
        tags = {f"k{i}": f"v{i}" for i in range(70)} if g == 7 else {"owner": f"o{g}"}
        name = ("prod-" if g % 2 else "dev-") + str(g)
        backend.blockstorage.add_volume_group(
            {"id": vg_id(g), "displayName": name, "compartmentId": COMP, "freeformTags": tags}
        )
    ids = []
    for i in range(n):
        bid = f"ocid1.volumegroupbackup.oc1..decideb{i:05d}"
        group = rng.choice([vg_id(rng.randrange(8)), vg_id(99), "not-an-ocid", None])
        # Ten freeform tags already: one more breaks OCI's limit of 10 (rejected).
        full = {f"k{i}": "v" for i in range(10)}
        tags = rng.choice([{}, {"backup-kind": "scheduled"}, {"team": "t1", "env": "old"}, full])
        backend.blockstorage.add_volume_group_backup(
            {
                "id": bid,
                "compartmentId": COMP,
                "volumeGroupId": group,
                "displayName": rng.choice(["Auto-backup", "prod-0-full", "manual"]),
                "type": rng.choice(["FULL", "INCREMENTAL"]),
                "sourceType": rng.choice(["SCHEDULED", "MANUAL"]),
                "lifecycleState": rng.choice(STATES),
                "timeCreated": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat(),
                "freeformTags": tags,
            }
        )
        ids.append(bid)
    return ids


def shown(o: Outcome) -> tuple[Any, ...]:
    return (o.status, o.changes, o.error, o.warnings, o.matched_rules)


def test_event_path_and_sweep_decide_the_same_on_200_random_backups(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey
) -> None:
    server = make_emulator(seed=SEED, creating_seconds=None)
    ids = random_backups(random.Random(18), server.backend, 200)
    engine = Engine.on(Clients(OciSettings.from_env(server.client_env(api_key))), lambda: POLICY)
    deadline = Deadline.after(300)
    # The event path: GET each backup, read its volume group when a rule needs it, decide (dry run).
    event = {bid: shown(engine.sync_backup(bid, dry_run=True, deadline=deadline)) for bid in ids}
    # The sweep: decide each from the listed data, its volume group through the sweep's cache.
    reads = Reads(
        SourceCache(lambda k, i, b, d: engine.port.get_source(SourceKind(k), i, b, d)),
        GroupBackupCache(lambda _k, i, _b, d: read_group_backup(engine.port, i, d, None)),
    )
    options = SweepOptions(COMP, dry_run=True)
    swept: dict[str, tuple[Any, ...]] = {}
    page: str | None = None
    while True:
        got = engine.port.list_backups(Kind.VOLUME_GROUP_BACKUP, COMP, deadline, page=page, limit=50)
        for backup in got.items:
            swept[backup.id] = shown(process_backup(engine, options, POLICY, backup, reads, deadline))
        page = got.next_page
        if not page:
            break
    assert swept == event
    # The sample covers every kind of decision (else the comparison proves little).
    statuses = {s[0] for s in event.values()}
    assert statuses == {Status.PLANNED, Status.UNCHANGED, Status.IGNORED, Status.REJECTED, Status.DEFERRED}, (
        statuses
    )
    assert any(any("not a volume group OCID" in w for w in s[3]) for s in event.values())
    assert any(any("not copied: over the limit of freeform tags" in w for w in s[3]) for s in event.values())


def backup(state: str = "AVAILABLE", source_id: str | None = vg_id(0), **fields: Any) -> Backup:
    data = {"id": "ocid1.volumegroupbackup.oc1..x", "lifecycle_state": state, "volume_group_id": source_id}
    return Backup.of(Kind.VOLUME_GROUP_BACKUP, {**data, "source_type": "SCHEDULED", **fields})


def test_decide_skips_backups_on_their_way_out() -> None:
    for state in ("TERMINATING", "TERMINATED", "FAULTY"):
        decision = decide(POLICY, backup(state), None)
        assert (decision.action, decision.reason) == (Action.SKIP, f"backup is {state}")
        assert source_to_read(POLICY, backup(state)) is None
    # Not AVAILABLE yet: OCI refuses the update (409), so it is deferred (the default, availableOnly).
    for state in ("CREATING", "REQUEST_RECEIVED", None):
        decision = decide(POLICY, backup(state), None)
        assert decision.action is Action.DEFER and decision.status == "deferred"
        assert (
            decision.reason
            == f"backup is {state}: deferred until it is AVAILABLE (its own event or the next run)"
        )
        assert source_to_read(POLICY, backup(state)) is None
    # A sweep's `availableOnly: false` tries it anyway (its 409 is retried within the deadline).
    assert decide(POLICY, backup("CREATING"), None, available_only=False).action is Action.WRITE
    assert decide(POLICY, backup("TERMINATED"), None, available_only=True).action is Action.SKIP


def test_decide_reads_the_source_only_when_a_rule_needs_it() -> None:
    group = Source.of(SourceKind.VOLUME_GROUP, {"id": vg_id(1), "display_name": "prod-1"})
    assert source_to_read(POLICY, backup()) == (SourceKind.VOLUME_GROUP, vg_id(0))
    only_backup = load_policy("version: 1\nrules:\n  - name: r\n    freeform_tags: {a: b}\n", "p")
    assert source_to_read(only_backup, backup()) is None
    decision = decide(POLICY, backup(type="FULL"), group, dry_run=True)
    assert decision.action is Action.REPORT
    assert decision.plan is not None and decision.plan.desired.display_name == "prod-1-full"
