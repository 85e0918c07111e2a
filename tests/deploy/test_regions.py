"""deploy.sh and teardown.sh with --regions: per-region application, function, logs, schedules,
rule and alarms; one tenancy-wide dynamic group and policy covering every region's function."""

from __future__ import annotations

from collections import Counter

from tests.deploy.conftest import BASE_ARGS, COMPARTMENT, HOME, SUBNET_PHX, Env

PHX = "us-phoenix-1"
ARGS = (*BASE_ARGS, "--subnet", SUBNET_PHX, "--regions", "subscribed", "--notify-email", "ops@example.com")


def writes_by_region(fake: Env) -> dict[str, Counter[str]]:
    res: dict[str, Counter[str]] = {}
    for region, method, path in fake.writes():
        parts = [p for p in path.split("/") if p and not p.startswith("ocid1.")]
        res.setdefault(region, Counter())[f"{method} {'/'.join(parts[1:])}"] += 1
    return res


REGIONAL = {
    "POST applications": 1,
    "PUT functions": 1,
    "POST logGroups": 1,
    "POST logGroups/logs": 1,
    "POST schedules": 2,
    "POST rules": 1,
    "POST topics": 1,
    "POST subscriptions": 1,
    "POST alarms": 2,
}


def test_regions_first_run_creates_per_region_second_run_nothing_teardown_all(fake: Env) -> None:
    r = fake.run("deploy.sh", *ARGS)
    assert r.returncode == 0, r.stderr
    w = writes_by_region(fake)
    # IAM goes to the home region, once; everything else once per region
    assert w[HOME] == Counter({**REGIONAL, "POST dynamicGroups": 1, "POST policies": 1})
    assert w[PHX] == Counter(REGIONAL)
    assert set(w) == {HOME, PHX}  # eu-frankfurt-1 is not subscribed
    deploys = [c for c in fake.calls() if c.tool == "fn" and c.mutating]
    assert [(c.argv, c.env) for c in deploys] == [
        (
            ["deploy", "--app", "backup-tag-sync"],
            {
                "FN_API_URL": f"https://functions.{reg}.oci.oraclecloud.com",
                "FN_REGISTRY": f"{key}.ocir.io/acmens/backup-tag-sync",
            },
        )
        for reg, key in ((HOME, "iad"), (PHX, "phx"))
    ]
    f_iad, f_phx = fake.the("functions")["id"], fake.the("functions", PHX)["id"]
    assert fake.the("applications", PHX)["subnetIds"] == [SUBNET_PHX]
    assert (
        fake.the("dynamicGroups")["matchingRule"]
        == f"ANY {{resource.id = '{f_iad}', resource.id = '{f_phx}'}}"
    )
    sched_ids = [s["id"] for reg in (HOME, PHX) for s in fake.live("schedules", reg)]
    statements = fake.the("policies")["statements"]
    assert [s for s in statements if "resourceschedule" in s] == [
        f"Allow any-user to {grant} in compartment id {COMPARTMENT} where all "
        f"{{request.principal.type = 'resourceschedule', request.principal.id = '{sid}'}}"
        for sid in sched_ids
        for grant in ("read fn-function", "use fn-invocation")
    ]
    assert {s["resources"][0]["id"] for s in fake.live("schedules", PHX)} == {f_phx}
    assert r.stdout.split() == [f_iad, f_phx]
    for reg in (HOME, PHX):
        assert sum(1 for ln in r.stderr.splitlines() if ln.startswith(f"  application    {reg} ")) == 1

    fake.clear_log()
    r = fake.run("deploy.sh", *ARGS, "--skip-build")
    assert r.returncode == 0, r.stderr
    assert fake.writes() == []

    r = fake.run("teardown.sh", "--compartment", COMPARTMENT, "--regions", "subscribed", "--yes")
    assert r.returncode == 0, r.stderr
    for reg in (HOME, PHX):
        for coll in (
            "applications",
            "functions",
            "logs",
            "logGroups",
            "schedules",
            "rules",
            "topics",
            "alarms",
        ):
            assert fake.live(coll, reg) == [], (reg, coll)
    assert fake.live("policies") == [] and fake.live("dynamicGroups") == []


def test_a_region_the_tenancy_does_not_subscribe_to_stops_before_any_change(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--regions", f"{HOME},eu-frankfurt-1")
    assert r.returncode == 1
    assert "does not subscribe to region eu-frankfurt-1" in r.stderr
    assert fake.writes() == []


def test_each_region_needs_its_subnet(fake: Env) -> None:
    r = fake.run("deploy.sh", *BASE_ARGS, "--regions", f"{HOME},{PHX}")
    assert r.returncode == 1
    assert "no --subnet for region us-phoenix-1" in r.stderr and "ocid1.subnet.oc1.phx" in r.stderr
    assert fake.writes() == []
