"""Policy loading: structure first, then meaning; every error names the rule and the field."""

import json

import pytest

from sync.policy.loader import PolicyError, load_policy, load_policy_file

GOOD = """
version: 1
mode: first
rules:
  - name: prod
    match: {source_type: SCHEDULED}
    display_name: "${backup.type|lower}"
    freeform_tags: {kind: "${backup.source_type|lower}", n: 5}
    defined_tags: {Operations: {CostCenter: "${backup.freeform_tags.cc|default:none}"}}
    copy_tags_from_volume_group: {freeform: true, defined: [Operations]}
    overwrite: false
"""


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy(text, "p.yaml")
    assert exc.value.errors
    return exc.value.errors


def test_good_policy_loads_yaml_and_json() -> None:
    policy = load_policy(GOOD)
    rule = policy.rules[0]
    assert policy.mode == "first"
    assert rule.name == "prod" and rule.overwrite is False
    assert rule.copy is not None and rule.copy.namespaces == frozenset({"Operations"})
    assert rule.freeform_tags["n"].source == "5"
    assert rule.needs_volume_group
    as_json = json.dumps({"version": 1, "rules": [{"name": "a", "freeform_tags": {"k": "v"}}]})
    assert load_policy(as_json).rules[0].name == "a"


def test_shipped_policy_lints_clean() -> None:
    policy = load_policy_file("tag_policy.yaml")
    assert policy.rules and not policy.warnings


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 2\nrules: [{name: a, display_name: x}]", "policy: version"),
        ("version: 1\nrules: []", "policy: rules"),
        ("version: 1\nmode: some\nrules: [{name: a, display_name: x}]", "policy: mode"),
        ("version: 1\nrulez: []\nrules: [{name: a, display_name: x}]", "rulez: unknown key"),
        ("version: 1\nrules: [{name: a, displayname: x}]", "rule 'a' (rules[0]): displayname: unknown key"),
        ("version: 1\nrules: [{name: a, overwrite: maybe}]", "rule 'a' (rules[0]): overwrite"),
        ("version: 1\nrules: [{display_name: x}]", "rules[0]: name"),
        ("version: 1\nrules: [{name: a, display_name: true}]", "quotes"),
        ("version: 1\nrules: [{name: a, freeform_tags: {k: [1]}}]", "rule 'a' (rules[0]): freeform_tags.k"),
        ("version: 1\nrules: [{name: a, copy_tags_from_volume_group: {free: true}}]", "free"),
        (
            "version: 1\nrules: [{name: a, match: {sourcetype: X}, display_name: x}]",
            "rule 'a' (rules[0]): match.sourcetype",
        ),
        (
            "version: 1\nrules: [{name: a, display_name: '${backup.nope}'}]",
            "rule 'a' (rules[0]): display_name: unknown name",
        ),
        ("version: 1\nrules: [{name: a, freeform_tags: {'bad key': x}}]", "freeform_tags.bad key: a tag key"),
        ("version: 1\nrules: [{name: a, freeform_tags: {'a.b': x}}]", "without '.'"),
        ("version: 1\nrules: [{name: a, defined_tags: {Ops: {}}}]", "defined_tags.Ops: no keys"),
        ("version: 1\nrules: [{name: a}]", "sets nothing"),
        (
            "version: 1\nrules: [{name: a, display_name: x}, {name: a, display_name: y}]",
            "name already used by rules[0]",
        ),
        (
            "version: 1\nlimits: {tag_value_max: 999}\nrules: [{name: a, display_name: x}]",
            "limits.tag_value_max",
        ),
        ("- just\n- a list", "must be a mapping"),
        ("version: 1\nrules: [\n", "invalid YAML at line"),
        ('{"version": 1,', "invalid JSON at line 1"),
        ("", "policy is empty"),
        (b"version: 1\xff", "not UTF-8"),
        ("a: &a [*a]", "policy"),
    ],
)
def test_errors_are_clear(text: str | bytes, fragment: str) -> None:
    joined = "\n".join(errors_of(text))
    assert fragment in joined


