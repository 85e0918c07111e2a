"""`sweep --regions`: several emulated regions (one emulator each), the real SDK over HTTP, through main()."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from sync.cli.main import main
from sync.emulator import ApiKey, Faults, SignatureVerifier
from sync.emulator.multiregion import RegionalEmulators
from sync.sweep.tokens import decode_regions_token, encode_regions_token, token_region
from tests.test_sweep import COMP, OTHER, POLICY_TEXT, SEED, populate, stale_ids

REGIONS = ["us-ashburn-1", "eu-frankfurt-1", "ap-tokyo-1"]
PER_ITEM = ("GetVolumeGroupBackup", "UpdateVolumeGroupBackup")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def regions(
    make_regions: Callable[..., RegionalEmulators], api_key: Any, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., RegionalEmulators]:
    """Start regions (each with 40 backups in COMP, 10 in OTHER) and point the command line at them."""

    def start(names: list[str], faults_for: Any = None, n: int = 40) -> RegionalEmulators:
        group = make_regions(names, SEED, faults_for, creating_seconds=None)
        for server in group.servers.values():
            populate(server.backend, n, groups=4)
            populate(server.backend, 10, OTHER, groups=2)
        for key in ("TAG_POLICY_URI", "LOG_LEVEL", "OCI_CONFIG_PROFILE", "OCI_RESOURCE_PRINCIPAL_VERSION"):
            monkeypatch.delenv(key, raising=False)
        for key, value in group.client_env(api_key).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("TAG_POLICY", POLICY_TEXT)
        return group

    return start


def per_item(group: RegionalEmulators, region: str) -> int:
    return sum(1 for r in group.servers[region].backend.log.requests() if r.operation in PER_ITEM)


def stale_in(group: RegionalEmulators, region: str, compartment: str) -> list[str]:
    return [b for b in stale_ids(group.servers[region].backend) if compartment[-6:] in b]


@pytest.mark.parametrize("processes", ["1", "3"])  # a thread per region; a worker process per region
def test_regions_sweep_updates_every_named_region_and_nothing_else(
    regions: Callable[..., RegionalEmulators], processes: str
) -> None:
    group = regions([*REGIONS, "sa-saopaulo-1"])  # subscribed, but not asked for

    code, out, err = run(
        "sweep", "--compartment", COMP, "--regions", ",".join(REGIONS), "--output", "json",
        "--processes", processes,
    )  # fmt: skip

    assert code == 0, err
    assert "progress: " in err  # one display for every region (not a terminal: plain lines)
    body = json.loads(out)
    assert body["status"] == "swept" and body["resumeToken"] is None
    assert list(body["regions"]) == REGIONS
    for region in REGIONS:
        row = body["regions"][region]
        assert row["status"] == "swept" and row["region"] == region and row["scanned"] == 40
        assert row["counts"] == {"updated": 20, "unchanged": 20}
        assert stale_in(group, region, COMP) == []  # every backup of the compartment is compliant
        assert len(stale_in(group, region, OTHER)) == 5  # the other compartment was not touched
        assert per_item(group, region) == 40  # GET + PUT for each of the 20 stale ones, nothing else
    assert body["total"] == {"counts": {"updated": 60, "unchanged": 60}, "scanned": 120}
    untouched = group.servers["sa-saopaulo-1"].backend
    assert len(stale_ids(untouched)) == 25 and untouched.log.requests() == []


def test_table_has_a_row_per_region_and_a_total(regions: Callable[..., RegionalEmulators]) -> None:
    regions(REGIONS[:2])

    code, out, err = run("sweep", "--compartment", COMP, "--regions", ",".join(REGIONS[:2]), "--dry-run")

    assert code == 0, err
    assert out.startswith("Sweep done: 2 regions, 80 backups")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    assert rows["us-ashburn-1"][:7] == ["us-ashburn-1", "swept", "40", "0", "20", "20", "0"]
    assert rows["eu-frankfurt-1"][:3] == ["eu-frankfurt-1", "swept", "40"]
    assert rows["TOTAL"][:7] == ["TOTAL", "swept", "80", "0", "40", "40", "0"]


def test_failing_regions_are_reported_and_the_others_finish_then_resume_only_those(
    regions: Callable[..., RegionalEmulators], api_key: ApiKey
) -> None:
    ok, denied, storm = REGIONS
    group = regions(
        REGIONS, faults_for=lambda r: Faults(error_rate=1.0, error_mix={503: 1.0}) if r == storm else None
    )
    group.servers[denied].verifier = SignatureVerifier()  # our key is unknown there: 401 on every call

    code, out, err = run(
        "sweep",
        "--compartment",
        COMP,
        "--regions",
        ",".join(REGIONS),
        "--output",
        "json",
        "--call-budget",
        "1.5",
    )

    body = json.loads(out)
    assert code == 1, err  # a region failed for good (401)
    assert body["status"] == "partial"
    done = body["regions"][ok]
    assert done["status"] == "swept" and done["counts"] == {"updated": 20, "unchanged": 20}
    assert stale_in(group, ok, COMP) == []
    refused = body["regions"][denied]
    assert (
        refused["status"] == "failed" and "401" in refused["error"] and "NotAuthenticated" in refused["error"]
    )
    assert refused["failures"][0]["opcRequestId"]
    stormy = body["regions"][storm]
    assert stormy["status"] == "partial" and "503" in stormy["error"] and stormy["resumeToken"]
    assert token_region(stormy["resumeToken"]) == storm
    # The resume token names the unfinished regions only, each with where to start.
    left = decode_regions_token(body["resumeToken"])
    assert left is not None and sorted(left) == sorted([denied, storm])
    assert left[storm] == stormy["resumeToken"] and left[denied] is None

    # The table says the same, with the reasons and the command to resume.
    group.servers[denied].verifier = SignatureVerifier()
    code, table, _ = run(
        "sweep", "--compartment", COMP, "--regions", ",".join(REGIONS), "--call-budget", "1.5"
    )
    assert code == 1 and f"{denied}: " in table and "401" in table and "Resume them with" in table

    # Fixed: resuming sweeps the two unfinished regions only.
    group.servers[storm].faults.update({"error_rate": 0.0})
    group.servers[denied].register_api_key(api_key)
    before = Counter(r.operation for r in group.servers[ok].backend.log.requests())
    code, out, err = run("sweep", "--compartment", COMP, "--resume", body["resumeToken"], "--output", "json")
    again = json.loads(out)
    assert sorted(again["regions"]) == sorted([denied, storm])
    assert Counter(r.operation for r in group.servers[ok].backend.log.requests()) == before
    assert code == 0, err
    assert again["status"] == "swept" and again["resumeToken"] is None
    assert again["regions"][denied]["counts"] == {"updated": 20, "unchanged": 20}
    assert stale_in(group, storm, COMP) == [] and stale_in(group, denied, COMP) == []


def test_subscribed_regions_come_from_identity(regions: Callable[..., RegionalEmulators]) -> None:
    group = regions(REGIONS[:2])
    home = group.servers[group.home].backend
    home.regions.add_region_subscription({"regionName": "me-dubai-1", "status": "IN_PROGRESS"})
    tenancy = SEED["tenancyId"]

    code, out, err = run(
        "sweep", "--compartment", str(tenancy), "--recursive", "--regions", "subscribed", "--output", "json"
    )

    assert code == 0, err
    body = json.loads(out)
    assert sorted(body["regions"]) == sorted(REGIONS[:2])  # READY ones only
    assert all(r["counts"] == {"updated": 25, "unchanged": 25} for r in body["regions"].values())
    assert home.log.count("ListRegionSubscriptions") == 1


def test_region_settings_that_cannot_work_are_one_line(
    regions: Callable[..., RegionalEmulators], monkeypatch: pytest.MonkeyPatch
) -> None:
    regions(REGIONS[:1])
    code, _, err = run("sweep", "--compartment", COMP, "--regions", "us-ashburn-1,eu-paris-1")
    assert code == 2 and "OCI_CORE_ENDPOINT_EU_PARIS_1" in err and "Traceback" not in err
    code, _, err = run("sweep", "--compartment", COMP, "--regions", "not a region")
    assert code == 2 and "not a region name" in err


def test_a_resume_token_naming_a_strange_region_is_refused(regions: Callable[..., RegionalEmulators]) -> None:
    regions(REGIONS[:1])
    forged = encode_regions_token({"evil.example.com/x#": None})
    code, _, err = run("sweep", "--compartment", COMP, "--resume", forged)
    assert code == 2 and "bad region name" in err
