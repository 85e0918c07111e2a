"""Several emulated regions: `python -m sync emulator --regions`, ListRegionSubscriptions, own data per region."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import oci
import pytest

from sync.emulator import EmulatorServer
from tests.emulator_fixtures import client_kwargs

ROOT = Path(__file__).resolve().parents[2]
B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"


def test_list_region_subscriptions_follows_the_api(
    emulator: EmulatorServer, identity_client: oci.identity.IdentityClient
) -> None:
    tenancy = emulator.backend.tenancy_id
    assert tenancy
    emulator.backend.regions.load(
        [
            {"regionName": "us-ashburn-1", "regionKey": "IAD", "isHomeRegion": True},
            {"regionName": "eu-frankfurt-1", "regionKey": "FRA", "status": "IN_PROGRESS"},
        ]
    )
    got = identity_client.list_region_subscriptions(tenancy)
    assert got.status == 200 and got.request_id
    assert [(s.region_name, s.region_key, s.status, s.is_home_region) for s in got.data] == [
        ("us-ashburn-1", "IAD", "READY", True),
        ("eu-frankfurt-1", "FRA", "IN_PROGRESS", False),
    ]
    with pytest.raises(oci.exceptions.ServiceError) as info:
        identity_client.list_region_subscriptions("ocid1.tenancy.oc1..aaaaaaaaanothertenancy")
    assert info.value.status == 404 and info.value.code == "NotAuthorizedOrNotFound"
    assert emulator.backend.log.count("ListRegionSubscriptions") == 2


def test_cli_regions_serve_one_emulator_each_with_its_own_data(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.emulator",
            "--key-dir",
            str(tmp_path),
            "--regions",
            "us-ashburn-1,eu-frankfurt-1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        for line in proc.stdout:
            if line.strip().startswith("export "):
                key, _, value = line.strip().removeprefix("export ").partition("=")
                env[key] = value
            if line.startswith("Ctrl-C"):
                break
        iad, fra = env["OCI_CORE_ENDPOINT_US_ASHBURN_1"], env["OCI_CORE_ENDPOINT_EU_FRANKFURT_1"]
        assert iad != fra and env["OCI_IDENTITY_ENDPOINT"] == iad == env["OCI_CORE_ENDPOINT"]
        config = oci.config.from_file(env["OCI_CONFIG_FILE"])
        subs = oci.identity.IdentityClient(config, **client_kwargs(env["OCI_IDENTITY_ENDPOINT"]))
        names = [
            (s.region_name, s.is_home_region) for s in subs.list_region_subscriptions(config["tenancy"]).data
        ]
        assert names == [("us-ashburn-1", True), ("eu-frankfurt-1", False)]
        # Each region has its own copy of the seed: a write in one is not seen in the other.
        east = oci.core.BlockstorageClient(config, **client_kwargs(iad))
        west = oci.core.BlockstorageClient(config, **client_kwargs(fra))
        got = east.get_volume_group_backup(B1)
        details = oci.core.models.UpdateVolumeGroupBackupDetails(display_name="renamed-in-iad")
        east.update_volume_group_backup(B1, details, if_match=got.headers["etag"])
        assert east.get_volume_group_backup(B1).data.display_name == "renamed-in-iad"
        assert west.get_volume_group_backup(B1).data.display_name == got.data.display_name
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
