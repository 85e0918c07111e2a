"""Property tests: no body or policy document makes the parsers raise; rejections say what was wrong."""

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.policy.loader import PolicyError, load_policy
from sync.requests.bodies import BackupRequest, Ignored, Rejected, SweepRequest, parse_request

# `make bench` raises this to 5,000+; `make test` keeps it quick.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
known_keys = st.sampled_from(
    [
        "eventType",
        "specversion",
        "type",
        "data",
        "volumeGroupBackupId",
        "dryRun",
        "sweep",
        "resourceId",
        "compartmentId",
        "since",
        "cloudEventsVersion",
        "additionalDetails",
    ]
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(known_keys, json_values, max_size=5).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_parse_request_never_raises(body: bytes) -> None:
    result = parse_request(body)
    assert isinstance(result, BackupRequest | SweepRequest | Ignored | Rejected)
    if isinstance(result, Rejected):
        assert result.error.strip()
    if isinstance(result, Ignored):
        assert result.reason.strip()


policy_keys = st.sampled_from(
    [
        "version",
        "mode",
        "rules",
        "name",
        "match",
        "display_name",
        "freeform_tags",
        "defined_tags",
        "copy_tags_from_volume_group",
        "overwrite",
        "limits",
        "regex",
        "exists",
        "source_type",
    ]
)
templ = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["${backup.type}", "${backup.__class__}", "${x|y:z}", "{0}", "${backup.type|date:%Q}"]),
)
policy_values = st.recursive(
    st.none() | st.booleans() | st.integers() | templ,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(policy_keys | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
policies = st.one_of(
    st.binary(max_size=300),
    policy_values.map(lambda v: json.dumps(v)),
    st.fixed_dictionaries(
        {
            "version": st.sampled_from([1, 2, "1"]),
            "rules": st.lists(st.dictionaries(policy_keys, policy_values, max_size=5), max_size=3),
        }
    ).map(lambda v: json.dumps(v)),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies)
def test_load_policy_raises_only_policy_error_naming_the_problem(text: str | bytes) -> None:
    try:
        load_policy(text, "fuzz")
    except PolicyError as exc:
        assert exc.errors
        assert all(isinstance(e, str) and len(e) > 10 for e in exc.errors)
