"""Hostile input: ReDoS patterns, alias bombs, YAML tag tricks, huge numbers, control
characters and bad bodies, each with the exact outcome (through load_policy, `lint`, the
request parser and the function under the real FDK)."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.cli.main import build_parser
from sync.cli.main import main as cli_main
from sync.cli.options import resume_command
from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from sync.policy.loader import PolicyError, load_policy
from sync.policy.planner import plan
from sync.requests.bodies import BackupRequest, Ignored, Rejected, SweepRequest, _parse, parse_request
from sync.sources.base import FileSource, InlineSource
from tests.test_sweep import COMP, POLICY_TEXT
from tests.test_sweep_cli import server  # noqa: F401 (a fixture: 100 backups in the emulator)

ROOT = Path(__file__).resolve().parents[1]
HEAD = "version: 1\nrules:\n  - name: r\n"
LABEL = "rule 'r' (rules[0])"


def rule_with(body: str) -> str:
    """A one-rule policy; `body` is the rule's other keys, indented by four spaces."""
    return HEAD + body


def errors_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy(text)
    return exc.value.errors


# ---- ReDoS: classic catastrophic-backtracking patterns load and answer in linear time ----

REDOS = [
    "(a+)+$",
    "(a|aa)+$",
    "(a|a?)+$",
    "(.*a){12}$",
    "^(\\w+\\s?)*$",
    "(x+x+)+y",
    "^(a+)+b",
    "(\\d+)*[a-z]$",
]


@pytest.mark.parametrize("pattern", REDOS)
def test_redos_pattern_loads_and_runs_on_a_10kb_name(pattern: str) -> None:
    policy = load_policy(
        rule_with(f"    match: {{display_name: {{regex: {json.dumps(pattern)}}}}}\n    display_name: hit\n")
    )
    # Backtracking engines take longer than the age of the universe on these; RE2 is linear.
    attack = {"id": "b", "display_name": "a" * 10_000 + "!"}
    # The same answer as Python's re.search, which is quick on a short name of the same shape.
    expected = ("r",) if re.search(pattern, "a" * 12 + "!") else ()
    assert plan(policy, attack, None, None).matched_rules == expected


def test_regex_keeps_search_semantics() -> None:
    policy = load_policy(
        rule_with("    match: {display_name: {regex: 'db-[0-9]+'}}\n    display_name: hit\n")
    )
    assert plan(policy, {"id": "b", "display_name": "prod-db-42-x"}, None, None).matched_rules == ("r",)
    assert plan(policy, {"id": "b", "display_name": "prod-db-x"}, None, None).matched_rules == ()


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("(a)\\1", "invalid escape sequence: \\1 (backreferences (\\1) and \\Z are not supported"),
        ("x(?=y)", "invalid perl operator: (?= (lookahead (?=...) is not supported)"),
        ("x(?!y)", "invalid perl operator: (?! (lookahead (?!...) is not supported)"),
        ("(?<=x)y", "invalid perl operator: (?<= (lookbehind is not supported)"),
        ("(?>a+)b", "invalid perl operator: (?> (atomic groups are not supported"),
        ("a++b", "bad repetition operator: ++ (possessive quantifiers are not supported"),
        ("a\\Z", "invalid escape sequence: \\Z"),
        ("a{1001}", "invalid repetition size: {1001}"),
        (".{1000}x.{1000}", "pattern is too large"),
        ("\\p{L}{100}", "pattern is too large"),
        ("(unclosed", "missing ): (unclosed"),
    ],
)
def test_pattern_re2_cannot_run_is_a_lint_error_naming_rule_and_field(pattern: str, fragment: str) -> None:
    (line,) = errors_of(
        rule_with(f"    match: {{display_name: {{regex: {json.dumps(pattern)}}}}}\n    display_name: x\n")
    )
    assert line.startswith(f"{LABEL}: match.display_name.regex: ")
    assert fragment in line


