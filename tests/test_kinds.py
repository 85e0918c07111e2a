"""Every backup kind in the policy: `kind` conditions, source/group_backup names, `members: tags`."""

from __future__ import annotations

from pathlib import Path

import oci.core.models as sdk
import pytest

from sync.policy.fields import (
    BACKUP_FIELDS,
    GROUP_BACKUP_FIELDS,
    SOURCE_FIELDS,
    VOLUME_GROUP_FIELDS,
    backup_kind,
)
from sync.policy.loader import PolicyError, load_policy
from sync.policy.planner import needs_group_backup, needs_source, needs_volume_group, plan, plan_member

ROOT = Path(__file__).resolve().parents[1]
GROUP = {
    "id": "ocid1.volumegroupbackup.oc1.iad.g",
    "display_name": "Auto-backup for prod-db-vg",
    "source_type": "SCHEDULED",
    "type": "FULL",
    "volume_group_id": "ocid1.volumegroup.oc1.iad.vg",
    "volume_backup_ids": ["ocid1.volumebackup.oc1.iad.m1", "ocid1.bootvolumebackup.oc1.iad.m2"],
    "freeform_tags": {},
    "defined_tags": {},
}
VG = {"display_name": "prod-db-vg", "freeform_tags": {"env": "prod"}, "defined_tags": {}}
VOLUME_BACKUP = {
    "id": "ocid1.volumebackup.oc1.iad.m1",
    "display_name": "vb",
    "source_type": "SCHEDULED",
    "type": "INCREMENTAL",
    "volume_id": "ocid1.volume.oc1.iad.v",
    "volume_group_backup_id": GROUP["id"],
    "freeform_tags": {"team": "db"},
    "defined_tags": {"Oracle-Tags": {"CreatedBy": "oci"}},
}
VOLUME = {"display_name": "data-disk", "freeform_tags": {"env": "prod"}}
BOOT_BACKUP = {
    "id": "ocid1.bootvolumebackup.oc1.iad.m2",
    "display_name": "bb",
    "source_type": "MANUAL",
    "type": "FULL",
    "boot_volume_id": "ocid1.bootvolume.oc1.iad.b",
    "freeform_tags": {},
    "defined_tags": {},
}


def P(rules: str):
    return load_policy("version: 1\nrules:\n" + rules)


def errors(rules: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        P(rules)
    return exc.value.errors


def test_field_lists_are_the_sdks() -> None:
    group = set(sdk.VolumeGroupBackup().swagger_types)
    assert group >= GROUP_BACKUP_FIELDS
    for model in (sdk.VolumeBackup, sdk.BootVolumeBackup, sdk.VolumeGroupBackup):
        assert BACKUP_FIELDS - {"kind"} <= set().union(
            sdk.VolumeBackup().swagger_types, sdk.BootVolumeBackup().swagger_types, group
        )
        assert {"id", "display_name", "type", "source_type", "freeform_tags"} <= set(model().swagger_types)
    sources = set().union(
        sdk.Volume().swagger_types, sdk.BootVolume().swagger_types, sdk.VolumeGroup().swagger_types
    )
    assert sources >= SOURCE_FIELDS and set(sdk.VolumeGroup().swagger_types) >= VOLUME_GROUP_FIELDS


@pytest.mark.parametrize(
    ("backup", "kind"),
    [
        (GROUP, "volume_group_backup"),
        (VOLUME_BACKUP, "volume_backup"),
        (BOOT_BACKUP, "boot_volume_backup"),
        ({"id": "ocid1.volume.oc1..x"}, None),
        ({"id": "ocid1.volumebackup.oc1..x", "kind": "boot_volume_backup"}, "boot_volume_backup"),
        ({"id": "ocid1.volumebackup.oc1..x", "kind": "nonsense"}, "volume_backup"),
    ],
)
def test_the_kind_comes_from_the_mapping_or_the_ocid(backup: dict, kind: str | None) -> None:
    assert backup_kind(backup) == kind


KINDED = """
  - {name: groups, match: {kind: volume_group_backup}, freeform_tags: {k: g, what: '${backup.kind}'}}
  - {name: volumes, match: {kind: [volume_backup, boot_volume_backup]}, freeform_tags: {k: v}}
  - {name: every, freeform_tags: {seen: '${backup.kind}'}}
"""


@pytest.mark.parametrize(
    ("backup", "rules", "tags"),
    [
        (
            GROUP,
            ("groups", "every"),
            {"k": "g", "what": "volume_group_backup", "seen": "volume_group_backup"},
        ),
        (VOLUME_BACKUP, ("volumes", "every"), {"team": "db", "k": "v", "seen": "volume_backup"}),
        (BOOT_BACKUP, ("volumes", "every"), {"k": "v", "seen": "boot_volume_backup"}),
    ],
)
def test_kind_conditions_and_backup_kind(backup: dict, rules: tuple, tags: dict) -> None:
    result = plan(P(KINDED), backup)
    assert result.matched_rules == rules and result.desired.freeform_tags == tags
    assert "kind" not in backup  # the input is not changed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "{kind: volume}",
            "match.kind: unknown kind 'volume'; kinds: volume_group_backup, volume_backup, boot_volume_backup",
        ),
        ("{kind: []}", "match.kind: an empty list matches nothing; remove the condition"),
        ("{source: {nope: 1}}", "match.source.nope: unknown field 'nope'"),
    ],
)
def test_bad_kind_or_source_conditions_name_rule_and_field(spec: str, message: str) -> None:
    (line,) = errors(f"  - {{name: r, match: {spec}, display_name: x}}\n")
    assert line.startswith(f"rule 'r' (rules[0]): {message}")