def test_every_error_is_reported_not_just_the_first() -> None:
    text = """
version: 1
rules:
  - name: one
    display_name: "${backup.nope}"
  - name: two
    match: {display_name: {regex: "("}}
    display_name: ok
  - name: three
    freeform_tags: {k: "${backup.type|bogus}"}
"""
    errors = errors_of(text)
    assert len(errors) == 3
    assert [e.split(":")[0] for e in errors] == [
        "rule 'one' (rules[0])",
        "rule 'two' (rules[1])",
        "rule 'three' (rules[2])",
    ]


def test_huge_policy_is_refused_without_parsing() -> None:
    assert "limit is 1 MiB" in errors_of(b"#" * (1024 * 1024 + 1))[0]


def test_yaml_tags_cannot_build_python_objects() -> None:
    assert errors_of("!!python/object/apply:os.system ['true']")


def test_idempotence_warning_for_self_reference() -> None:
    policy = load_policy("version: 1\nrules: [{name: a, display_name: '${backup.display_name}-x'}]")
    assert "reads a value this policy writes" in policy.warnings[0]


def test_missing_file_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as exc:
        load_policy_file("/nonexistent/policy.yaml")
    assert "cannot read policy file" in exc.value.errors[0]


def test_idempotence_warning_for_condition_on_written_value() -> None:
    policy = load_policy(
        "version: 1\nrules: [{name: a, match: {display_name: {regex: '^Auto'}}, display_name: x}]"
    )
    assert "may stop matching" in policy.warnings[0]


FIVE_PROBLEMS = """\
version: 1.0
rules:
  - name: a
    match: {source_typ: SCHEDULED}
    freefrom_tags: {team: db}
    display_name: "${backup.type|lowr}"
  - name: b
    overwrite: maybe
    match: {display_name: {regex: "(a)\\\\1"}}
    freeform_tags: {"bad key": x}
"""


def test_lint_lists_every_problem_in_one_pass_with_rule_field_and_suggestion(tmp_path) -> None:
    import io

    from sync.cli.main import main

    path = tmp_path / "five.yaml"
    path.write_text(FIVE_PROBLEMS)
    out, err = io.StringIO(), io.StringIO()
    assert main(["lint", str(path)], out, err) == 1
    lines = [line.removeprefix(f"{path}: ") for line in err.getvalue().splitlines()]
    assert [line.split(" (known", 1)[0].split("; known", 1)[0] for line in lines] == [
        "policy: version: Input should be 1 (the whole number, not 1.0)",
        "rule 'a' (rules[0]): freefrom_tags: unknown key (did you mean 'freeform_tags'?)",
        "rule 'a' (rules[0]): match.source_typ: unknown field 'source_typ' (did you mean 'source_type'?)",
        "rule 'a' (rules[0]): display_name: unknown filter 'lowr' (did you mean 'lower'?)",
        "rule 'b' (rules[1]): overwrite: Input should be a valid boolean, unable to interpret input",
        "rule 'b' (rules[1]): match.display_name.regex: invalid regular expression (RE2 syntax): invalid"
        " escape sequence: \\1 (backreferences (\\1) and \\Z are not supported (use \\z))",
        "rule 'b' (rules[1]): freeform_tags.bad key: a tag key is 1-100 printable ASCII characters"
        " without '.' or space",
    ]
    assert out.getvalue() == ""


def test_every_bad_condition_of_a_match_is_listed() -> None:
    with pytest.raises(PolicyError) as exc:
        load_policy(
            "version: 1\nrules:\n  - name: r\n    display_name: x\n    match:\n"
            "      type: []\n      volume_group: {nme: x, display_name: {regex: '('}}\n      kind: vg\n"
        )
    assert [e.split(";")[0] for e in exc.value.errors] == [
        "rule 'r' (rules[0]): match.type: an empty list matches nothing",
        "rule 'r' (rules[0]): match.volume_group.nme: unknown field 'nme'",
        "rule 'r' (rules[0]): match.volume_group.display_name.regex: invalid regular expression (RE2 syntax):"
        " missing ): (",
        "rule 'r' (rules[0]): match.kind: unknown kind 'vg'",
    ]
