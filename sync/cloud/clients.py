"""OCI authentication and clients, built once per process and shared by every invocation."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.cloud.lean import (
        LeanBlockstorage,
        LeanFunctionsInvoke,
        LeanIdentity,
        LeanMonitoring,
        LeanObjectStorage,
    )

AUTH_MODES = ("resource_principal", "instance_principal", "config_file")

# (connect, read) seconds. Retries are ours and bounded by the invocation's deadline.
CLIENT_TIMEOUT = (5.0, 20.0)
# Overrides the read timeout (seconds, > 0), e.g. for fault tests with slow answers.
READ_TIMEOUT_ENV = "OCI_READ_TIMEOUT_SECONDS"


class AuthError(Exception):
    """Authentication could not be set up; the message says which setting to fix."""


@dataclass(frozen=True)
class OciSettings:
    auth: str
    config_file: str
    profile: str
    core_endpoint: str | None
    objectstorage_endpoint: str | None
    identity_endpoint: str | None
    monitoring_endpoint: str | None = None
    read_timeout: float = CLIENT_TIMEOUT[1]
    # A region other than the configured one (sync/cloud/regions.py); endpoints come from it.
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OciSettings:
        env = os.environ if env is None else env
        default_auth = "resource_principal" if env.get("OCI_RESOURCE_PRINCIPAL_VERSION") else "config_file"
        auth = (env.get("OCI_AUTH") or default_auth).strip().lower()
        if auth not in AUTH_MODES:
            raise AuthError(f"OCI_AUTH={auth!r} is not one of {', '.join(AUTH_MODES)}")
        return cls(
            auth=auth,
            config_file=env.get("OCI_CONFIG_FILE") or "~/.oci/config",
            profile=env.get("OCI_CONFIG_PROFILE") or "DEFAULT",
            core_endpoint=env.get("OCI_CORE_ENDPOINT") or None,
            objectstorage_endpoint=env.get("OCI_OBJECTSTORAGE_ENDPOINT") or None,
            # Identity (ListCompartments, for recursive sweeps) lives on its own host in
            # OCI; locally the emulator serves it beside Block Storage.
            identity_endpoint=env.get("OCI_IDENTITY_ENDPOINT") or env.get("OCI_CORE_ENDPOINT") or None,
            monitoring_endpoint=(env.get("OCI_MONITORING_ENDPOINT") or "").strip() or None,
            read_timeout=_positive(env.get(READ_TIMEOUT_ENV), CLIENT_TIMEOUT[1]),
        )


def _positive(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


class Clients:
    """Lazily built lean clients (sync/cloud/lean.py) sharing one signer; safe to use from several threads."""

    def __init__(self, settings: OciSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._auth: tuple[dict[str, Any], Any] | None = None
        self._clients: dict[str, Any] = {}

    def _config_and_signer(self) -> tuple[dict[str, Any], Any]:
        if self._auth is not None:
            return self._auth
        import oci

        s = self.settings
        try:
            if s.auth == "resource_principal":
                signer = oci.auth.signers.get_resource_principals_signer()
                self._auth = ({"region": signer.region}, signer)
            elif s.auth == "instance_principal":
                signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
                self._auth = ({"region": signer.region}, signer)
            else:
                path = os.path.expanduser(s.config_file)
                config = oci.config.from_file(path, s.profile)
                self._auth = (config, _config_signer(config))
        except Exception as exc:  # the SDK raises many types here; none may escape as a traceback
            # str(exc) from the SDK names files and settings, never key material.
            raise AuthError(f"{s.auth} authentication failed: {type(exc).__name__}: {exc}") from None
        return self._auth

    def auth(self) -> tuple[dict[str, Any], Any]:
        """The config (with the settings' region) and the signer every client of this process shares."""
        config, signer = self._config_and_signer()
        if self.settings.region:
            config = {**config, "region": self.settings.region}
        return config, signer

    def _build(self, name: str, factory: Any, endpoint: str | None, connect: float | None = None) -> Any:
        with self._lock:
            if name in self._clients:
                return self._clients[name]
            import oci

            config, signer = self.auth()
            s = self.settings
            kwargs: dict[str, Any] = {
                "retry_strategy": oci.retry.NoneRetryStrategy(),
                # A breaker opened by one bad minute would fail later invocations in this
                # warm container without trying; our own retries are deadline-bounded.
                "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
                "timeout": (connect or CLIENT_TIMEOUT[0], s.read_timeout),
            }
            if endpoint:
                kwargs["service_endpoint"] = endpoint
            client = factory(config, signer, **kwargs)
            self._clients[name] = client
            return client

    def blockstorage(self) -> LeanBlockstorage:
        from sync.cloud.lean import LeanBlockstorage

        client: LeanBlockstorage = self._build("blockstorage", LeanBlockstorage, self.settings.core_endpoint)
        return client

    def object_storage(self) -> LeanObjectStorage:
        from sync.cloud.lean import LeanObjectStorage

        endpoint = self.settings.objectstorage_endpoint
        client: LeanObjectStorage = self._build("object_storage", LeanObjectStorage, endpoint)
        return client

    def monitoring(self) -> LeanMonitoring:
        from sync.cloud.lean import LeanMonitoring

        client: LeanMonitoring = self._build("monitoring", LeanMonitoring, self.settings.monitoring_endpoint)
        return client

    def identity(self) -> LeanIdentity:
        from sync.cloud.lean import LeanIdentity

        client: LeanIdentity = self._build("identity", LeanIdentity, self.settings.identity_endpoint)
        return client

    def functions_invoke(self, endpoint: str, connect: float) -> LeanFunctionsInvoke:
        """The client for one function's invoke endpoint (a sweep's continuation), `connect` s to connect."""
        from sync.cloud.lean import LeanFunctionsInvoke

        name = f"functions:{endpoint}"
        client: LeanFunctionsInvoke = self._build(name, LeanFunctionsInvoke, endpoint, connect)
        return client

    def tenancy_id(self) -> str | None:
        """The tenancy OCID the credentials belong to (config file, instance or resource principal)."""
        config, signer = self.auth()
        tenancy = config.get("tenancy")
        if not tenancy and signer is not None:
            tenancy = getattr(signer, "tenancy_id", None)
            if not tenancy and hasattr(signer, "get_claim"):
                tenancy = signer.get_claim("res_tenant")
        return str(tenancy) if tenancy else None


def _config_signer(config: dict[str, Any]) -> Any:
    """The signer a generated client builds from a config file's profile (key loaded once here)."""
    from oci.config import get_config_value_or_default, validate_config
    from oci.signer import Signer
    from oci.util import AUTHENTICATION_TYPE_FIELD_NAME, get_signer_from_authentication_type

    validate_config(config)
    if AUTHENTICATION_TYPE_FIELD_NAME in config:
        return get_signer_from_authentication_type(config)
    return Signer(
        tenancy=config["tenancy"],
        user=config["user"],
        fingerprint=config["fingerprint"],
        private_key_file_location=config.get("key_file"),
        pass_phrase=get_config_value_or_default(config, "pass_phrase"),
        private_key_content=config.get("key_content"),
    )
