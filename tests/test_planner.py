"""The planner: merge rules, modes, copy precedence, limits, and idempotence."""

import copy
import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.policy.loader import load_policy
from sync.policy.planner import needs_volume_group, plan

BACKUP = {
    "id": "ocid1.volumegroupbackup.oc1.iad.aaaa",
    "display_name": "Auto-backup for prod-db-vg via policy: gold",
    "source_type": "SCHEDULED",
    "type": "INCREMENTAL",
    "time_created": "2026-11-27T04:00:00Z",
    "freeform_tags": {"ticket": "OPS-1", "env": "staging"},
    "defined_tags": {"Oracle-Tags": {"CreatedBy": "someone"}},
}
VG = {
    "display_name": "prod-db-vg",
    "freeform_tags": {"env": "prod", "app": "billing"},
    "defined_tags": {
        "Operations": {"CostCenter": "cc-1"},
        "Finance": {"Budget": "b-9"},
        "Oracle-Tags": {"CreatedBy": "vg-maker"},
    },
}


def P(text: str):
    return load_policy(text)


def test_rename_and_tag_keeps_other_tags() -> None:
    policy = P(
        """
version: 1
rules:
  - name: r
    match: {source_type: SCHEDULED}
    display_name: "${volume_group.display_name}-${backup.type|lower}-${backup.time_created|date:%Y%m%d}"
    freeform_tags: {backup-kind: "${backup.source_type|lower}"}
    defined_tags: {Operations: {CostCenter: "${volume_group.defined_tags.Operations.CostCenter}"}}
"""
    )
    result = plan(policy, BACKUP, VG)
    assert result.desired.display_name == "prod-db-vg-incremental-20261127"
    assert result.desired.freeform_tags == {"ticket": "OPS-1", "env": "staging", "backup-kind": "scheduled"}
    assert result.desired.defined_tags == {
        "Oracle-Tags": {"CreatedBy": "someone"},
        "Operations": {"CostCenter": "cc-1"},
    }
    body = result.update_body()
    assert set(body) == {"displayName", "freeformTags", "definedTags"}
    assert body["definedTags"]["Oracle-Tags"] == {"CreatedBy": "someone"}  # whole map: kept
    assert result.changes()["freeformTags"] == {"backup-kind": {"old": None, "new": "scheduled"}}
    assert BACKUP["freeform_tags"] == {"ticket": "OPS-1", "env": "staging"}  # input untouched


def test_unchanged_plan_sends_nothing() -> None:
    policy = P("version: 1\nrules: [{name: r, freeform_tags: {ticket: OPS-1}}]")
    result = plan(policy, BACKUP)
    assert not result.changed and result.update_body() == {} and result.changes() == {}


def test_only_changed_maps_are_sent() -> None:
    result = plan(P("version: 1\nrules: [{name: r, freeform_tags: {a: b}}]"), BACKUP)
    assert set(result.update_body()) == {"freeformTags"}


def test_mode_all_later_rule_wins_and_first_stops() -> None:
    text = """
version: 1
mode: {mode}
rules:
  - {{name: one, freeform_tags: {{k: one, only-one: x}}}}
  - {{name: two, freeform_tags: {{k: two}}}}
  - {{name: never, match: {{type: FULL}}, freeform_tags: {{k: never}}}}
"""
    all_result = plan(P(text.format(mode="all")), BACKUP)
    assert all_result.desired.freeform_tags["k"] == "two"
    assert all_result.desired.freeform_tags["only-one"] == "x"
    assert all_result.matched_rules == ("one", "two")
    first = plan(P(text.format(mode="first")), BACKUP)
    assert first.desired.freeform_tags["k"] == "one"
    assert first.matched_rules == ("one",)


def test_overwrite_false_only_fills_missing_keys() -> None:
    policy = P("version: 1\nrules: [{name: r, overwrite: false, freeform_tags: {env: x, new: y}}]")
    desired = plan(policy, BACKUP).desired.freeform_tags
    assert desired["env"] == "staging" and desired["new"] == "y"
    policy = P("version: 1\nrules: [{name: r, freeform_tags: {env: x}}]")
    assert plan(policy, BACKUP).desired.freeform_tags["env"] == "x"


