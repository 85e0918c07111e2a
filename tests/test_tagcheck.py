"""The tag schema and its pure checks: case-insensitive names, retired keys, list-of-values keys."""

from __future__ import annotations

import pytest

from sync.policy.loader import load_policy
from sync.policy.planner import plan
from sync.policy.tagcheck import apply_schema, changed_written, check_policy, schema_from_seed, wanted_names

SCHEMA = schema_from_seed(
    {
        "tagNamespaces": {
            "Oracle-Tags": ["CreatedBy", "CreatedOn"],
            "Operations": {
                "tags": {
                    "CostCenter": {"isCostTracking": True},
                    "Environment": {"validator": {"validatorType": "ENUM", "values": ["prod", "dev"]}},
                    "Old": {"isRetired": True},
                    "Free": {"validator": {"validatorType": "DEFAULT"}},
                }
            },
            "Attic": {"isRetired": True, "tags": {"Thing": {}}},
        }
    }
)
BACKUP = {
    "id": "ocid1.volumegroupbackup.oc1..b",
    "display_name": "b",
    "type": "FULL",
    "freeform_tags": {"env": "prod"},
    "defined_tags": {"Oracle-Tags": {"CreatedBy": "me"}},
}


def P(rules: str) -> object:
    return load_policy("version: 1\nrules:\n" + rules)


def test_schema_reads_the_seed_formats_and_matches_names_ignoring_case() -> None:
    assert SCHEMA.key("operations", "COSTCENTER").is_cost_tracking  # type: ignore[union-attr]
    assert SCHEMA.key("Oracle-Tags", "createdon").allowed is None  # type: ignore[union-attr]
    assert SCHEMA.key("Operations", "environment").allowed == ("prod", "dev")  # type: ignore[union-attr]
    assert SCHEMA.key("Operations", "Free").allowed is None  # type: ignore[union-attr]
    assert SCHEMA.key("Operations", "Nope") is None and SCHEMA.namespace("Nope") is None
    assert not SCHEMA.namespace("attic").usable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"Ns": "keys"},
        {"Ns": {"tags": []}},
        {"Ns": {"tags": {"K": {"validator": {"validatorType": "ENUM"}}}}},
    ],
)
def test_a_bad_schema_is_a_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        schema_from_seed(bad)


def test_check_policy_names_each_problem_and_its_rule() -> None:
    policy = P(
        "  - {name: a, defined_tags: {operations: {costcenter: x, Environment: prod}}}\n"
        "  - {name: b, defined_tags: {Operations: {Environment: staging, Old: y}}}\n"
        "  - {name: c, defined_tags: {Attic: {Thing: z}, Gone: {K: v}}}\n"
        "  - {name: d, defined_tags: {Operations: {Environment: '${volume_group.freeform_tags.env}'}}}\n"
        "  - {name: e, copy_tags_from_volume_group: {defined: [Missing, operations]}}\n"
    )
    problems, rows, notes = check_policy(policy, SCHEMA)  # type: ignore[arg-type]
    assert problems == [
        "rule 'b': defined_tags.Operations.Environment: value 'staging' is not allowed by"
        " Operations.Environment; allowed values: prod, dev",
        "rule 'b': defined_tags.Operations.Old: tag key Operations.Old is retired",
        "rule 'c': defined_tags.Attic: tag namespace 'Attic' is retired",
        "rule 'c': defined_tags.Gone: tag namespace 'Gone' not found",
        "rule 'e': copy_tags_from_volume_group.defined: tag namespace 'Missing' not found",
    ]
    assert [(r.namespace, r.key, r.cost_tracking, r.rules) for r in rows] == [
        ("Operations", "CostCenter", "yes", "a"),
        ("Operations", "Environment", "no", "a, b, d"),
    ]
    assert any("rendered by rule(s) d" in n for n in notes)
    assert wanted_names(policy) == {  # type: ignore[arg-type]
        "operations": {"costcenter", "Environment", "Old"},
        "Attic": {"Thing"},
        "Gone": {"K"},
        "Missing": set(),
    }


