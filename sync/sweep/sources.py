"""A sweep's source cache: each volume group (volume, boot volume) read at most once, bounded (LRU out)."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed, SourceLookup
from sync.cloud.retry import Deadline
from sync.domain.resources import Source, SourceKind
from sync.sweep.options import VOLUME_GROUP_CACHE_SIZE

GET_OPERATIONS = {
    SourceKind.VOLUME_GROUP: "GetVolumeGroup",
    SourceKind.VOLUME: "GetVolume",
    SourceKind.BOOT_VOLUME: "GetBootVolume",
}


@dataclass
class _Entry:
    done: threading.Event = field(default_factory=threading.Event)
    value: Source | None = None
    error: Exception | None = None


class SourceCache:
    """A source lookup shared by a sweep's threads (404: None), on `fetch` (the engine's, paced).

    Concurrent lookups of one group wait for a single GET. At most `size` groups are kept;
    the least recently used finished entry goes first, so a group evicted and needed again
    costs one more GET (counted in `fetches`), never unbounded memory.
    """

    def __init__(self, fetch: SourceLookup, size: int = VOLUME_GROUP_CACHE_SIZE) -> None:
        self.fetch = fetch
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.fetches = 0
        self._by_kind: Counter[SourceKind] = Counter()

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

    def __call__(
        self, kind: SourceKind, source_id: str, backup_id: str | None, deadline: Deadline
    ) -> Source | None:
        key = f"{kind.value}:{source_id}"
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry()
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