def test_overwrite_false_for_defined_tags() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, overwrite: false,"
        " defined_tags: {Oracle-Tags: {CreatedBy: x, CreatedOn: y}}}]"
    )
    defined = plan(policy, BACKUP).desired.defined_tags["Oracle-Tags"]
    assert defined == {"CreatedBy": "someone", "CreatedOn": "y"}


def test_copy_fills_only_missing_and_rule_tags_win_over_copied() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, copy_tags_from_volume_group: true, freeform_tags: {app: mine}}]"
    )
    result = plan(policy, BACKUP, VG)
    ff = result.desired.freeform_tags
    assert ff["env"] == "staging"  # the backup's own value beats the copied one
    assert ff["app"] == "mine"  # the rule's value beats the copied one
    defined = result.desired.defined_tags
    assert defined["Operations"] == {"CostCenter": "cc-1"}
    assert defined["Finance"] == {"Budget": "b-9"}
    assert defined["Oracle-Tags"] == {"CreatedBy": "someone"}  # never copied by default


def test_copy_limited_to_namespaces_and_freeform_off() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, copy_tags_from_volume_group: {freeform: false, defined: [Finance]}}]"
    )
    result = plan(policy, BACKUP, VG)
    assert "app" not in result.desired.freeform_tags
    assert "Operations" not in result.desired.defined_tags
    assert result.desired.defined_tags["Finance"] == {"Budget": "b-9"}


def test_missing_volume_group_skips_with_warning_never_none() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, display_name: '${volume_group.display_name}',"
        " freeform_tags: {vg: '${volume_group.display_name}', d: '${volume_group.display_name|default:gone}'}}]"
    )
    result = plan(policy, BACKUP, None)
    assert result.desired.display_name == BACKUP["display_name"]
    assert "vg" not in result.desired.freeform_tags
    assert result.desired.freeform_tags["d"] == "gone"
    assert "None" not in json.dumps(result.update_body())
    assert sum("skipped" in w for w in result.warnings) == 2


def test_needs_volume_group() -> None:
    no_vg = P("version: 1\nrules: [{name: r, freeform_tags: {a: b}}]")
    assert not needs_volume_group(no_vg, BACKUP)
    vg_template = P("version: 1\nrules: [{name: r, freeform_tags: {a: '${volume_group.id}'}}]")
    assert needs_volume_group(vg_template, BACKUP)
    vg_other_type = P(
        "version: 1\nrules: [{name: r, match: {type: FULL}, copy_tags_from_volume_group: true}]"
    )
    assert not needs_volume_group(vg_other_type, BACKUP)
    vg_condition = P(
        "version: 1\nrules: [{name: r, match: {volume_group: {display_name: x}}, freeform_tags: {a: b}}]"
    )
    assert needs_volume_group(vg_condition, BACKUP)
    first_wins = P(
        "version: 1\nmode: first\nrules: [{name: a, freeform_tags: {a: b}},"
        " {name: b, copy_tags_from_volume_group: true}]"
    )
    assert not needs_volume_group(first_wins, BACKUP)


def test_long_values_are_clipped_with_a_warning() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, display_name: '${backup.freeform_tags.long}',"
        " freeform_tags: {v: '${backup.freeform_tags.long}'}}]"
    )
    backup = {**BACKUP, "freeform_tags": {"long": "x" * 400}}
    result = plan(policy, backup)
    assert len(result.desired.display_name or "") == 255
    assert len(result.desired.freeform_tags["v"]) == 256
    assert sum("truncated" in w for w in result.warnings) == 2


def test_too_many_tags_is_an_error_and_nothing_changes() -> None:
    tags = {f"k{i}": "v" for i in range(3)}
    policy = P("version: 1\nlimits: {freeform_tags_max: 3}\nrules: [{name: r, freeform_tags: {extra: v}}]")
    result = plan(policy, {**BACKUP, "freeform_tags": tags})
    assert result.error and "4 freeform tags; the limit is 3" in result.error
    assert not result.changed


def test_total_size_limit() -> None:
    policy = P(
        "version: 1\nlimits: {total_tags_bytes_max: 100}\n"
        "rules: [{name: r, freeform_tags: {big: '${backup.freeform_tags.long}'}}]"
    )
    result = plan(policy, {**BACKUP, "freeform_tags": {"long": "y" * 200}})
    assert result.error and "bytes" in result.error


