"""A sweep's read caches: each source (volume group, volume, boot volume) or group backup read once."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind, Source, SourceKind
from sync.sweep.options import VOLUME_GROUP_CACHE_SIZE

GET_OPERATIONS: dict[StrEnum, str] = {
    SourceKind.VOLUME_GROUP: "GetVolumeGroup",
    SourceKind.VOLUME: "GetVolume",
    SourceKind.BOOT_VOLUME: "GetBootVolume",
    Kind.VOLUME_GROUP_BACKUP: "GetVolumeGroupBackup",  # the group a member names (group_backup.*)
}
V = TypeVar("V")
Fetch = Callable[[StrEnum, str, str | None, Deadline], V | None]
"""(what, id, the backup that needs it, deadline) -> the resource, or None when it is gone (404)."""


@dataclass
class _Entry(Generic[V]):
    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    error: Exception | None = None


class ReadCache(Generic[V]):
    """A source lookup shared by a sweep's threads (404: None), on `fetch` (the engine's, paced).

    Concurrent lookups of one group wait for a single GET. At most `size` groups are kept;
    the least recently used finished entry goes first, so a group evicted and needed again
    costs one more GET (counted in `fetches`), never unbounded memory.
    """

    def __init__(
        self,
        fetch: Callable[[StrEnum, str, str | None, Deadline], V | None],
        size: int = VOLUME_GROUP_CACHE_SIZE,
    ) -> None:
        self.fetch = fetch
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self.fetches = 0
        self._by_kind: Counter[StrEnum] = Counter()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict(self) -> None:
        """Drop finished entries, oldest use first, while over size (callers hold the lock)."""
        while len(self._entries) > self.size:
            victim = next((k for k, e in self._entries.items() if e.done.is_set()), None)
            if victim is None:  # every entry is a GET in flight: bounded by the thread count
                return
            del self._entries[victim]

    def fetch_calls(self) -> dict[str, int]:
        """Sources read, by Oracle's operation name (GetVolumeGroup, GetVolume, GetBootVolume)."""
        with self._lock:
            return {GET_OPERATIONS[k]: n for k, n in self._by_kind.items()}

    def __call__(self, kind: StrEnum, source_id: str, backup_id: str | None, deadline: Deadline) -> V | None:
        key = f"{kind.value}:{source_id}"
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry[V]()
                self.fetches += 1
                self._by_kind[kind] += 1
                self._evict()
            else:
                self._entries.move_to_end(key)
        if owner:
            try:
                entry.value = self.fetch(kind, source_id, backup_id, deadline)
            except (CallFailed, AuthError) as exc:
                entry.error = exc
            finally:
                entry.done.set()
        elif not entry.done.wait(timeout=max(0.0, deadline.remaining())):
            raise CallFailed(GET_OPERATIONS[kind], None, "DeadlineExceeded", "no time left", None, True)
        if entry.error is not None:
            raise entry.error
        return entry.value


SourceCache = ReadCache[Source]
GroupBackupCache = ReadCache[Backup]