def test_source_names_the_volume_boot_volume_or_volume_group() -> None:
    policy = P(
        "  - name: r\n    match: {source: {freeform_tags: {env: prod}}}\n"
        "    freeform_tags: {from: '${source.display_name}'}\n"
    )
    assert plan(policy, VOLUME_BACKUP, source=VOLUME).desired.freeform_tags["from"] == "data-disk"
    # A group backup's source is its volume group, given either way.
    assert plan(policy, GROUP, VG).desired.freeform_tags["from"] == "prod-db-vg"
    assert plan(policy, GROUP, source=VG).desired.freeform_tags["from"] == "prod-db-vg"
    assert plan(policy, VOLUME_BACKUP).matched_rules == ()  # source conditions need the source


def test_volume_group_names_keep_working_for_group_backups_only() -> None:
    policy = P("  - {name: r, freeform_tags: {vg: '${volume_group.display_name|default:none}'}}\n")
    assert plan(policy, GROUP, VG).desired.freeform_tags["vg"] == "prod-db-vg"
    assert plan(policy, GROUP, source=VG).desired.freeform_tags["vg"] == "prod-db-vg"
    # Not a group backup: it has no volume group, whatever the caller passes.
    assert plan(policy, VOLUME_BACKUP, VG).desired.freeform_tags["vg"] == "none"


def test_a_member_reads_its_group_backup() -> None:
    policy = P("  - {name: r, freeform_tags: {group: '${group_backup.display_name}'}}\n")
    result = plan(policy, VOLUME_BACKUP, group_backup=GROUP)
    assert result.desired.freeform_tags["group"] == "Auto-backup for prod-db-vg"


def test_what_each_kind_needs_read() -> None:
    policy = P(
        "  - {name: g, match: {kind: volume_group_backup}, display_name: '${volume_group.display_name}'}\n"
        "  - {name: v, match: {kind: volume_backup}, freeform_tags: {s: '${source.display_name}'}}\n"
        "  - {name: m, match: {kind: boot_volume_backup}, freeform_tags: {s: '${group_backup.id}'}}\n"
    )
    assert (needs_volume_group(policy, GROUP), needs_source(policy, GROUP)) == (True, True)
    assert needs_group_backup(policy, GROUP) is False
    assert (needs_volume_group(policy, VOLUME_BACKUP), needs_source(policy, VOLUME_BACKUP)) == (False, True)
    assert needs_group_backup(policy, VOLUME_BACKUP) is False
    boot_member = {**BOOT_BACKUP, "volume_group_backup_id": GROUP["id"]}
    assert (needs_source(policy, boot_member), needs_group_backup(policy, boot_member)) == (False, True)
    assert needs_group_backup(policy, BOOT_BACKUP) is False  # not a member: nothing to read
    # A group backup rule reading source.* makes the group backup read its volume group.
    by_source = P("  - {name: s, freeform_tags: {s: '${source.display_name}'}}\n")
    assert needs_volume_group(by_source, GROUP) and needs_source(by_source, VOLUME_BACKUP)


MEMBERS = """
  - name: group
    match: {kind: volume_group_backup}
    display_name: '${volume_group.display_name}-${backup.type|lower}'
    freeform_tags: {group: '${volume_group.display_name}', team: platform}
    defined_tags: {Operations: {CostCenter: cc-1}}
    copy_tags_from_volume_group: true
    overwrite: false
    members: tags
  - {name: group-only, freeform_tags: {only: group}}
"""


