"""sync/cli/doctor/needs.py: what a policy needs (kinds, event types, namespaces) and the IAM statements."""

from __future__ import annotations

import json

from sync.cli.doctor.needs import (
    ALL_KINDS,
    EVENT_TYPES,
    Deployment,
    condition,
    config_size,
    main,
    needs_of_text,
    policy_needs,
    statements,
)

ET = "com.oraclecloud.blockvolumes."


def rules(*rs: dict) -> dict:
    return {"version": 1, "rules": list(rs)}


def test_a_rule_without_kind_matches_every_kind() -> None:
    n = policy_needs(rules({"name": "a", "display_name": "x"}))
    assert n.kinds == ("volume_group_backup", "volume_backup", "boot_volume_backup")
    assert n.event_types == [
        ET + "createvolumegroupbackup.end",
        ET + "createvolumebackup.end",
        ET + "copyvolumebackup.end",
        ET + "createbootvolumebackup.end",
        ET + "copybootvolumebackup.end",
    ]


def test_kind_scalar_and_list_narrow_the_kinds_and_events() -> None:
    n = policy_needs(
        rules(
            {"name": "a", "match": {"kind": "boot_volume_backup"}},
            {"name": "b", "match": {"kind": ["volume_backup", "nonsense"]}},
        )
    )
    assert n.kinds == ("volume_backup", "boot_volume_backup")
    assert n.member_kinds == ()
    assert ET + "createvolumegroupbackup.end" not in n.event_types
    assert n.event_types == [
        ET + "createvolumebackup.end",
        ET + "copyvolumebackup.end",
        ET + "createbootvolumebackup.end",
        ET + "copybootvolumebackup.end",
    ]


def test_members_tags_adds_member_kinds_to_the_updates_not_to_the_events() -> None:
    n = policy_needs(rules({"name": "g", "match": {"kind": "volume_group_backup"}, "members": "tags"}))
    assert n.kinds == ("volume_group_backup",)
    assert n.member_kinds == ("volume_backup", "boot_volume_backup")
    assert n.update_kinds == ("volume_group_backup", "volume_backup", "boot_volume_backup")
    assert n.event_types == [ET + "createvolumegroupbackup.end"]
    # members on a rule that cannot match group backups propagate nothing (lint refuses it)
    assert (
        policy_needs(rules({"name": "v", "match": {"kind": "volume_backup"}, "members": "tags"})).member_kinds
        == ()
    )


def test_namespaces_written_copied_by_name_once_each_case_insensitively() -> None:
    n = policy_needs(
        rules(
            {"name": "a", "defined_tags": {"Operations": {"CostCenter": "x"}}},
            {"name": "b", "defined_tags": {"operations": {"Owner": "y"}, "FinOps": {"Team": "z"}}},
            {"name": "c", "copy_tags_from_volume_group": {"defined": ["Security"]}},
        )
    )
    assert n.namespaces == ("Operations", "FinOps", "Security")
    assert n.notes == ()


def test_copying_every_namespace_says_it_cannot_be_derived() -> None:
    n = policy_needs(rules({"name": "p", "copy_tags_from_volume_group": True}))
    assert n.namespaces == ()
    assert "rule 'p' copies every defined-tag namespace" in n.notes[0] and "--tag-namespace" in n.notes[0]


def test_yaml_text_and_garbage() -> None:
    n = needs_of_text("version: 1\nrules:\n  - name: a\n    match: {kind: volume_backup}\n")
    assert n.kinds == ("volume_backup",)
    assert policy_needs("not a policy").kinds == ALL_KINDS.kinds  # no rule: every kind, with a note
    assert policy_needs({"rules": [{"name": "x", "match": {"kind": "nope"}}]}).notes


def test_statements_grant_exactly_the_kinds_and_scope_schedules() -> None:
    t, c, x, m = (
        "ocid1.tenancy.oc1..t",
        "ocid1.compartment.oc1..c",
        "ocid1.compartment.oc1..x",
        "ocid1.compartment.oc1..m",
    )
    d = Deployment(
        tenancy=t,
        compartment=c,
        dynamic_group="dg",
        targets=[x],
        needs=policy_needs(
            rules(
                {
                    "name": "g",
                    "match": {"kind": "volume_group_backup"},
                    "members": "tags",
                    "defined_tags": {"Ops": {}},
                }
            )
        ),
        member_compartments=[m, x],
        namespaces=["ops", "Extra"],
        schedule_ids=["ocid1.resourceschedule.oc1.iad.s1"],
    )
    g = "Allow dynamic-group dg to"
    cond = "all {request.principal.type = 'resourceschedule', request.principal.id = 'ocid1.resourceschedule.oc1.iad.s1'}"
    assert statements(d) == [
        f"{g} inspect volume-group-backups in compartment id {x}",
        f"{g} manage volume-group-backups in compartment id {x} where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
        f"{g} inspect volume-groups in compartment id {x}",
        f"{g} use volume-backups in compartment id {x}",
        f"{g} use boot-volume-backups in compartment id {x}",
        f"{g} inspect volumes in compartment id {x}",
        # members' own compartment: only the member kinds
        f"{g} use volume-backups in compartment id {m}",
        f"{g} use boot-volume-backups in compartment id {m}",
        f"{g} inspect volumes in compartment id {m}",
        f"{g} use tag-namespaces in tenancy where target.tag-namespace.name = 'Ops'",
        f"{g} use tag-namespaces in tenancy where target.tag-namespace.name = 'Extra'",
        f"{g} inspect tag-namespaces in tenancy",
        f"{g} use fn-invocation in compartment id {c}",
        f"Allow service cloudEvents to use functions-family in compartment id {c}",
        f"Allow any-user to read fn-function in compartment id {c} where {cond}",
        f"Allow any-user to use fn-invocation in compartment id {c} where {cond}",
    ]
    assert condition(d.needs, d.targets) == {
        "eventType": [ET + "createvolumegroupbackup.end"],
        "data": {"compartmentId": [x]},
    }


def test_config_size_counts_utf8_octets() -> None:
    assert config_size({"A": "é"}) == 3


def test_command_line_answers_json(tmp_path, capsys) -> None:
    pol = tmp_path / "p.yaml"
    pol.write_text("version: 1\nrules:\n  - name: a\n    match: {kind: boot_volume_backup}\n")
    assert (
        main(
            [
                "--policy",
                str(pol),
                "--tenancy",
                "ocid1.tenancy.oc1..t",
                "--compartment",
                "ocid1.compartment.oc1..c",
                "--dynamic-group",
                "g",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["kinds"] == ["boot_volume_backup"]
    assert out["condition"]["data"] == {"compartmentId": ["ocid1.compartment.oc1..c"]}
    assert any("use boot-volume-backups" in s for s in out["statements"])
    assert not any("volume-group-backups" in s for s in out["statements"])


def test_the_events_rule_lists_exactly_what_the_function_handles_for_each_kind() -> None:
    # Two lists of the same names (deploy's, which needs only PyYAML, and the request parser's):
    # an event type the rule asks for that the function ignores, or one it handles that no
    # deployment asks for, would be a silent gap.
    from sync.requests.bodies import EVENT_KINDS

    for kind, types in EVENT_TYPES.items():
        handled = {t for t, (k, _copy) in EVENT_KINDS.items() if k.value == kind}
        # copyvolumegroupbackup.end: handled in case it exists, never asked for (no Oracle source).
        handled.discard("com.oraclecloud.blockvolumes.copyvolumegroupbackup.end")
        assert set(types) == handled, kind