# ---- YAML bombs and tricks ----

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "version: 1\nrules:\n  - name: r\n    match: {display_name: *i}\n    display_name: x\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BILLION_LAUGHS, "invalid YAML at line 1: anchors (&) and aliases (*) are not allowed in a policy"),
        (
            HEAD + "    display_name: &n x\n    freeform_tags: {a: *n}\n",
            "invalid YAML at line 4: anchors (&) and aliases (*) are not allowed in a policy",
        ),
        (
            HEAD + "    display_name: x\n    freeform_tags: {<<: {a: b}}\n",
            "invalid YAML at line 5: merge keys (<<) are not allowed in a policy",
        ),
        (
            HEAD + "    display_name: !!python/object/apply:os.system ['echo hi']\n",
            "invalid YAML at line 4: the YAML tag '!!python/object/apply:os.system' is not allowed in a policy",
        ),
        (
            HEAD + "    freeform_tags: {a: !!binary aGk=}\n",
            "invalid YAML at line 4: the YAML tag '!!binary' is not allowed in a policy",
        ),
        (
            HEAD + "    freeform_tags: !!set {a}\n",
            "invalid YAML at line 4: the YAML tag '!!set' is not allowed in a policy",
        ),
        (
            HEAD + "    freeform_tags: {a: !!timestamp 2026-13-01}\n",
            "invalid YAML at line 4: the YAML tag '!!timestamp' is not allowed in a policy",
        ),
        (
            HEAD + "    freeform_tags: {a: !env HOME}\n",
            "invalid YAML at line 4: the YAML tag '!env' is not allowed in a policy",
        ),
        (
            HEAD + "    display_name: x\n    display_name: y\n",
            "invalid YAML at line 5: duplicate key 'display_name'",
        ),
        (
            HEAD + "    display_name: x\n---\nversion: 1\n",
            "invalid YAML at line 5: a policy is one YAML document (found a second)",
        ),
        (
            HEAD + "    freeform_tags: {? [a]: b}\n",
            "invalid YAML at line 4: a mapping key must be text or a number",
        ),
        (
            HEAD + "    match: {display_name: " + "[" * 70 + "]" * 70 + "}\n",
            "invalid YAML at line 4: nested more than 64 levels deep",
        ),
    ],
    ids=[
        "billion-laughs",
        "alias",
        "merge-key",
        "python-object",
        "binary",
        "set",
        "timestamp-tag",
        "custom-tag",
        "duplicate-key",
        "two-documents",
        "complex-key",
        "deep-nesting",
    ],
)
def test_yaml_trick_is_refused_with_its_line(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_yaml_dates_are_text_not_timestamps() -> None:
    policy = load_policy(HEAD + "    freeform_tags: {bad: 2026-13-01, good: 2026-11-01}\n")
    tags = policy.rules[0].freeform_tags
    assert (tags["bad"].source, tags["good"].source) == ("2026-13-01", "2026-11-01")


# ---- Huge and odd numbers ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + "    freeform_tags: {x: " + "9" * 5000 + "}\n",
            "invalid YAML at line 4: '" + "9" * 60 + "'… (5000 characters) is not a usable number"
            " (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)",
        ),
        (
            HEAD + "    freeform_tags: {x: " + "9" * 4000 + "}\n",
            f"{LABEL}: freeform_tags.x: <an integer of about 4000 digits> is too long for a name or tag value",
        ),
        (HEAD + "    freeform_tags: {x: .nan}\n", "invalid YAML at line 4: '.nan' is not a finite number"),
        (HEAD + "    freeform_tags: {x: -.inf}\n", "invalid YAML at line 4: '-.inf' is not a finite number"),
        (
            HEAD + "    freeform_tags: {x: 1.0e+999}\n",
            "invalid YAML at line 4: '1.0e+999' is not a finite number",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"x": NaN}}]}',
            "invalid JSON: NaN is not a JSON number",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"x": -Infinity}}]}',
            "invalid JSON: -Infinity is not a JSON number",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"x": ' + "9" * 5000 + "}}]}",
            "invalid JSON: an integer of 5000 digits (the limit is 100)",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"x": 1e999}}]}',
            "invalid JSON: the number 1e999 is too large",
        ),
        ('{"version": 1, "rules": ' + "[" * 100_000 + "]" * 100_000 + "}", "policy is nested too deeply"),
        (
            '{"version": 1, "rules": [{"name": "r", "display_name": "x", "display_name": "y"}]}',
            "invalid JSON: duplicate key 'display_name'",
        ),
        (
            "version: 1\nlimits: {display_name_max: "
            + "9" * 50
            + "}\nrules:\n  - name: r\n    display_name: x\n",
            "policy: limits.display_name_max: Input should be less than or equal to 255",
        ),
    ],
    ids=[
        "yaml-5000-digits",
        "yaml-4000-digits",
        "yaml-nan",
        "yaml-inf",
        "yaml-overflow",
        "json-nan",
        "json-infinity",
        "json-5000-digits",
        "json-overflow",
        "json-deep",
        "json-duplicate-key",
        "huge-limit",
    ],
)
def test_huge_or_odd_number_is_a_policy_error(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


# ---- Odd types in every field: each names the rule and the field ----


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "policy: version: Input should be 1"),
        ("    display_name: {a: b}\n", f"{LABEL}: display_name: Input should be a valid string"),
        ("    freeform_tags: [a]\n", f"{LABEL}: freeform_tags: Input should be a valid dictionary"),
        ("    freeform_tags: {a: null}\n", f"{LABEL}: freeform_tags.a: Input should be a valid string"),
        ("    defined_tags: {ns: [a]}\n", f"{LABEL}: defined_tags.ns: Input should be a valid dictionary"),
        ("    match: [1]\n    display_name: x\n", f"{LABEL}: match: Input should be a valid dictionary"),
        (
            "    match: {display_name: {regex: 5}}\n    display_name: x\n",
            f"{LABEL}: match.display_name.regex: must be text",
        ),
        (
            "    match: {display_name: [[1]]}\n    display_name: x\n",
            f"{LABEL}: match.display_name: list items must be plain values, not <a list of 1 item(s)>",
        ),
        (
            "    match: {volume_group: [1]}\n    display_name: x\n",
            f"{LABEL}: match.volume_group: must be a mapping of field: condition",
        ),
        (
            "    copy_tags_from_volume_group: maybe\n",
            f"{LABEL}: copy_tags_from_volume_group.bool: Input should be a valid boolean, unable to interpret input",
        ),
    ],
)
def test_odd_type_names_rule_and_field(body: str, expected: str) -> None:
    text = rule_with(body) if body else "version: '1'\nrules:\n  - name: r\n    display_name: x\n"
    assert expected in errors_of(text)


