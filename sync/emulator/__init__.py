"""Local emulator of the OCI endpoints backup-tag-sync uses (Block Storage, Identity, Object Storage)."""

from __future__ import annotations

from sync.emulator.backend import Backend, load_seed
from sync.emulator.errors import EmulatorError, NotModified
from sync.emulator.faults import Faults
from sync.emulator.http import EmulatorServer
from sync.emulator.objectstorage import StoredObject
from sync.emulator.ocilimits import OCI_LIMITS, OciLimits
from sync.emulator.requestlog import RequestRecord
from sync.emulator.seed import SAMPLE_SEED_PATH
from sync.emulator.signing import ApiKey, SignatureVerifier, generate_api_key
from sync.emulator.tagrules import TagChecks

__all__ = [
    "OCI_LIMITS",
    "SAMPLE_SEED_PATH",
    "ApiKey",
    "Backend",
    "EmulatorError",
    "EmulatorServer",
    "Faults",
    "NotModified",
    "OciLimits",
    "RequestRecord",
    "SignatureVerifier",
    "StoredObject",
    "TagChecks",
    "generate_api_key",
    "load_seed",
]
