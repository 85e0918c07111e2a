"""Templates: names, filters, missing values and injection attempts."""

from datetime import UTC, datetime

import pytest

from sync.policy.templates import TemplateError, parse_template

CTX = {
    "backup": {
        "display_name": "Auto-backup for x",
        "type": "INCREMENTAL",
        "source_type": "SCHEDULED",
        "time_created": "2026-11-27T04:05:06.000Z",
        "size_in_gbs": 150,
        "volume_backup_ids": ["a", "b"],
        "freeform_tags": {"env": "Prod"},
        "defined_tags": {"Operations": {"CostCenter": "cc-1"}},
        "lifecycle_state": "",
    },
    "volume_group": {"display_name": "Prod DB / Group #1", "time_created": datetime(2025, 3, 1, tzinfo=UTC)},
    "event": {"event_type": "com.oraclecloud.blockvolumes.createvolumegroupbackup.end"},
}


def render(src: str, ctx: dict = CTX) -> str | None:
    return parse_template(src).render(ctx).text


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("plain text", "plain text"),
        ("${backup.type}", "INCREMENTAL"),
        ("${backup.type|lower}", "incremental"),
        ("${backup.source_type|lower|upper}", "SCHEDULED"),
        ("${backup.time_created|date:%Y%m%d-%H%M}", "20261127-0405"),
        ("${volume_group.time_created|date:%Y}", "2025"),
        ("${volume_group.display_name|slug}", "prod-db-group-1"),
        ("${backup.display_name|truncate:4}", "Auto"),
        ("${backup.size_in_gbs}GB", "150GB"),
        ("${backup.volume_backup_ids}", "a,b"),
        ("${backup.freeform_tags.env|lower}", "prod"),
        ("${backup.defined_tags.Operations.CostCenter}", "cc-1"),
        ("${backup.freeform_tags.missing|default:none}", "none"),
        ("${backup.freeform_tags.missing|default:Un Set|lower}", "un set"),
        ("${backup.freeform_tags.missing|lower|default:x}", "x"),
        ("${backup.lifecycle_state|default:empty-is-missing}", "empty-is-missing"),
        ("${ backup.type | lower }", "incremental"),
        ("cost $5 ${backup.type}", "cost $5 INCREMENTAL"),
        ("${event.event_type|truncate:10}", "com.oracle"),
    ],
)
def test_renders(src: str, expected: str) -> None:
    assert render(src) == expected


def test_missing_value_without_default_skips_and_names_the_placeholder() -> None:
    result = parse_template("x-${volume_group.display_name}").render({"backup": {}, "volume_group": None})
    assert result.text is None
    assert result.missing == "volume_group.display_name"


def test_missing_is_never_the_string_none() -> None:
    result = parse_template("${backup.expiration_time|lower}").render({"backup": {"expiration_time": None}})
    assert result.text is None


def test_date_filter_on_non_date_is_missing_with_warning() -> None:
    result = parse_template("${backup.type|date:%Y}").render(CTX)
    assert result.text is None
    assert any("not a date" in w for w in result.warnings)


def test_slug_of_symbols_only_is_missing() -> None:
    assert (
        parse_template("${backup.display_name|slug}").render({"backup": {"display_name": "///"}}).text is None
    )


def test_needs_reports_roots() -> None:
    t = parse_template("${volume_group.display_name}-${backup.type}")
    assert t.needs("volume_group") and t.needs("backup") and not t.needs("event")


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("${backup.__dict__}", "not a field"),
        ("${backup.__class__.__mro__}", "not a field"),
        ("${backup.display_name.__class__}", "not a field"),
        ("${backup.display_name.x}", "no sub-fields"),
        ("{0.__class__}", "braces"),
        ("{backup.display_name}", "braces"),
        ("${backup.${backup.type}}", "braces"),
        ("${${backup.type}}", "braces"),
        ("${os.environ}", "names start with"),
        ("${__import__('os')}", "names start with"),
        ("${backup}", "say which field"),
        ("${backup.nope}", "has no field 'nope'"),
        ("${backup.freeform_tags}", "freeform_tags.<key>"),
        ("${backup.defined_tags.Operations}", "<namespace>.<key>"),
        ("${backup.type|exec}", "unknown filter 'exec'"),
        ("${backup.type|lower:x}", "takes no argument"),
        ("${backup.type|truncate:abc}", "whole number"),
        ("${backup.type|truncate:0}", "whole number"),
        ("${backup.type|date}", "needs a format"),
        ("${backup.type|date:YYYY}", "no % directive"),
        ("${backup.type|default}", "needs a text"),
        ("${}", "empty placeholder"),
        ("${backup.type", "braces"),
        ("a}b", "braces"),
        ("line\nbreak", "control character"),
        ("${backup.freeform_tags.a b}", "not a field"),
        ("x" * 1025, "limit is 1024"),
        ("%(backup)s {backup!r}", "braces"),
    ],
)
def test_rejected_at_load(src: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as exc:
        parse_template(src)
    assert fragment in str(exc.value)


def test_lookup_never_reaches_python_attributes() -> None:
    # A tag *key* that looks like a dunder is refused at load; dict keys are only read with [].
    with pytest.raises(TemplateError):
        parse_template("${backup.freeform_tags.__class__}")
    obj_ctx = {"backup": {"display_name": object()}}
    text = parse_template("${backup.display_name}").render(obj_ctx).text
    assert text is not None and text.startswith("<object object")