def test_event_fields_render() -> None:
    policy = P("version: 1\nrules: [{name: r, freeform_tags: {via: '${event.event_id|default:manual}'}}]")
    assert plan(policy, BACKUP, None, {"event_id": "e-1"}).desired.freeform_tags["via"] == "e-1"
    assert plan(policy, BACKUP, None, None).desired.freeform_tags["via"] == "manual"


# Idempotence: applying a plan's result and planning again yields no change.

tag_keys = st.sampled_from(["env", "app", "owner", "team", "cost", "kind"])
tag_values = st.text(alphabet="abcxyz-", min_size=1, max_size=6)
templates = st.sampled_from(
    [
        "${backup.type|lower}",
        "${backup.source_type}",
        "${volume_group.display_name|slug|default:none}",
        "${volume_group.freeform_tags.env|default:unknown}",
        "fixed",
        "${backup.time_created|date:%Y-%m}",
        "${volume_group.display_name}",
    ]
)
rule = st.fixed_dictionaries(
    {
        "freeform_tags": st.dictionaries(tag_keys, templates, max_size=3),
        "defined_tags": st.dictionaries(
            st.sampled_from(["Operations", "Finance"]),
            st.dictionaries(st.sampled_from(["CostCenter", "Tier"]), templates, min_size=1, max_size=2),
            max_size=2,
        ),
        "copy_tags_from_volume_group": st.booleans(),
        "overwrite": st.booleans(),
        "match": st.sampled_from([None, {"type": "FULL"}, {"source_type": "SCHEDULED"}]),
        "display_name": st.sampled_from([None, "${volume_group.display_name}-${backup.type|lower}", "x"]),
        # How the rule spells defined tag names: OCI matches them whatever their case.
        "case": st.sampled_from(["same", "lower", "upper", "swapcase"]),
    }
)
# The tenancy's casing, which OCI stores and returns whatever casing the update used.
CANONICAL = {
    n.lower(): n for n in ("Operations", "Finance", "Oracle-Tags", "CostCenter", "Tier", "CreatedBy")
}


def respell(name: str, case: str) -> str:
    return name if case == "same" else getattr(name, case)()


def as_oci_stores(defined: dict) -> dict:
    return {
        CANONICAL[ns.lower()]: {CANONICAL[k.lower()]: v for k, v in keys.items()}
        for ns, keys in defined.items()
    }


resources = st.fixed_dictionaries(
    {
        "freeform_tags": st.dictionaries(tag_keys, tag_values, max_size=4),
        "defined_tags": st.dictionaries(
            st.sampled_from(["Operations", "Finance", "Oracle-Tags"]),
            st.dictionaries(st.sampled_from(["CostCenter", "Tier", "CreatedBy"]), tag_values, min_size=1),
            max_size=2,
        ),
        "display_name": tag_values,
    }
)


@settings(max_examples=300, deadline=None)
@given(
    rules=st.lists(rule, min_size=1, max_size=4),
    mode=st.sampled_from(["all", "first"]),
    backup_part=resources,
    vg=st.one_of(st.none(), resources),
    backup_type=st.sampled_from(["FULL", "INCREMENTAL"]),
    oci_recases=st.booleans(),
)
def test_plan_is_idempotent(rules, mode, backup_part, vg, backup_type, oci_recases) -> None:
    specs = []
    for i, r in enumerate(rules):
        case = r["case"]
        r = {k: v for k, v in r.items() if k != "case"}
        r["defined_tags"] = {
            respell(ns, case): {respell(k, case): t for k, t in keys.items()}
            for ns, keys in r["defined_tags"].items()
        }
        spec = {k: v for k, v in r.items() if v not in (None, {}, False) or k == "overwrite"}
        spec["name"] = f"r{i}"
        if not ({"freeform_tags", "defined_tags", "display_name"} & set(spec)) and not spec.get(
            "copy_tags_from_volume_group"
        ):
            spec["freeform_tags"] = {"fallback": "x"}
        specs.append(spec)
    policy = load_policy(json.dumps({"version": 1, "mode": mode, "rules": specs}))
    backup = {
        **backup_part,
        "id": "ocid1.volumegroupbackup.oc1.iad.x",
        "type": backup_type,
        "source_type": "SCHEDULED",
        "time_created": "2026-11-27T04:00:00Z",
    }
    before = copy.deepcopy(backup)
    first = plan(policy, backup, vg)
    assert backup == before
    # Nothing is ever removed.
    for key in backup["freeform_tags"]:
        assert key in first.desired.freeform_tags
    for ns, keys in backup["defined_tags"].items():
        assert set(keys) <= set(first.desired.defined_tags[ns])
    applied = {
        **backup,
        "display_name": first.desired.display_name,
        "freeform_tags": first.desired.freeform_tags,
        # OCI answers with the tenancy's casing (or, were it to keep ours, with what we sent).
        "defined_tags": as_oci_stores(first.desired.defined_tags)
        if oci_recases
        else first.desired.defined_tags,
    }
    second = plan(policy, applied, vg)
    assert not second.changed, second.changes()
    # A name the backup already carries keeps its casing in what is sent.
    for ns, keys in backup["defined_tags"].items():
        assert set(keys) <= set(first.desired.defined_tags[ns])


