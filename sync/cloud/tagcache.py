"""The function's per-container cache of the tag schema: read lazily, per namespace, refreshed on a timer."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.cloud.port import TagReads
from sync.cloud.retry import Deadline
from sync.cloud.tagschema import Reader, SchemaReadError, read_namespace
from sync.policy.planner import Plan
from sync.policy.tagcheck import apply_schema, changed_written
from sync.policy.tagmodel import TagNamespace, TagSchema
from sync.policy.tagnames import fold

log = logging.getLogger("sync.cloud.tagcache")

REFRESH_ENV = "TAG_SCHEMA_REFRESH_SECONDS"
DEFAULT_REFRESH_SECONDS = 900.0
FAILURE_BACKOFF_SECONDS = 60.0  # after a failed read, events go on without the schema this long
MIN_SECONDS_LEFT = 5.0  # below this, the update itself matters more than a check before it


def refresh_seconds(env: Mapping[str, str]) -> float:
    raw = env.get(REFRESH_ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_REFRESH_SECONDS
    except ValueError:
        return DEFAULT_REFRESH_SECONDS
    return value if value >= 0 else DEFAULT_REFRESH_SECONDS


@dataclass
class _Entry:
    namespace: TagNamespace
    at: float


class TagSchemaCache:
    """The function's view of the schema: read lazily, per namespace, kept `refresh` seconds.

    Only an update about to write a rule's defined tag value reads it, so compliant backups and
    policies without defined tags cost no Identity call. A failed read never blocks the update.
    """

    def __init__(
        self,
        port: TagReads,
        refresh: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.refresh = refresh_seconds(os.environ) if refresh is None else refresh
        self.clock = clock
        self._lock = threading.Lock()
        self._summaries: tuple[float, dict[str, Mapping[str, Any]]] | None = None
        self._namespaces: dict[str, _Entry] = {}
        self._failed_at: float | None = None
        self.calls = 0  # Identity calls made, for tests and benchmarks

    def _fresh(self, at: float) -> bool:
        return self.clock() - at < self.refresh

    def schema_for(self, wanted: Mapping[str, set[str]], deadline: Deadline) -> TagSchema | None:
        """What the cache knows of `wanted`, reading what is missing or stale; None when unreadable."""
        with self._lock:  # one reader at a time: sweep threads wait for the first read
            if self._failed_at is not None and self.clock() - self._failed_at < FAILURE_BACKOFF_SECONDS:
                return None
            missing = {ns: keys for ns, keys in wanted.items() if not self._covered(ns, keys)}
            if missing:
                if deadline.remaining() < MIN_SECONDS_LEFT:
                    log.warning(
                        "tag schema not read: too little time left; the update goes on unchecked",
                        extra={"seconds_left": round(deadline.remaining(), 1)},
                    )
                    return None
                try:
                    self._read(missing, deadline)  # each Identity call's timeout capped by the deadline
                except SchemaReadError as exc:
                    self._failed_at = self.clock()
                    # A failed OCI call logs at error level with OCI's message (the README's log
                    # section); the write itself still goes on, and OCI judges it.
                    log.error(
                        exc.message or f"{exc.operation} failed",
                        extra={
                            "operation": exc.operation,
                            "status": exc.status,
                            "code": exc.code,
                            "opc_request_id": exc.opc_request_id,
                            "effect": "tag schema not read; the update goes on unchecked",
                        },
                    )
                    return None
                except Exception as exc:  # e.g. authentication: same rule, never block the write
                    self._failed_at = self.clock()
                    log.warning(
                        "tag schema could not be read; the update goes on and OCI judges it",
                        extra={"error": f"{type(exc).__name__}: {str(exc)[:200]}"},
                    )
                    return None
            known = {}
            for ns in wanted:
                entry = self._namespaces.get(fold(ns))
                if entry is not None:
                    known[fold(ns)] = entry.namespace
            return TagSchema(known)

    def _covered(self, ns: str, keys: set[str]) -> bool:
        entry = self._namespaces.get(fold(ns))
        if entry is not None and self._fresh(entry.at):
            return all(entry.namespace.key(k) is not None or entry.namespace.keys_complete for k in keys)
        # A namespace the fresh list says does not exist needs no further call.
        return (
            self._summaries is not None
            and self._fresh(self._summaries[0])
            and fold(ns) not in self._summaries[1]
        )

    def _read(self, wanted: Mapping[str, set[str]], deadline: Deadline) -> None:
        reader = Reader.of_tenancy(self.port, deadline)
        try:
            if self._summaries is None or not self._fresh(self._summaries[0]):
                self._summaries = (self.clock(), reader.namespaces())
            summaries = self._summaries[1]
            for ns, key_names in wanted.items():
                summary = summaries.get(fold(ns))
                if summary is not None:
                    self._namespaces[fold(ns)] = _Entry(
                        read_namespace(reader, summary, key_names), self.clock()
                    )
        finally:
            self.calls += reader.calls

    def review(self, result: Plan, deadline: Deadline) -> Plan:
        """The plan checked against the schema when its update writes a rule's defined tag value."""
        if result.error or not result.changed:
            return result
        written = changed_written(result)
        if not written:
            return result
        wanted: dict[str, set[str]] = {}
        for ns, key in written:
            wanted.setdefault(ns, set()).add(key)
        schema = self.schema_for(wanted, deadline)
        return result if schema is None else apply_schema(result, schema)