# ---- Control characters ----


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('    display_name: "x\\Ny"\n', f"{LABEL}: display_name: contains the control character U+0085"),
        ('    display_name: "a\\tb"\n', f"{LABEL}: display_name: contains the control character U+0009"),
        (
            '    freeform_tags: {a: "\\a"}\n',
            f"{LABEL}: freeform_tags.a: contains the control character U+0007",
        ),
        (
            '    freeform_tags: {"a\\a": x}\n',
            f"{LABEL}: freeform_tags.'a\\x07': a tag key is 1-100 printable ASCII characters without '.' or space",
        ),
        (
            '    defined_tags: {ns: {"k\\e": v}}\n',
            f"{LABEL}: defined_tags.ns.'k\\x1b': not a valid defined tag key",
        ),
        (
            '    match: {display_name: "\\e[2J"}\n    display_name: x\n',
            f"{LABEL}: match.display_name: contains the control character U+001B",
        ),
        (
            '    match: {type: [FULL, "\\x9b"]}\n    display_name: x\n',
            f"{LABEL}: match.type: contains the control character U+009B",
        ),
        (
            '    match: {display_name: {regex: "\\e"}}\n    display_name: x\n',
            f"{LABEL}: match.display_name.regex: contains the control character U+001B",
        ),
    ],
)
def test_control_character_in_a_literal_is_an_error(body: str, expected: str) -> None:
    assert errors_of(rule_with(body)) == [expected]


def test_control_character_in_a_rule_name_is_an_error_shown_escaped() -> None:
    errors = errors_of('version: 1\nrules:\n  - name: "\\e]0;pwned\\a"\n    display_name: x\n')
    assert errors == ["rule '\\x1b]0;pwned\\x07' (rules[0]): name: contains the control character U+001B"]


# ---- Every quoted value is clipped ----


def test_long_values_are_clipped_in_error_messages() -> None:
    long_name = "n" * 100_000
    (line,) = errors_of(f"version: 1\nrules:\n  - name: {long_name}\n    display_name: x\n")
    assert (
        line
        == f"rule '{'n' * 100}'… (100000 characters) (rules[0]): name: String should have at most 100 characters"
    )
    (line,) = errors_of(
        rule_with(f"    match: {{display_name: [[{'x, ' * 50_000}x]]}}\n    display_name: x\n")
    )
    assert line.endswith("list items must be plain values, not <a list of 50001 item(s)>")
    template = "${" + "a" * 1000 + "}"
    (line,) = errors_of(rule_with(f"    display_name: '{template}'\n"))
    assert len(line) < 400 and "… (1003 characters)" not in line  # the name is quoted, clipped
    assert "'" + "a" * 190 in line and "(1000 characters)" in line


