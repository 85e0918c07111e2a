"""Several emulated regions: one EmulatorServer per region, each with its own data, faults and port.

OCI regions share the tenancy, its compartments and its region subscriptions (Identity is
global), while Block Storage data and rate limits are per region: each region's server gets the
same tenancy, compartments and subscription list, and its own backups, volume groups and Faults.
The command line reaches region R through `OCI_CORE_ENDPOINT_<R>` (sync/cloud/regions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from sync.emulator.backend import Backend
from sync.emulator.faults import Faults
from sync.emulator.http import EmulatorServer
from sync.emulator.signing import ApiKey

SeedFor = Callable[[str], Mapping[str, Any]]


def subscriptions(regions: Sequence[str], home: str | None = None) -> list[dict[str, Any]]:
    """The seed's `regionSubscriptions` for these regions (the first one home unless `home` says)."""
    home = home or (regions[0] if regions else None)
    return [{"regionName": r, "status": "READY", "isHomeRegion": r == home} for r in regions]


class RegionalEmulators:
    """One running emulator per region; `servers[region]`, and `client_env(key)` to reach them all."""

    def __init__(
        self,
        regions: Sequence[str],
        seed_for: SeedFor | Mapping[str, Any] | None = None,
        faults_for: Callable[[str], Faults | None] | None = None,
        *,
        home: str | None = None,
        **backend_kwargs: Any,
    ) -> None:
        if not regions or len(set(regions)) != len(regions):
            raise ValueError("give one or more distinct region names")
        self.regions = list(regions)
        self.home = home or self.regions[0]
        subs = subscriptions(self.regions, self.home)
        self.servers: dict[str, EmulatorServer] = {}
        for region in self.regions:
            seed = seed_for(region) if callable(seed_for) else (seed_for or {})
            backend = Backend.from_seed({**seed, "regionSubscriptions": subs}, **backend_kwargs)
            faults = faults_for(region) if faults_for is not None else None
            self.servers[region] = EmulatorServer(backend, faults=faults)

    def register_api_key(self, key: ApiKey) -> None:
        for server in self.servers.values():
            server.register_api_key(key)

    def client_env(self, key: ApiKey) -> dict[str, str]:
        """Settings for this project's code: the home region as the default, every region by name."""
        env = self.servers[self.home].client_env(key)
        for region, server in self.servers.items():
            # The name sync/cloud/regions.py reads; spelled here because the emulator imports
            # nothing of the engine (tests/test_sweep_regions.py runs the CLI on these settings).
            env[f"OCI_CORE_ENDPOINT_{region.upper().replace('-', '_')}"] = server.url
        # Identity is global in OCI (one tenancy, one compartment tree): the home region answers.
        env["OCI_IDENTITY_ENDPOINT"] = self.servers[self.home].url
        return env

    def start(self) -> RegionalEmulators:
        for server in self.servers.values():
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> RegionalEmulators:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
