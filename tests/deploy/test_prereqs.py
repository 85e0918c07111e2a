"""deploy.sh's checks before any change: tools, login, compartments, subnet, Fn context, the
live policy check, and the real CLI's own refusals surfacing in full."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from sync.emulator import ApiKey, EmulatorServer
from tests.deploy.conftest import BASE_ARGS, COMPARTMENT, SUBNET, TARGET_B, TENANCY, Env

NO_CHECK = tuple(a for a in BASE_ARGS if a != "--skip-policy-check")


def stopped_before_any_change(fake: Env, r, *needles: str) -> None:
    assert r.returncode != 0
    assert fake.writes() == [] and not any(c.mutating for c in fake.calls())
    for n in needles:
        assert n in r.stderr, r.stderr


def test_no_oci_on_path(fake: Env) -> None:
    fake.remove_tool("oci")
    r = fake.run("deploy.sh", *BASE_ARGS)
    stopped_before_any_change(fake, r, "'oci') is not on PATH", "pip install oci-cli")


def test_no_fn_on_path(fake: Env) -> None:
    fake.remove_tool("fn")
    r = fake.run("deploy.sh", *BASE_ARGS)
    stopped_before_any_change(fake, r, "'fn') is not on PATH")


def test_no_config_file_is_found_before_the_cli_could_prompt(fake: Env) -> None:
    cfg = Path(fake.env["HOME"]) / ".oci" / "config"
    cfg.unlink()
    r = fake.run("deploy.sh", *BASE_ARGS)
    stopped_before_any_change(fake, r, f"no OCI CLI config file at {cfg}", "oci setup config")
    # the CLI would ask "Do you want to create a new config file? [Y/n]": it is never started
    assert "[Y/n]" not in r.stderr + r.stdout
    assert [c for c in fake.calls() if c.tool == "oci"] == []


def test_broken_config_shows_the_real_cli_error_and_no_prompt(fake: Env) -> None:
    (Path(fake.env["HOME"]) / ".oci" / "config").write_text("[DEFAULT]\nuser=nobody\n")
    r = fake.run("deploy.sh", *BASE_ARGS)
    stopped_before_any_change(fake, r, "oci setup config", "oci session authenticate")
    assert "oci: " in r.stderr  # the CLI's own words, prefixed
    assert "[Y/n]" not in r.stderr + r.stdout


def test_compartment_not_found(fake: Env) -> None:
    r = fake.run(
        "deploy.sh",
        "--compartment",
        "ocid1.compartment.oc1..nope",
        "--subnet",
        SUBNET,
        "--yes",
        "--skip-policy-check",
    )
    stopped_before_any_change(fake, r, "ocid1.compartment.oc1..nope was not found", "NotAuthorizedOrNotFound")


def test_target_compartment_not_found(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--target-compartment", "ocid1.compartment.oc1..gone")
    stopped_before_any_change(fake, r, "ocid1.compartment.oc1..gone was not found")


def test_subnet_missing(fake: Env) -> None:
    r = fake.run(
        "deploy.sh",
        "--compartment",
        COMPARTMENT,
        "--subnet",
        "ocid1.subnet.oc1..gone",
        "--yes",
        "--skip-policy-check",
    )
    stopped_before_any_change(fake, r, "subnet ocid1.subnet.oc1..gone was not found")


def test_fn_context_in_other_compartment(fake: Env) -> None:
    ctx = json.loads(fake.fn_context_path.read_text())
    fake.set_fn_context({**ctx, "oracle.compartment-id": TARGET_B})
    r = fake.run("deploy.sh", *BASE_ARGS)
    stopped_before_any_change(fake, r, f"fn update context oracle.compartment-id {COMPARTMENT}")


def test_skip_build_without_function_checks_build_prereqs_first(fake: Env) -> None:
    fake.set_fn_context(None)
    r = fake.run("deploy.sh", *BASE_ARGS, "--skip-build")
    stopped_before_any_change(fake, r, "fn create context")


def test_missing_bucket_for_oci_policy_uri(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--policy-uri", "oci://nobucket@acmens/p.yaml")
    stopped_before_any_change(fake, r, "bucket 'nobucket'")


def test_tenancy_from_oci_config(fake: Env) -> None:
    fake.env = {k: v for k, v in fake.env.items() if k != "OCI_TENANCY"}
    r = fake.run("deploy.sh", *BASE_ARGS, "--no-reconcile")
    assert r.returncode == 0, r.stderr
    assert fake.the("dynamicGroups")["compartmentId"] == TENANCY


def test_needs_yes_without_a_terminal(fake: Env) -> None:
    r = fake.run("deploy.sh", *[a for a in BASE_ARGS if a != "--yes"])
    stopped_before_any_change(fake, r, "--yes")


def test_help(fake: Env) -> None:
    r = fake.run("deploy.sh", "--help")
    assert r.returncode == 0
    for opt in (
        "--regions",
        "--notify-email",
        "--reconcile-schedule",
        "--no-reconcile",
        "--skip-policy-check",
        "--metrics-compartment",
        "--no-metrics",
    ):
        assert opt in r.stdout
    assert fake.calls() == []


# ---- the live policy check ------------------------------------------------------------------


def fake_python(tmp: Path, rc: int) -> Path:
    """A stand-in for the project's interpreter: records its arguments, exits with rc."""
    p = tmp / "fake-python"
    p.write_text(
        f'#!/bin/sh\necho "$@" > "{tmp}/lint-args"\necho "policy: namespace Operations: key CostCentre does not exist (rule name-backups)" >&2\nexit {rc}\n'
    )
    p.chmod(0o755)
    return p