# ---- Through `python -m sync lint`: exit 1, one line per error, no traceback, no raw control ----


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BILLION_LAUGHS, "anchors (&) and aliases (*) are not allowed in a policy"),
        (HEAD + "    freeform_tags: {x: " + "9" * 5000 + "}\n", "is not a usable number"),
        (
            'version: 1\nrules:\n  - name: "\\e[31mred"\n    display_name: x\n',
            "name: contains the control character U+001B",
        ),
        (
            HEAD + "    match: {display_name: {regex: '(a)\\1'}}\n    display_name: x\n",
            "match.display_name.regex",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "display_name": NaN}]}',
            "NaN is not a JSON number",
        ),
    ],
    ids=["billion-laughs", "huge-int", "esc-name", "backreference", "json-nan"],
)
def test_lint_exits_1_with_the_error_and_no_traceback(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "lint", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert fragment in proc.stderr and proc.stderr.startswith(f"{path}: ")
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr


def test_lint_accepts_a_yaml_date_as_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + "    freeform_tags: {x: 2026-13-01}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "lint", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, f"{path}: OK, 1 rule(s), mode all")


# ---- Request bodies ----

EVENT_TYPE = "com.oraclecloud.blockvolumes.createvolumegroupbackup.end"
BACKUP = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"volumeGroupBackupId": "x", "dryRun": ' + b"1" * 5000 + b"}",
            "request body: an integer of 5000 digits",
        ),
        (b'{"volumeGroupBackupId": NaN}', "request body: NaN is not a JSON number"),
        (b'{"dryRun": Infinity}', "request body: Infinity is not a JSON number"),
        (b'{"dryRun": 1e999}', "request body: the number 1e999 is too large"),
        (b"[" * 100_000 + b"]" * 100_000, "request body is nested too deeply"),
        (b'{"a": "\xff\xfe"}', "request body is not UTF-8 (bad byte at offset 7)"),
        (b'{"eventType": ["x"]}', "eventType: Input should be a valid string"),
        (
            b'{"eventType": "' + EVENT_TYPE.encode() + b'", "data": [1]}',
            "data: Input should be a valid dictionary",
        ),
        (
            b'{"eventType": "' + EVENT_TYPE.encode() + b'", "data": {"resourceId": 7}}',
            "event data: resourceId: Input should be a valid string",
        ),
        (b'{"volumeGroupBackupId": {"a": 1}}', "volumeGroupBackupId: Input should be a valid string"),
        (
            b'{"sweep": {"compartmentId": "ocid1.compartment.oc1..aaaa", "since": 1e300}}',
            "sweep.since: ",
        ),
        (b'{"sweep": []}', "sweep: Input should be a valid dictionary"),
        (b'{"' + b"k" * 100_000 + b'": 1}', "top-level keys: '" + "k" * 100),
        (
            b'{"volumeGroupBackupId": "' + b"a" * 5000 + b'"}',
            "volumeGroupBackupId: '" + "a" * 80 + "'… (5000 characters) is not an OCID",
        ),
    ],
    ids=[
        "5000-digits",
        "nan",
        "infinity",
        "overflow",
        "deep",
        "not-utf8",
        "event-type-list",
        "data-list",
        "resource-id-int",
        "backup-id-map",
        "since-huge",
        "sweep-list",
        "huge-key",
        "huge-id",
    ],
)
def test_bad_body_is_rejected_saying_why(body: bytes, expected: str) -> None:
    result = _parse(body)  # the parser itself, without parse_request's last-resort net
    assert isinstance(result, Rejected)
    assert expected in result.error
    assert len(result.error) < 600


def test_unhandled_event_type_with_a_huge_name_is_ignored_and_clipped() -> None:
    result = _parse(json.dumps({"eventType": "x" * 100_000, "data": {}}).encode())
    assert isinstance(result, Ignored)
    assert result.reason == f"event type '{'x' * 100}'… (100000 characters) is not handled"


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6000), max_value=10**6000)
    | st.floats()  # NaN and infinities too: json.dumps writes them as NaN/Infinity
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=30,
)
fields = st.sampled_from(
    [
        "eventType",
        "data",
        "resourceId",
        "volumeGroupBackupId",
        "dryRun",
        "sweep",
        "compartmentId",
        "since",
        "page",
        "recursive",
        "specversion",
        "type",
        "additionalDetails",
        "operationFailed",
        "status",
    ]
)
shaped = st.recursive(
    json_leaves | st.just(EVENT_TYPE) | st.just(BACKUP),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(fields, children, max_size=6),
    max_leaves=25,
)