# OCI's limits: bytes, not characters; copied tags that do not fit are left out, not the update.


def test_tag_data_is_counted_in_utf8_bytes() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, freeform_tags: {"
        + ", ".join(f"k{i}: '${{backup.freeform_tags.v}}'" for i in range(9))
        + "}}]"
    )
    ascii_ok = plan(policy, {**BACKUP, "freeform_tags": {"v": "e" * 256}})
    assert ascii_ok.error is None and ascii_ok.changed  # 10 x 256 characters: about 2.6 KB
    accented = plan(policy, {**BACKUP, "freeform_tags": {"v": "é" * 256}})  # twice the bytes
    assert accented.error is not None and accented.error.startswith("tags take 5")
    assert accented.error.endswith("bytes (UTF-8); the limit is 5120") and not accented.changed


def test_oracle_tags_count_in_the_defined_tags_limit() -> None:
    policy = P(
        "version: 1\nrules: [{name: r, defined_tags: {Ops: {"
        + ", ".join(f"K{i}: v" for i in range(63))
        + "}}}]"
    )
    alone = {**BACKUP, "defined_tags": {}}
    assert plan(policy, alone).error is None
    stamped = {**BACKUP, "defined_tags": {"Oracle-Tags": {"CreatedBy": "x", "CreatedOn": "y"}}}
    assert plan(policy, stamped).error == "65 defined tags; the limit is 64"


def test_copied_tags_that_do_not_fit_are_left_out_with_a_warning() -> None:
    policy = P("version: 1\nrules: [{name: r, copy_tags_from_volume_group: true, freeform_tags: {mine: v}}]")
    vg = {"freeform_tags": {f"vg{i}": "x" for i in range(12)}}
    result = plan(policy, {**BACKUP, "freeform_tags": {"a": "1"}}, vg)
    assert result.error is None
    assert len(result.desired.freeform_tags) == 10
    assert result.desired.freeform_tags["mine"] == "v" and result.desired.freeform_tags["a"] == "1"
    skipped = [w for w in result.warnings if "not copied: over the limit of freeform tags" in w]
    assert len(skipped) == 4 and "freeform tag vg11 not copied" in skipped[0]


# Idempotence at run time: no policy can make every run a PUT.


GROWS = """
version: 1
rules:
  - name: grow
    defined_tags: {Operations: {Owner: "${backup.defined_tags.operations.owner|default:team}-x"}}
  - name: steady
    freeform_tags: {env: prod}
"""


def test_lint_warns_of_a_read_of_a_written_defined_tag_in_another_case() -> None:
    assert P(GROWS).warnings == (
        "rule 'grow': ${backup.defined_tags.operations.owner|default:team} reads a value this policy"
        " writes, so each run may change it again (a rule whose value would change again is not"
        " applied to that backup)",
    )


def test_a_rule_whose_output_would_change_again_is_not_applied() -> None:
    backup = {**BACKUP, "defined_tags": {"Operations": {"Owner": "ops"}}}
    result = plan(P(GROWS), backup)
    assert result.matched_rules == ("steady",)
    assert result.desired.defined_tags == {"Operations": {"Owner": "ops"}}
    assert result.desired.freeform_tags["env"] == "prod"  # the other rule still applies
    assert result.warnings == (
        "rule 'grow': defined_tags.Operations.Owner: not applied, its value would change again on every"
        " run ('ops-x' -> 'ops-x-x'): the rule reads what it writes",
    )
    applied = {**backup, "freeform_tags": result.desired.freeform_tags}
    assert not plan(P(GROWS), applied).changed