def test_apply_schema_uses_the_tenancys_casing_for_new_names() -> None:
    policy = P("  - {name: a, defined_tags: {operations: {costcenter: x}, oracle-tags: {createdby: me}}}\n")
    result = apply_schema(plan(policy, BACKUP), SCHEMA)  # type: ignore[arg-type]
    assert result.error is None
    # New names take the schema's casing; a name already on the backup keeps the backup's.
    assert result.update_body()["definedTags"] == {
        "Oracle-Tags": {"CreatedBy": "me"},
        "Operations": {"CostCenter": "x"},
    }
    assert result.defined_writers == {("Operations", "CostCenter"): "a", ("Oracle-Tags", "CreatedBy"): "a"}


def test_apply_schema_rejects_a_rendered_value_outside_the_list() -> None:
    policy = P(
        "  - {name: env, defined_tags: {Operations: {Environment: '${backup.freeform_tags.env|upper}'}}}\n"
    )
    result = apply_schema(plan(policy, BACKUP), SCHEMA)  # type: ignore[arg-type]
    assert result.error == (
        "rule 'env': defined tag Operations.Environment: value 'PROD' is not allowed; allowed values: prod, dev"
    )
    assert not result.changed and result.update_body() == {}
    ok = P("  - {name: env, defined_tags: {Operations: {Environment: '${backup.freeform_tags.env}'}}}\n")
    assert apply_schema(plan(ok, BACKUP), SCHEMA).error is None  # type: ignore[arg-type]


def test_values_already_on_the_backup_are_not_judged() -> None:
    backup = {**BACKUP, "defined_tags": {"Operations": {"Environment": "legacy"}}}
    keep = P("  - {name: k, defined_tags: {operations: {environment: legacy}}}\n")
    result = plan(keep, backup)  # type: ignore[arg-type]
    assert not result.changed and apply_schema(result, SCHEMA).error is None


def test_copied_tags_oci_would_refuse_are_left_out_and_the_rules_tags_still_go() -> None:
    policy = P(
        "  - {name: c, copy_tags_from_volume_group: true, freeform_tags: {k: v},"
        " defined_tags: {Operations: {Free: x}}}\n"
    )
    vg = {
        "defined_tags": {
            "Operations": {"Environment": "old-value", "Old": "1", "CostCenter": "cc", "Gone": "g"},
            "Attic": {"Thing": "t"},
        }
    }
    result = plan(policy, BACKUP, vg)  # type: ignore[arg-type]
    assert set(result.copied_defined) == {
        ("Operations", "Environment"),
        ("Operations", "Old"),
        ("Operations", "CostCenter"),
        ("Operations", "Gone"),
        ("Attic", "Thing"),
    }
    # The review reads the schema for copied names too (the function's cache asks for these).
    assert ("Attic", "Thing") in changed_written(result) and ("Operations", "Free") in changed_written(result)
    checked = apply_schema(result, SCHEMA)
    assert checked.error is None
    assert checked.update_body()["definedTags"] == {
        "Oracle-Tags": {"CreatedBy": "me"},
        "Operations": {"Free": "x", "CostCenter": "cc"},
    }
    assert checked.update_body()["freeformTags"] == {"env": "prod", "k": "v"}
    assert [w for w in checked.warnings if w.startswith("copy_tags_from_volume_group")] == [
        "copy_tags_from_volume_group: defined tag Operations.Environment not copied: value 'old-value'"
        " is not allowed by Operations.Environment",
        "copy_tags_from_volume_group: defined tag Operations.Old not copied: tag key Operations.Old is retired",
        "copy_tags_from_volume_group: defined tag Operations.Gone not copied: tag key Operations.Gone"
        " does not exist",
        "copy_tags_from_volume_group: defined tag Attic.Thing not copied: tag namespace Attic is retired",
    ]


def test_conditions_templates_and_overwrite_read_defined_names_ignoring_case() -> None:
    backup = {**BACKUP, "defined_tags": {"Operations": {"CostCenter": "cc-1"}}}
    policy = P(
        "  - name: a\n"
        "    match: {defined_tags: {OPERATIONS: {costcenter: cc-1}}}\n"
        "    freeform_tags: {cost: '${backup.defined_tags.operations.COSTCENTER}'}\n"
        "    defined_tags: {operations: {costcenter: other}}\n"
        "    overwrite: false\n"
    )
    result = plan(policy, backup)  # type: ignore[arg-type]
    assert result.matched_rules == ("a",)
    assert result.desired.freeform_tags["cost"] == "cc-1"
    assert result.desired.defined_tags == {"Operations": {"CostCenter": "cc-1"}}  # not overwritten