def _dumps(value: object) -> bytes:
    try:
        return json.dumps(value).encode()
    except ValueError:  # an integer past Python's 4,300-digit str() limit: write it by hand
        return b"1" * 5000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values.map(_dumps), shaped.map(_dumps), st.binary(max_size=300)))
def test_parse_request_handles_any_json_or_bytes_without_the_safety_net(body: bytes) -> None:
    result = _parse(body)  # must not raise: parse_request's net is for bugs, not for these
    assert isinstance(result, BackupRequest | SweepRequest | Ignored | Rejected)
    text = (
        result.error
        if isinstance(result, Rejected)
        else result.reason
        if isinstance(result, Ignored)
        else "ok"
    )
    assert text.strip() and len(text) < 2000
    assert parse_request(body) == result


# ---- Through the real FDK: 200 `rejected`, never 502 ----


def function_env(emulator: EmulatorServer, key: ApiKey, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "info", **emulator.client_env(key), **extra}


def test_function_rejects_a_5000_digit_body_with_200(emulator: EmulatorServer, api_key: ApiKey) -> None:
    with FdkProcess(function_env(emulator, api_key)) as proc:
        reply = proc.call(b'{"volumeGroupBackupId": "x", "dryRun": ' + b"1" * 5000 + b"}")
    assert reply.status == 200
    assert reply.json() == {
        "status": "rejected",
        "volumeGroupBackupId": None,
        "backupId": None,
        "kind": None,
        "changes": {},
        "opcRequestId": None,
        "error": "request body: an integer of 5000 digits (the limit is 100)",
    }
    assert emulator.backend.log.requests() == []


def test_function_rejects_every_call_under_an_alias_bomb_policy_with_200(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    event = (ROOT / "tests" / "data" / "events" / "createvolumegroupbackup-end.json").read_bytes()
    with FdkProcess(function_env(emulator, api_key, TAG_POLICY=BILLION_LAUGHS)) as proc:
        replies = [proc.call(event) for _ in range(2)]
    for reply in replies:
        assert reply.status == 200
        answer = reply.json()
        assert answer["status"] == "rejected"
        assert (
            "invalid YAML at line 1: anchors (&) and aliases (*) are not allowed in a policy"
            in answer["error"]
        )
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_a_policy_holds_at_most_1000_regexes() -> None:
    conditions = "".join(f"        k{i}: {{regex: '^a{i}'}}\n" for i in range(200))
    rules = "".join(
        f"  - name: r{n}\n    display_name: x\n    match:\n      freeform_tags:\n{conditions}"
        for n in range(6)
    )
    assert errors_of("version: 1\nrules:\n" + rules) == [
        "rule 'r5' (rules[5]): match.freeform_tags.k0.regex: a policy may hold at most 1000 regex conditions"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    display_name: x\n    match: {type: [" + ", ".join(f"v{i}" for i in range(1001)) + "]}\n",
            f"{LABEL}: match.type: 1001 values; a list holds at most 1000 (use a regex)",
        ),
        (
            "    display_name: x\n    match: {freeform_tags: {"
            + ", ".join(f"k{i}: v" for i in range(201))
            + "}}\n",
            f"{LABEL}: match.freeform_tags: 201 tag conditions; the limit is 200",
        ),
        (
            "    display_name: x\n    freeform_tags: {" + ", ".join(f"k{i}: v" for i in range(11)) + "}\n",
            f"{LABEL}: freeform_tags: 11 tags; a backup carries at most 10",
        ),
        (
            "    display_name: x\n" + "".join(f"    unknown{i}: 1\n" for i in range(50_000)),
            f"{LABEL}: 50000 unknown keys (unknown0, unknown1, unknown2, unknown3, unknown4, ...); known: name,"
            " match, display_name, freeform_tags, defined_tags, copy_tags_from_volume_group, overwrite, members",
        ),
    ],
    ids=["long-list", "many-tag-conditions", "many-tags", "many-unknown-keys"],
)
def test_sizes_no_backup_could_need_are_refused_at_once(body: str, expected: str) -> None:
    assert errors_of(rule_with(body)) == [expected]


def test_at_most_50_errors_are_listed() -> None:
    rules = "".join(f"  - name: r{i}\n    display_name: '${{backup.nope}}'\n" for i in range(80))
    errors = errors_of("version: 1\nrules:\n" + rules)
    assert len(errors) == 51 and errors[-1] == "... and 30 more error(s)"


