"""Hostile option values for deploy.sh and teardown.sh: every name and OCID is checked against
OCI's rules before any command runs (exit 2 with the rule), so nothing can reach a policy
statement, a matching rule or a command line but what the rules allow."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import BASE_ARGS, COMPARTMENT, SUBNET, Env

INJECT = "x\nAllow group Everyone to manage all-resources in tenancy"
NAME_RULE = "a letter, then letters, digits, '-' or '_'"

# (option, value, the message's distinctive part)
CORPUS = [
    ("--name-prefix", INJECT, NAME_RULE),
    ("--name-prefix", "bts'policy", NAME_RULE),
    ("--name-prefix", "a|b", NAME_RULE),
    ("--name-prefix", "a b", NAME_RULE),
    ("--name-prefix", "a.b", NAME_RULE),
    ("--name-prefix", "-lead", NAME_RULE),
    ("--name-prefix", "1abc", NAME_RULE),
    ("--name-prefix", "a" * 65, NAME_RULE),
    ("--name-prefix", "a\x1b[31mred", NAME_RULE),
    ("--name-prefix", "bts\u2028x", NAME_RULE),
    ("--app", "app;rm -rf /", NAME_RULE),
    ("--app", "app$(id)", NAME_RULE),
    ("--app", "", "needs a value"),
    ("--tag-namespace", "Ops' where 1=1 or 'a", "not a valid tag namespace name"),
    ("--tag-namespace", INJECT, "not a valid tag namespace name"),
    (
        "--target-compartment",
        f"{COMPARTMENT}\nAllow group Everyone to manage all-resources in tenancy",
        "is not an OCID",
    ),
    ("--target-compartment", "ocid1.compartment.oc1..a' or 'x", "is not an OCID"),
    ("--target-compartment", "ocid1.subnet.oc1.iad.fnsubnet", "an OCID of another kind"),
    ("--metrics-compartment", "ocid1.compartment.oc1..m\n", "is not an OCID"),
    ("--tag-namespace-compartment", "../../etc", "is not an OCID"),
    ("--notify-email", "ops@example.com\nBcc: x@y.z", "is not an email address"),
    ("--notify-topic", "ocid1.alarm.oc1.iad.x", "an OCID of another kind"),
    ("--reconcile-schedule", "0 3 * * * rm", "is not a 5-field cron expression"),
    ("--reconcile-schedule", "0 3 * *", "is not a 5-field cron expression"),
    ("--full-reconcile-schedule", "$(id) * * * *", "is not a 5-field cron expression"),
    ("--policy-uri", "oci://b'ucket@ns/o", "is not a valid bucket name"),
    ("--policy-uri", "oci://bucket@NS x/o", "is not a valid Object Storage namespace"),
    ("--policy-uri", "http://x", "file://, oci:// or s3://"),
    ("--region", "us-ashburn-1\n", "is not a region identifier"),
    ("--regions", "us-ashburn-1,../x", "is not a region identifier"),
    ("--log-retention-days", "31", "30, 60, 90, 120, 150 or 180"),
    ("--log-level", "loud", "--log-level must be"),
]


@pytest.mark.parametrize(("opt", "value", "needle"), CORPUS, ids=[f"{o}={v[:20]!r}" for o, v, _ in CORPUS])
def test_deploy_refuses_before_any_call(fake: Env, opt: str, value: str, needle: str) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, opt, value)
    assert (r.returncode, fake.calls()) == (2, []), r.stderr
    assert needle in r.stderr
    # a value is shown quoted on one line: nothing it holds starts a line of its own
    assert not any(line.startswith(("Allow", "Bcc")) for line in r.stderr.splitlines())


@pytest.mark.parametrize(
    ("opt", "value", "needle"),
    [c for c in CORPUS if c[0] in ("--name-prefix", "--app", "--region", "--regions")],
    ids=lambda v: repr(v)[:20],
)
def test_teardown_refuses_the_same_names(fake: Env, opt: str, value: str, needle: str) -> None:
    r = fake.run("teardown.sh", "--compartment", COMPARTMENT, "--yes", opt, value)
    assert (r.returncode, fake.calls()) == (2, []), r.stderr
    assert needle in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "--compartment OCID is required"),
        (("--compartment", COMPARTMENT), "--subnet OCID is required"),
        (("--compartment", "ocid1.compartment.oc1..apps", "--subnet", "subnet-1"), "is not an OCID"),
        ((*BASE_ARGS, "--bogus"), "unknown option"),
        ((*BASE_ARGS, "--policy-uri", "file:///a", "--policy-file", "/etc/hostname"), "not both"),
        ((*BASE_ARGS, "--notify-email", "a@b.co", "--notify-topic", "ocid1.onstopic.oc1.iad.t"), "not both"),
        ((*BASE_ARGS, "--region", "us-ashburn-1", "--regions", "subscribed"), "not both"),
        ((*BASE_ARGS, "--no-metrics", "--metrics-compartment", COMPARTMENT), "not both"),
        (
            (*BASE_ARGS, "--regions", "subscribed", "--notify-topic", "ocid1.onstopic.oc1.iad.t"),
            "with --regions use --notify-email",
        ),
        ((*BASE_ARGS, "--subnet", "ocid1.subnet.oc1.phx.other"), "several --subnet need --regions"),
    ],
)
def test_bad_options_stop_before_any_change(fake: Env, args: tuple[str, ...], needle: str) -> None:
    r = fake.run("deploy.sh", *args)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr
    assert fake.writes() == []


def test_names_deploy_accepts_are_names_teardown_finds(fake: Env) -> None:
    # the longest and oddest name the rule admits goes through deploy and teardown
    prefix = "B_" + "x-" * 31
    fake.run(
        "deploy.sh",
        "--compartment",
        COMPARTMENT,
        "--subnet",
        SUBNET,
        "--yes",
        "--skip-policy-check",
        "--no-reconcile",
        "--name-prefix",
        prefix,
    )
    assert fake.the("policies")["name"] == prefix + "-policy"
    r = fake.run("teardown.sh", "--compartment", COMPARTMENT, "--name-prefix", prefix, "--yes")
    assert r.returncode == 0, r.stderr
    assert fake.live("policies") == [] and fake.live("dynamicGroups") == [] and fake.live("logGroups") == []
