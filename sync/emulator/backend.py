"""The emulator's state: one backend per OCI service, the shared request log and seed loading."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sync.emulator.blockstorage import BlockStorageBackend
from sync.emulator.functions import FunctionsBackend
from sync.emulator.identity import IdentityBackend
from sync.emulator.monitoring import MonitoringBackend
from sync.emulator.objectstorage import ObjectStorageBackend
from sync.emulator.ocilimits import OCI_LIMITS, OciLimits
from sync.emulator.paging import Json
from sync.emulator.requestlog import RequestLog
from sync.emulator.seed import lifecycle_settings, load_into, read_seed
from sync.emulator.subscriptions import RegionSubscriptionsBackend
from sync.emulator.tagrules import TagChecks


class Backend:
    """All emulated services and the request log; safe to share between threads.

    The services share one lock, so a seed load or a snapshot is atomic across them.
    """

    def __init__(
        self,
        *,
        limits: OciLimits = OCI_LIMITS,
        creating_seconds: float | None = 2.0,
        creating_gets: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_log: int | None = 100_000,
    ) -> None:
        self._lock = threading.RLock()
        self.identity = IdentityBackend(lock=self._lock)
        self.blockstorage = BlockStorageBackend(
            self.identity,
            limits=limits,
            creating_seconds=creating_seconds,
            creating_gets=creating_gets,
            clock=clock,
            lock=self._lock,
        )
        self.objectstorage = ObjectStorageBackend(lock=self._lock)
        self.regions = RegionSubscriptionsBackend(self.identity, lock=self._lock)
        self.monitoring = MonitoringBackend(lock=self._lock)
        self.functions = FunctionsBackend(lock=self._lock)
        self.log = RequestLog(max_log)

    @property
    def limits(self) -> OciLimits:
        return self.blockstorage.limits

    @property
    def tag_checks(self) -> TagChecks:
        """The defined-tag check switches (README, "Defined tags on update")."""
        return self.blockstorage.tag_checks

    @property
    def tenancy_id(self) -> str | None:
        return self.identity.tenancy_id

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], **kwargs: Any) -> Backend:
        """Build a backend from a seed dict (the sample_seed.json format)."""
        for key, value in lifecycle_settings(seed).items():
            kwargs.setdefault(key, value)
        backend = cls(**kwargs)
        backend.load(seed)
        return backend

    def load(self, seed: Mapping[str, Any]) -> None:
        """Add everything in a seed dict to this backend."""
        with self._lock:
            load_into(seed, self.identity, self.blockstorage, self.objectstorage)
            self.regions.load(seed.get("regionSubscriptions") or [])

    def snapshot(self) -> Json:
        """The current state in the seed format (object contents as text when they decode)."""
        with self._lock:
            return {
                **self.identity.snapshot(),
                **self.blockstorage.snapshot(),
                **self.objectstorage.snapshot(),
                **self.regions.snapshot(),
            }


def load_seed(path: str | Path, **kwargs: Any) -> Backend:
    """Backend.from_seed on a JSON seed file."""
    return Backend.from_seed(read_seed(path), **kwargs)