def test_the_regexes_of_a_policy_add_up_to_at_most_50000_instructions() -> None:
    rules = "".join(
        f"  - name: r{i}\n    display_name: x\n    match: {{display_name: {{regex: '[^a]{{240}}{i}'}}}}\n"
        for i in range(30)
    )
    errors = errors_of("version: 1\nrules:\n" + rules)
    assert errors[0].endswith(
        "match.display_name.regex: the policy's regexes add up to more than 50000 RE2 instructions"
    )
    assert errors[0].startswith("rule 'r25' (rules[25]): ")


# ---- Values from OCI are printed with control characters escaped ----


def test_plan_prints_a_hostile_backup_name_escaped(tmp_path: Path) -> None:
    backup = {
        "id": BACKUP,
        "displayName": "evil\x1b]0;owned\x07\x1b[2J\u0085",
        "type": "FULL",
        "sourceType": "MANUAL",
        "lifecycleState": "AVAILABLE",
        "freeformTags": {"k": "v\x9b31m"},
    }
    (tmp_path / "b.json").write_text(json.dumps(backup))
    (tmp_path / "p.yaml").write_text(HEAD + "    display_name: clean\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sync",
            "plan",
            "--policy",
            str(tmp_path / "p.yaml"),
            "--backup-json",
            str(tmp_path / "b.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 0x20 and c != "\n") for c in proc.stdout)
    assert "evil\\x1b]0;owned\\x07\\x1b[2J\\x85" in proc.stdout


# ---- A hostile policy's failure is cached like a success: parsed once, not on every call ----


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        HEAD + "    freeform_tags: {x: " + "9" * 5000 + "}\n",
        '{"version": 1, "rules": [' + "9" * 5000 + "]}",
    ],
    ids=["alias-bomb", "yaml-huge-int", "json-huge-int"],
)
def test_inline_and_file_policy_failures_are_parsed_once(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    for source in (InlineSource(text), FileSource(str(path))):
        for _ in range(3):
            with pytest.raises(PolicyError):
                source.load()
        assert source.parses == 1


# ---- The command line: the resume hint keeps what shapes the sweep; bad numbers are usage errors ----


def _sweep(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["sweep", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def test_stopped_dry_run_resumed_from_its_printed_hint_sends_no_put(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    emulator: EmulatorServer = request.getfixturevalue("server")
    policy = tmp_path / "my policy.yaml"  # a space: the hint must quote it
    policy.write_text(POLICY_TEXT)
    code, out, _ = _sweep(
        "--compartment", COMP, "--dry-run", "--no-available-only", "--concurrency", "3",
        "--since", "2000-01-01", "--policy", str(policy), "--timeout", "0", "--no-progress",
    )  # fmt: skip
    assert code == 3 and "Stopped before the end. Resume with:" in out
    hint = out.rsplit("Resume with:\n", 1)[1].strip().splitlines()[0]
    argv = ["python", "-m", "sync", *shlex.split(hint)[1:]]
    assert shlex.split(hint)[:2] == [
        "backup-tag-sync",
        "sweep",
    ]  # main() called from Python: the product's name
    assert argv[4:16] == [
        "--compartment", COMP, "--since", "2000-01-01T00:00:00+00:00", "--dry-run", "--no-available-only",
        "--concurrency", "3", "--policy", str(policy), "--resume", argv[15],
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, *argv[1:], "--no-progress"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Sweep done: 100 backups in 1 compartment,") and "(dry run)" in proc.stdout
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0
    assert emulator.backend.log.count("ListVolumeGroupBackups") >= 1


def test_resume_hint_keeps_recursive_and_fixes_a_relative_since() -> None:
    args = build_parser().parse_args(["sweep", "--compartment", COMP, "--recursive", "--since", "7d"])
    since = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    assert resume_command(args, COMP, since) == (
        f"backup-tag-sync sweep --compartment {COMP} --recursive --since 2026-11-20T04:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--since", "999999999d"],
            "error: --since '999999999d': too far back; give a time after 0001-01-01",
        ),
        (["--since", "9" * 5000 + "d"], "error: --since '" + "9" * 60 + "'… (5001 characters): too far back"),
        (
            ["--since", "0001-01-01T00:00:00+01:00"],
            "error: --since '0001-01-01T00:00:00+01:00': out of range once in UTC",
        ),
        (
            ["--timeout", "inf"],
            "argument --timeout: 'inf': give a number of seconds from 0 to 2592000 (30 days)",
        ),
        (
            ["--timeout", "nan"],
            "argument --timeout: 'nan': give a number of seconds from 0 to 2592000 (30 days)",
        ),
        (
            ["--timeout", "-1"],
            "argument --timeout: '-1': give a number of seconds from 0 to 2592000 (30 days)",
        ),
        (
            ["--timeout", "1e308"],
            "argument --timeout: '1e308': give a number of seconds from 0 to 2592000 (30 days)",
        ),
        (["--concurrency", "100000"], "error: --concurrency must be from 1 to 64"),
    ],
    ids=[
        "since-days",
        "since-digits",
        "since-year-0",
        "timeout-inf",
        "timeout-nan",
        "timeout-negative",
        "timeout-huge",
        "concurrency",
    ],
)
def test_out_of_range_sweep_options_are_usage_errors(argv: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "sweep", "--compartment", COMP, *argv, "--no-progress"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "OCI_CONFIG_FILE": "/nonexistent"},
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_policy_holds_at_most_10000_conditions() -> None:
    conditions = "".join(f"        k{i}: {{exists: true}}\n" for i in range(200))
    rules = "".join(
        f"  - name: r{n}\n    display_name: x\n    match:\n      freeform_tags:\n{conditions}"
        for n in range(51)
    )
    assert errors_of("version: 1\nrules:\n" + rules) == [
        "rule 'r50' (rules[50]): match.freeform_tags.k0: a policy may hold at most 10000 conditions"
    ]


# ---- Slow-to-refuse regexes are refused before RE2 compiles them; loading obeys a deadline ----

SLOW_TO_REFUSE = "[\\p{L}\\p{N}]{1000}"


def slow_policy(rules: int) -> str:
    return "version: 1\nrules:\n" + "".join(
        f"  - name: r{i}\n    display_name: x\n    match: {{display_name: {{regex: '{SLOW_TO_REFUSE}'}}}}\n"
        for i in range(rules)
    )


def test_a_pattern_estimated_too_large_is_refused_without_compiling() -> None:
    from sync.policy.regex import MAX_COMPILE_WORK, RegexBudget, RegexError

    budget = RegexBudget()
    with pytest.raises(RegexError, match=r"pattern is too large: about 1429000 RE2 instructions"):
        budget.compile_search(SLOW_TO_REFUSE)
    assert budget.work_left == MAX_COMPILE_WORK  # RE2 never saw it
    budget.compile_search("^prod-[a-z]+$")
    assert budget.work_left < MAX_COMPILE_WORK  # a compiled one is charged


def test_500_slow_to_refuse_rules_are_each_refused_naming_rule_and_field() -> None:
    errors = errors_of(slow_policy(500))
    assert errors[0] == (
        "rule 'r0' (rules[0]): match.display_name.regex: pattern is too large: about 1429000 RE2"
        " instructions, the limit is 2000 (use smaller {n} counts on wide classes such as . or \\p{L})"
    )
    assert errors[49].startswith("rule 'r49' (rules[49]): match.display_name.regex: pattern is too large")
    assert errors[50] == "... and 450 more error(s)"


def test_patterns_refused_after_compiling_use_up_a_compile_budget_then_are_not_compiled() -> None:
    # \p{L}{2} is estimated under the pre-check's bar, so RE2 compiles it and refuses its size;
    # each such refusal is charged, and once the budget is spent the rest are not compiled.
    rules = "".join(
        f"  - name: r{i}\n    display_name: x\n    match: {{display_name: {{regex: '\\p{{L}}{{2}}{i}'}}}}\n"
        for i in range(60)
    )
    errors = errors_of("version: 1\nrules:\n" + rules)
    sized = [e for e in errors if "pattern is too large: 239" in e]
    spent = [e for e in errors if "used up the policy's compile budget" in e]
    assert 30 <= len(sized) <= 45 and spent and len(sized) + len(spent) == 50
    assert errors[-1].startswith("... and 10 more")


def test_a_pattern_longer_than_4096_characters_is_refused() -> None:
    (line,) = errors_of(
        rule_with(f"    match: {{display_name: {{regex: '{'a' * 4097}'}}}}\n    display_name: x\n")
    )
    assert line == f"{LABEL}: match.display_name.regex: pattern is 4097 characters; the limit is 4096"


class Countdown:
    """A deadline clock that has `calls` answers of time left, then none (no wall clock)."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.asked = 0

    def __call__(self) -> float:
        self.asked += 1
        return 1.0 if self.asked <= self.calls else 0.0


def test_loading_stops_at_the_callers_deadline_between_rules() -> None:
    from sync.policy.errors import PolicyTimeout

    text = "version: 1\nrules:\n" + "".join(f"  - {{name: r{i}, display_name: x}}\n" for i in range(20))
    with pytest.raises(PolicyTimeout) as exc:
        load_policy(text, "TAG_POLICY", time_left=Countdown(5))
    assert exc.value.errors == [
        "loading stopped: the time allowed for it ran out before every rule was checked"
    ]
    assert isinstance(exc.value, PolicyError)  # callers that catch PolicyError still answer rejected
    clock = Countdown(10_000)
    assert len(load_policy(text, time_left=clock).rules) == 20
    assert clock.asked >= 20  # asked between rules


def test_loading_stops_at_the_callers_deadline_before_a_regex() -> None:
    from sync.policy.errors import PolicyTimeout

    text = rule_with(
        "    display_name: x\n    match:\n      freeform_tags:\n"
        + "".join(f"        k{i}: {{regex: '^v{i}'}}\n" for i in range(50))
    )
    # 2 answers: one after parsing, one before the rule; then the first regex finds none left.
    with pytest.raises(PolicyTimeout):
        load_policy(text, time_left=Countdown(2))


# ---- Values OCI would refuse are refused at load ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"k": "a\\ud800b"}}]}',
            "invalid JSON: a lone UTF-16 surrogate (\\uD800-\\uDFFF) in a text at rules[0].freeform_tags.k",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "display_name": "\\udfff"}]}',
            "invalid JSON: a lone UTF-16 surrogate (\\uD800-\\uDFFF) in a text at rules[0].display_name",
        ),
        (
            '{"version": 1, "rules": [{"name": "r", "freeform_tags": {"\\udc80": "x"}}]}',
            "invalid JSON: a lone UTF-16 surrogate (\\uD800-\\uDFFF) in a text at rules[0].freeform_tags",
        ),
        (
            "version: 1.0\nrules: [{name: r, display_name: x}]\n",
            "policy: version: Input should be 1 (the whole number, not 1.0)",
        ),
        (
            "version: true\nrules: [{name: r, display_name: x}]\n",
            "policy: version: Input should be 1 (the whole number, not True)",
        ),
        (
            "version: 1\nlimits: {freeform_tags_max: 64}\nrules: [{name: r, display_name: x}]\n",
            "policy: limits.freeform_tags_max: Input should be less than or equal to 10",
        ),
        (
            "version: 1\nlimits: {defined_tags_max: 65}\nrules: [{name: r, display_name: x}]\n",
            "policy: limits.defined_tags_max: Input should be less than or equal to 64",
        ),
        (
            "version: 1\nlimits: {total_tags_bytes_max: 5121}\nrules: [{name: r, display_name: x}]\n",
            "policy: limits.total_tags_bytes_max: Input should be less than or equal to 5120",
        ),
        (
            rule_with("    freeform_tags: {" + ", ".join(f"k{i}: {'é' * 256}" for i in range(10)) + "}\n"),
            f"{LABEL}: freeform_tags/defined_tags: the fixed values alone take 5206 bytes as UTF-8 JSON;"
            " a backup's tags hold at most 5120",
        ),
    ],
    ids=[
        "json-lone-high",
        "json-lone-low",
        "json-surrogate-key",
        "version-1.0",
        "version-true",
        "limit-freeform",
        "limit-defined",
        "limit-bytes",
        "fixed-values-utf8",
    ],
)
def test_what_oci_would_refuse_is_refused_at_load(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_a_surrogate_pair_in_json_is_one_character_and_loads() -> None:
    policy = load_policy('{"version": 1, "rules": [{"name": "r", "display_name": "a\\ud83d\\ude00"}]}')
    assert policy.rules[0].display_name is not None and policy.rules[0].display_name.source == "a\U0001f600"


def test_lint_of_a_fifo_answers_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    out, err = io.StringIO(), io.StringIO()
    # An unreadable policy file is a usage error (exit 2, README's exit codes); a blocking open would never return.
    assert cli_main(["lint", str(fifo)], out, err) == 2
    assert err.getvalue() == f"error: cannot read policy file {fifo}: not a file\n"
