"""OCI settings from the environment, and clients built once per process."""

from __future__ import annotations

from typing import Any

import pytest

from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.emulator import ApiKey, EmulatorServer

BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"


def settings(emulator: EmulatorServer, api_key: ApiKey) -> OciSettings:
    return OciSettings.from_env(emulator.client_env(api_key))


def test_auth_mode_defaults_and_errors() -> None:
    assert OciSettings.from_env({}).auth == "config_file"
    assert OciSettings.from_env({"OCI_RESOURCE_PRINCIPAL_VERSION": "2.2"}).auth == "resource_principal"
    with pytest.raises(AuthError, match="OCI_AUTH='api_key' is not one of"):
        OciSettings.from_env({"OCI_AUTH": "api_key"})


def test_clients_are_built_once(emulator: EmulatorServer, api_key: ApiKey) -> None:
    clients = Clients(settings(emulator, api_key))
    assert clients.blockstorage() is clients.blockstorage()


def test_missing_config_file_is_an_auth_error(tmp_path: Any) -> None:
    clients = Clients(OciSettings.from_env({"OCI_CONFIG_FILE": str(tmp_path / "nope")}))
    with pytest.raises(AuthError, match="config_file authentication failed"):
        clients.blockstorage()