def test_failing_policy_check_stops_before_any_change(fake: Env) -> None:
    py = fake_python(fake.tmp, 1)
    r = fake.run("deploy.sh", *NO_CHECK, BTS_PYTHON=str(py))
    stopped_before_any_change(
        fake, r, "the live policy check failed", "key CostCentre does not exist", "--skip-policy-check"
    )
    assert (fake.tmp / "lint-args").read_text().split() == [
        "-m",
        "sync",
        "lint",
        str(fake.proj / "tag_policy.yaml"),
        "--live",
    ]


def test_passing_policy_check_checks_the_policy_file_deployed(fake: Env, tmp_path: Path) -> None:
    py = fake_python(fake.tmp, 0)
    pol = tmp_path / "mine.yaml"
    pol.write_text("version: 1\nrules: []\n")
    r = fake.run("deploy.sh", *NO_CHECK, "--no-reconcile", "--policy-file", str(pol), BTS_PYTHON=str(py))
    assert r.returncode == 0, r.stderr
    assert (fake.tmp / "lint-args").read_text().split() == ["-m", "sync", "lint", str(pol), "--live"]
    assert fake.the("functions")["config"]["TAG_POLICY"] == "version: 1\nrules: []"


def test_policy_check_without_the_project_interpreter_stops(fake: Env) -> None:
    # the copied project has no .venv and no sync package: python3 -m sync fails, deploy stops
    env = {"PATH": os.pathsep.join(p for p in fake.env["PATH"].split(os.pathsep) if ".venv" not in p)}
    r = fake.run("deploy.sh", *NO_CHECK, **env)
    stopped_before_any_change(fake, r, "the live policy check failed")


def test_policy_check_skipped_for_remote_policy_says_so(fake: Env) -> None:
    py = fake_python(fake.tmp, 1)
    r = fake.run(
        "deploy.sh",
        *NO_CHECK,
        "--no-reconcile",
        "--dry-run",
        "--policy-uri",
        "oci://tag-policies@acmens/p.yaml",
        BTS_PYTHON=str(py),
    )
    assert r.returncode == 0, r.stderr
    assert "the live policy check reads local files" in r.stderr
    args = fake.tmp / "lint-args"  # the stand-in was only probed (as a policy reader), never run as lint
    assert not args.exists() or "lint" not in args.read_text().split()


LINT_GOOD = """
version: 1
rules:
  - name: costs
    defined_tags:
      Operations: {CostCenter: cc-1}
"""
LINT_BAD = LINT_GOOD.replace("name: costs", "name: typo").replace("CostCenter", "CostCentre")


def test_live_policy_check_is_the_real_lint_against_the_emulator(
    fake: Env, emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path
) -> None:
    env = {
        **emulator.client_env(api_key),
        "OCI_IDENTITY_ENDPOINT": emulator.url,
        "BTS_PYTHON": sys.executable,
    }
    # a policy that fits the emulator's tag schema: the deploy goes on
    good = tmp_path / "good.yaml"
    good.write_text(LINT_GOOD)
    r = fake.run("deploy.sh", *NO_CHECK, "--no-reconcile", "--dry-run", "--policy-file", str(good), **env)
    assert r.returncode == 0, r.stderr
    assert (
        "Operations  CostCenter" in r.stderr
        or "CostCenter" in r.stderr.split("against the tenancy's tag schema")[1]
    )
    assert "Identity call(s)" in r.stderr
    # a key the tenancy does not have stops it before any change
    bad = tmp_path / "bad.yaml"
    bad.write_text(LINT_BAD)
    r = fake.run("deploy.sh", *NO_CHECK, "--policy-file", str(bad), **env)
    stopped_before_any_change(
        fake, r, "rule 'typo'", "'CostCentre' not found", "the live policy check failed"
    )
