"""Pytest fixtures for the OCI emulator: api_key, emulator, make_emulator and SDK clients."""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sync.emulator import (
    SAMPLE_SEED_PATH,
    ApiKey,
    Backend,
    EmulatorServer,
    Faults,
    generate_api_key,
    load_seed,
)
from sync.emulator.multiregion import RegionalEmulators

OS_NAMESPACE = "examplens"


@pytest.fixture(scope="session")
def api_key(tmp_path_factory: pytest.TempPathFactory) -> ApiKey:
    """A generated RSA key and an OCI config file ([DEFAULT]) in a session temp dir."""
    return generate_api_key(tmp_path_factory.mktemp("oci-key"))


@pytest.fixture
def emulator(api_key: ApiKey) -> Iterator[EmulatorServer]:
    """A running emulator with the sample seed; api_key's signatures are accepted."""
    server = EmulatorServer(load_seed(SAMPLE_SEED_PATH))
    server.register_api_key(api_key)
    with server:
        yield server


@pytest.fixture
def make_emulator(api_key: ApiKey) -> Iterator[Callable[..., EmulatorServer]]:
    """Factory: make_emulator(seed=dict|path|None, faults=None, **backend_kwargs) -> started server.

    Every server it starts accepts api_key and is stopped at teardown. backend_kwargs go to
    Backend (e.g. creating_seconds=None keeps seeded CREATING backups CREATING).
    """
    servers: list[EmulatorServer] = []

    def start(
        seed: Mapping[str, Any] | str | Path | None = SAMPLE_SEED_PATH,
        faults: Faults | None = None,
        **backend_kwargs: Any,
    ) -> EmulatorServer:
        if seed is None:
            backend = Backend(**backend_kwargs)
        elif isinstance(seed, str | Path):
            backend = load_seed(seed, **backend_kwargs)
        else:
            backend = Backend.from_seed(seed, **backend_kwargs)
        server = EmulatorServer(backend, faults=faults)
        server.register_api_key(api_key)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_regions(api_key: ApiKey) -> Iterator[Callable[..., RegionalEmulators]]:
    """Factory: make_regions(regions, seed_for=None, faults_for=None, **backend_kwargs) -> started.

    One emulator per region (RegionalEmulators), each accepting api_key; stopped at teardown.
    """
    started: list[RegionalEmulators] = []

    def start(
        regions: list[str], seed_for: Any = None, faults_for: Any = None, **kw: Any
    ) -> RegionalEmulators:
        group = RegionalEmulators(regions, seed_for, faults_for, **kw)
        group.register_api_key(api_key)
        started.append(group.start())
        return group

    yield start
    for group in started:
        group.stop()


def client_kwargs(url: str) -> dict[str, Any]:
    """No SDK retries or circuit breaker, so each call is exactly one HTTP request."""
    import oci

    return {
        "service_endpoint": url,
        "retry_strategy": oci.retry.NoneRetryStrategy(),
        "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
        "timeout": (5, 30),
    }


def raw(
    emulator: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request as given (no SDK): status, lower-cased headers and body."""
    host, port = urllib.parse.urlsplit(emulator.url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def signed_headers(
    api_key: ApiKey,
    emulator: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    extra: dict[str, str] | None = None,
    body_headers: bool = True,
) -> dict[str, str]:
    """Headers exactly as the SDK's signer produces them for this request."""
    import oci

    signer = oci.signer.Signer.from_config(oci.config.from_file(str(api_key.config_path)))
    req = oci._vendor.requests.Request(
        method,
        emulator.url + path,
        data=body or None,
        headers={"content-type": "application/json", **(extra or {})},
    ).prepare()
    signed = signer(req) if body_headers else signer.without_content_headers(req)
    return {k: v for k, v in signed.headers.items()}


def oci_config(api_key: ApiKey) -> dict[str, Any]:
    import oci

    return dict(oci.config.from_file(str(api_key.config_path)))


@pytest.fixture
def core_client(emulator: EmulatorServer, api_key: ApiKey) -> Any:
    """oci.core.BlockstorageClient pointed at the emulator (no retries, no circuit breaker)."""
    import oci

    return oci.core.BlockstorageClient(oci_config(api_key), **client_kwargs(emulator.url))


@pytest.fixture
def os_client(emulator: EmulatorServer, api_key: ApiKey) -> Any:
    """oci.object_storage.ObjectStorageClient pointed at the emulator."""
    import oci

    return oci.object_storage.ObjectStorageClient(oci_config(api_key), **client_kwargs(emulator.url))


@pytest.fixture
def identity_client(emulator: EmulatorServer, api_key: ApiKey) -> Any:
    """oci.identity.IdentityClient pointed at the emulator."""
    import oci

    return oci.identity.IdentityClient(oci_config(api_key), **client_kwargs(emulator.url))