def test_members_get_the_tags_the_members_rules_computed() -> None:
    group_plan = plan(P(MEMBERS), GROUP, VG)
    tags = group_plan.member_tags
    assert tags is not None and tags.rules == ("group",)
    assert {k: t.value for k, t in tags.freeform.items()} == {"group": "prod-db-vg", "team": "platform"}
    member = plan_member(VOLUME_BACKUP, group_plan)
    assert member.backup_id == VOLUME_BACKUP["id"] and member.kind == "volume_backup"
    # Merged as always: the member keeps its own (team: db, overwrite: false) and Oracle's tags;
    # no display name, no copied tags, nothing from rules without members.
    assert member.desired.display_name == "vb"
    assert member.desired.freeform_tags == {"team": "db", "group": "prod-db-vg"}
    assert member.desired.defined_tags == {
        "Oracle-Tags": {"CreatedBy": "oci"},
        "Operations": {"CostCenter": "cc-1"},
    }
    assert member.defined_writers == {("Operations", "CostCenter"): "group"}
    assert set(member.update_body()) == {"freeformTags", "definedTags"}
    applied = {
        **VOLUME_BACKUP,
        "freeform_tags": member.desired.freeform_tags,
        "defined_tags": {"operations": {"costcenter": "cc-1"}, "Oracle-Tags": {"CreatedBy": "oci"}},
    }
    assert not plan_member(applied, group_plan).changed  # compliant (whatever the case): no PUT


def test_members_computed_even_when_the_group_keeps_its_own_value() -> None:
    group = {**GROUP, "freeform_tags": {"team": "dba"}}
    group_plan = plan(P(MEMBERS), group, VG)
    assert group_plan.desired.freeform_tags["team"] == "dba"  # overwrite: false on the group
    assert plan_member(BOOT_BACKUP, group_plan).desired.freeform_tags["team"] == "platform"


def test_a_group_plan_without_members_rules_leaves_members_unchanged() -> None:
    group_plan = plan(P("  - {name: r, freeform_tags: {a: b}}\n"), GROUP)
    assert group_plan.member_tags is None
    assert not plan_member(VOLUME_BACKUP, group_plan).changed


def test_member_tags_obey_the_limits() -> None:
    group_plan = plan(P(MEMBERS), GROUP, VG)
    crowded = {**VOLUME_BACKUP, "freeform_tags": {f"k{i}": "v" for i in range(10)}}
    result = plan_member(crowded, group_plan)
    assert result.error == "12 freeform tags; the limit is 10" and not result.changed


def test_lint_refuses_members_on_a_rule_that_cannot_match_group_backups() -> None:
    assert errors(
        "  - {name: r, match: {kind: [volume_backup]}, freeform_tags: {a: b}, members: tags}\n"
    ) == [
        "rule 'r' (rules[0]): members: only a volume group backup has members, and this rule's kind"
        " (volume_backup) cannot match one"
    ]
    assert errors("  - {name: r, display_name: x, members: tags}\n") == [
        "rule 'r' (rules[0]): members: tags: the rule gives no freeform_tags or defined_tags to pass on"
    ]
    assert errors("  - {name: r, freeform_tags: {a: b}, members: all}\n") == [
        "rule 'r' (rules[0]): members: Input should be 'tags'"
    ]


def test_lint_warns_when_a_rule_for_every_kind_reads_the_volume_group() -> None:
    policy = P(
        "  - {name: any, freeform_tags: {vg: '${volume_group.display_name}'}}\n"
        "  - {name: groups, match: {kind: volume_group_backup}, freeform_tags: {vg2: '${volume_group.id}'}}\n"
        "  - {name: sources, freeform_tags: {s: '${source.display_name}'}}\n"
    )
    assert policy.warnings == (
        "rule 'any': reads the volume group (volume_group.* or copy_tags_from_volume_group) but has no"
        " kind: volume and boot volume backups have none, so for them it skips those values; add"
        " `kind: volume_group_backup`, or read source.* instead",
    )


def test_the_shipped_policy_has_a_rule_per_kind_and_no_warning() -> None:
    policy = load_policy((ROOT / "tag_policy.yaml").read_bytes())
    assert policy.warnings == ()
    kinds = {k for r in policy.rules for k in (r.match.kinds or ())}
    assert kinds == {"volume_group_backup", "volume_backup", "boot_volume_backup"}
    group_plan = plan(policy, GROUP, VG)
    assert group_plan.matched_rules == ("rename-scheduled", "provenance")
    member = plan_member(VOLUME_BACKUP, group_plan)
    assert member.desired.freeform_tags["source-volume-group"] == "prod-db-vg"
    own = plan(policy, BOOT_BACKUP, source={"display_name": "web-1 (Boot Volume)"})
    assert own.matched_rules == ("boot-volume-backups",)
    assert own.desired.freeform_tags == {
        "backup-kind": "manual",
        "backup-type": "full",
        "source-boot-volume": "web-1 (Boot Volume)",
    }
