"""Local emulator of the OCI endpoints backup-tag-sync uses (Block Storage, Identity, Object Storage)."""

from __future__ import annotations

from sync.emulator.faults import Faults
from sync.emulator.http import EmulatorServer
from sync.emulator.signing import ApiKey, SignatureVerifier, generate_api_key
from sync.emulator.state import (
    SAMPLE_SEED_PATH,
    Backend,
    EmulatorError,
    NotModified,
    RequestRecord,
    StoredObject,
    load_seed,
)

__all__ = [
    "SAMPLE_SEED_PATH",
    "ApiKey",
    "Backend",
    "EmulatorError",
    "EmulatorServer",
    "Faults",
    "NotModified",
    "RequestRecord",
    "SignatureVerifier",
    "StoredObject",
    "generate_api_key",
    "load_seed",
]