def test_a_rule_reading_what_it_writes_once_is_kept() -> None:
    # Reads its own key but converges: the second plan gives the same value.
    policy = P("version: 1\nrules: [{name: r, freeform_tags: {k: '${backup.freeform_tags.k|default:a}'}}]")
    result = plan(policy, {**BACKUP, "freeform_tags": {}})
    assert result.desired.freeform_tags == {"k": "a"} and result.warnings == ()


self_reading = st.sampled_from(
    [
        "${backup.display_name}",
        "${backup.display_name}-x",
        "${backup.freeform_tags.k|default:a}-x",
        "${backup.freeform_tags.k|default:a}",
        "${backup.freeform_tags.j|default:b}${backup.freeform_tags.k|default:c}",
        "${backup.defined_tags.ops.owner|default:t}-x",
        "${backup.defined_tags.Ops.Owner|default:t}",
        "${backup.display_name|truncate:5}",
        "fixed",
    ]
)
self_rule = st.fixed_dictionaries(
    {
        "display_name": st.one_of(st.none(), self_reading),
        "freeform_tags": st.dictionaries(st.sampled_from(["k", "j"]), self_reading, max_size=2),
        "defined_tags": st.dictionaries(
            st.sampled_from(["Ops", "OPS"]),
            st.dictionaries(st.sampled_from(["Owner", "owner"]), self_reading, min_size=1, max_size=1),
            max_size=1,
        ),
        "match": st.sampled_from(
            [
                None,
                {"display_name": {"regex": "-x$"}},
                {"freeform_tags": {"k": {"exists": False}}},
                {"display_name": "n"},
            ]
        ),
        "overwrite": st.booleans(),
    }
)


@settings(max_examples=int(os.environ.get("BTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
@given(rules=st.lists(self_rule, min_size=1, max_size=3), mode=st.sampled_from(["all", "first"]))
def test_no_policy_makes_every_run_a_put(rules, mode) -> None:
    specs = []
    for i, r in enumerate(rules):
        spec = {k: v for k, v in r.items() if v not in (None, {})}
        spec["name"] = f"r{i}"
        if not ({"freeform_tags", "defined_tags", "display_name"} & set(spec)):
            spec["freeform_tags"] = {"fallback": "x"}
        specs.append(spec)
    policy = load_policy(json.dumps({"version": 1, "mode": mode, "rules": specs}))
    state = {"id": "b", "display_name": "n", "freeform_tags": {}, "defined_tags": {}}
    puts = 0
    for _ in range(len(specs) + 3):
        result = plan(policy, state)
        assert result.error is None
        if not result.changed:
            break
        puts += 1
        state = {
            **state,
            "display_name": result.desired.display_name,
            "freeform_tags": result.desired.freeform_tags,
            "defined_tags": result.desired.defined_tags,
        }
    else:
        raise AssertionError(f"still changing after {puts} runs: {result.changes()}")
    # Each run's plan is what it would plan again: one PUT, then none (a rule that a
    # previous run's write made match may add one more).
    assert puts <= len(specs)


def test_two_rules_that_feed_each_other_settle_instead_of_growing_every_run() -> None:
    # Found by the property above: r0 copies the name into a tag, r1 builds the name from that tag,
    # so each run's write made the next run change again ('t-x' -> 't-x-x' -> ...).
    policy = load_policy(
        json.dumps(
            {
                "version": 1,
                "rules": [
                    {
                        "name": "r0",
                        "match": {"display_name": {"regex": "-x$"}},
                        "defined_tags": {"Ops": {"Owner": "${backup.display_name}"}},
                        "overwrite": False,
                    },
                    {"name": "r1", "display_name": "${backup.defined_tags.ops.owner|default:t}-x"},
                ],
            }
        )
    )
    state = {"id": "b", "display_name": "n", "freeform_tags": {}, "defined_tags": {}}
    puts = 0
    for _ in range(6):
        result = plan(policy, state)
        if not result.changed or result.error:
            break
        puts += 1
        state = {
            **state,
            "display_name": result.desired.display_name,
            "defined_tags": result.desired.defined_tags,
        }
    assert not plan(policy, state).changed and puts <= 2, (puts, state)
