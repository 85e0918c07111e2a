"""The SDK clients `doctor` reads a deployment with; each endpoint overridable by an environment variable."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from sync.cloud.clients import Clients, OciSettings

# Environment variable -> (module, client class). Tests point them at a local stub.
ENDPOINT_ENV = {
    "functions": "OCI_FUNCTIONS_ENDPOINT",
    "events": "OCI_EVENTS_ENDPOINT",
    "identity": "OCI_IDENTITY_ENDPOINT",
    "logging": "OCI_LOGGING_ENDPOINT",
    "scheduler": "OCI_RESOURCE_SCHEDULER_ENDPOINT",
    "monitoring": "OCI_MONITORING_ENDPOINT",
    "core": "OCI_CORE_ENDPOINT",
    "object_storage": "OCI_OBJECTSTORAGE_ENDPOINT",
}


class DoctorClients:
    """One SDK client per service, built on first use with the command line's config and signer."""

    def __init__(self, env: Mapping[str, str] | None = None, region: str | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        settings = OciSettings.from_env(self.env)
        if region:
            settings = dataclasses.replace(settings, region=region)
        self.clients = Clients(settings)
        self._built: dict[str, Any] = {}

    def _make(self, name: str, cls: Any) -> Any:
        if name not in self._built:
            config, signer = self.clients.auth()
            kwargs: dict[str, Any] = {"signer": signer, "timeout": (5, 30)}
            endpoint = (self.env.get(ENDPOINT_ENV[name]) or "").strip()
            if endpoint:
                kwargs["service_endpoint"] = endpoint
            self._built[name] = cls(config, **kwargs)
        return self._built[name]

    @property
    def functions(self) -> Any:
        from oci.functions import FunctionsManagementClient

        return self._make("functions", FunctionsManagementClient)

    def invoker(self, endpoint: str) -> Any:
        from oci.functions import FunctionsInvokeClient

        config, signer = self.clients.auth()
        return FunctionsInvokeClient(config, signer=signer, service_endpoint=endpoint, timeout=(5, 330))

    @property
    def events(self) -> Any:
        from oci.events import EventsClient

        return self._make("events", EventsClient)

    @property
    def identity(self) -> Any:
        from oci.identity import IdentityClient

        return self._make("identity", IdentityClient)

    @property
    def logging(self) -> Any:
        from oci.logging import LoggingManagementClient

        return self._make("logging", LoggingManagementClient)

    @property
    def scheduler(self) -> Any:
        from oci.resource_scheduler import ScheduleClient

        return self._make("scheduler", ScheduleClient)

    @property
    def monitoring(self) -> Any:
        from oci.monitoring import MonitoringClient

        return self._make("monitoring", MonitoringClient)

    @property
    def core(self) -> Any:
        from oci.core import BlockstorageClient

        return self._make("core", BlockstorageClient)

    @property
    def object_storage(self) -> Any:
        from oci.object_storage import ObjectStorageClient

        return self._make("object_storage", ObjectStorageClient)
