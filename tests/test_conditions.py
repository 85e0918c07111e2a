"""Match conditions: every form, on backup fields, tags and the volume group."""

import pytest

from sync.policy.conditions import ConditionError, compile_match

BACKUP = {
    "display_name": "Auto-backup for prod-db-vg via policy: gold",
    "source_type": "SCHEDULED",
    "type": "FULL",
    "size_in_gbs": 50,
    "compartment_id": "ocid1.compartment.oc1..aaaa",
    "expiration_time": None,
    "freeform_tags": {"env": "prod", "team": "db"},
    "defined_tags": {"Operations": {"Tier": "gold"}},
}
VG = {"display_name": "prod-db-vg", "freeform_tags": {"env": "prod"}, "defined_tags": {}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"source_type": "SCHEDULED"}, True),
        ({"source_type": "MANUAL"}, False),
        ({"source_type": "scheduled"}, False),  # equality is case-sensitive
        ({"type": ["FULL", "INCREMENTAL"]}, True),
        ({"type": ["INCREMENTAL"]}, False),
        ({"size_in_gbs": 50}, True),
        ({"size_in_gbs": "50"}, True),
        ({"display_name": {"regex": "^Auto-backup"}}, True),
        ({"display_name": {"regex": "gold$"}}, True),
        ({"display_name": {"regex": "^gold"}}, False),
        ({"expiration_time": {"exists": False}}, True),
        ({"expiration_time": {"exists": True}}, False),
        ({"compartment_id": {"exists": True}}, True),
        ({"freeform_tags": {"env": "prod"}}, True),
        ({"freeform_tags": {"env": "dev"}}, False),
        ({"freeform_tags": {"env": ["dev", "prod"]}}, True),
        ({"freeform_tags": {"owner": {"exists": False}}}, True),
        ({"freeform_tags": {"owner": {"exists": True}}}, False),
        ({"freeform_tags": {"team": {"regex": "^d"}}}, True),
        ({"defined_tags": {"Operations": {"Tier": "gold"}}}, True),
        ({"defined_tags": {"Operations": {"Tier": {"exists": True}}}}, True),
        ({"defined_tags": {"Operations": {"CostCenter": {"exists": True}}}}, False),
        ({"defined_tags": {"Missing": {"Key": {"exists": False}}}}, True),
        ({"source_type": "SCHEDULED", "type": "INCREMENTAL"}, False),  # every condition must hold
        ({"volume_group": {"display_name": {"regex": "^prod-"}}}, True),
        ({"volume_group": {"freeform_tags": {"env": "prod"}}}, True),
        ({"volume_group": {"freeform_tags": {"env": "dev"}}}, False),
        ({"volume_group": {"defined_tags": {"Operations": {"Tier": {"exists": True}}}}}, False),
    ],
)
def test_condition_forms(spec: dict, expected: bool) -> None:
    assert compile_match(spec).holds(BACKUP, VG) is expected


def test_volume_group_conditions_fail_without_the_volume_group() -> None:
    m = compile_match({"volume_group": {"display_name": {"exists": False}}})
    assert m.holds_for_backup(BACKUP)
    assert m.holds(BACKUP, None) is False


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"displayname": "x"}, "match.displayname: unknown field"),
        ({"display_name": {"regex": "("}}, "match.display_name.regex: invalid regular expression"),
        ({"display_name": {"regex": 5}}, "must be text"),
        ({"display_name": {"exists": "yes"}}, "must be true or false"),
        ({"display_name": {"contains": "x"}}, "unknown condition keys"),
        ({"type": []}, "empty list"),
        ({"type": [{"regex": "x"}]}, "plain values"),
        ({"volume_group": {"volume_group": {}}}, "match.volume_group.volume_group: unknown field"),
        ({"volume_group": {"nope": 1}}, "match.volume_group.nope"),
        ({"freeform_tags": "env"}, "must map tag keys"),
        ({"defined_tags": {"Operations": "x"}}, "match.defined_tags.Operations"),
        ({"type": None}, "unsupported condition"),
    ],
)
def test_bad_conditions_name_their_path(spec: dict, fragment: str) -> None:
    with pytest.raises(ConditionError) as exc:
        compile_match(spec)
    assert fragment in str(exc.value)
