"""The config and signer the function's other clients (Monitoring, Functions invoke) share with Clients."""

from __future__ import annotations

from typing import Any

from sync.cloud.clients import Clients


def config_and_signer(clients: Clients) -> tuple[dict[str, Any], Any]:
    """Clients' own config and signer (built once per container); a signer from the config file if none."""
    config, signer = clients._config_and_signer()
    if signer is None:
        from oci.config import get_config_value_or_default, validate_config
        from oci.signer import Signer

        validate_config(config)
        signer = Signer(
            tenancy=config["tenancy"],
            user=config["user"],
            fingerprint=config["fingerprint"],
            private_key_file_location=config.get("key_file"),
            pass_phrase=get_config_value_or_default(config, "pass_phrase"),
            private_key_content=config.get("key_content"),
        )
    return config, signer
