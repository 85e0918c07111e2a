"""The tenancy's tag schema read from Identity for the namespaces a policy uses; a per-container cache."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.cloud.retry import Deadline
from sync.policy.planner import Plan
from sync.policy.tagcheck import TagKey, TagNamespace, TagSchema, apply_schema, changed_written, key_from_api
from sync.policy.tagnames import fold
from sync.requests.bodies import check_ocid

log = logging.getLogger("sync.cloud.tagschema")

REFRESH_ENV = "TAG_SCHEMA_REFRESH_SECONDS"
DEFAULT_REFRESH_SECONDS = 900.0
FAILURE_BACKOFF_SECONDS = 60.0  # after a failed read, events go on without the schema this long
MIN_SECONDS_LEFT = 5.0  # below this, the update itself matters more than a check before it
PAGE_LIMIT = 1000
MAX_PAGES = 100
# Names go into a request path, and the SDK does not escape '/'; OCI-returned names are untrusted.
_SAFE_NAME = re.compile(r"^[\x21-\x7e]{1,100}$")
_UNSAFE_IN_PATH = frozenset("/?#%\\.")


class SchemaReadError(Exception):
    """An Identity call failed; carries what the log line needs."""

    def __init__(self, operation: str, exc: BaseException) -> None:
        self.operation = operation
        self.status = getattr(exc, "status", None)
        self.code = str(getattr(exc, "code", "") or type(exc).__name__)
        self.message = str(getattr(exc, "message", "") or exc)[:300]
        self.opc_request_id = getattr(exc, "request_id", None)
        super().__init__(f"{operation}: {self.status} {self.code}: {self.message}")


def as_dict(item: Any) -> dict[str, Any]:
    """An SDK response model or a plain dict (lean clients) as a dict."""
    if isinstance(item, dict):
        return item
    from oci.util import to_dict

    data = to_dict(item)
    return data if isinstance(data, dict) else {}


def _data_and_next(response: Any) -> tuple[Any, str | None]:
    data = getattr(response, "data", response)
    next_page = getattr(response, "next_page", None)
    headers = getattr(response, "headers", None)
    if next_page is None and isinstance(headers, Mapping):
        next_page = headers.get("opc-next-page")
    return data, (str(next_page) if next_page else None)


def safe_name(name: str) -> bool:
    return bool(_SAFE_NAME.match(name)) and not (set(name) & _UNSAFE_IN_PATH)


@dataclass
class Reader:
    """One pass of Identity calls; counts them (`calls`) so their number can be reported."""

    identity: Any
    tenancy_id: str
    calls: int = 0
    operations: list[str] = field(default_factory=list)

    def _call(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        self.calls += 1
        self.operations.append(operation)
        try:
            return fn(**kwargs)
        except Exception as exc:  # ServiceError, connection errors: the caller decides
            raise SchemaReadError(operation, exc) from None

    def _pages(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
        page: str | None = None
        for _ in range(MAX_PAGES):
            extra = {"page": page} if page else {}
            data, page = _data_and_next(self._call(operation, fn, limit=PAGE_LIMIT, **kwargs, **extra))
            for item in data or []:
                yield as_dict(item)
            if not page:
                return

    def namespaces(self) -> dict[str, dict[str, Any]]:
        """Every namespace of the tenancy (ListTagNamespaces, paged): folded name -> summary."""
        out: dict[str, dict[str, Any]] = {}
        for ns in self._pages(
            "ListTagNamespaces",
            self.identity.list_tag_namespaces,
            compartment_id=self.tenancy_id,
            include_subcompartments=True,
        ):
            name = ns.get("name")
            if isinstance(name, str) and name:
                out[fold(name)] = ns
        return out

    def keys(self, namespace_id: str) -> dict[str, TagKey]:
        """The keys of one namespace (ListTags, paged; TagSummary has no validator)."""
        check_ocid(namespace_id, "tagnamespace")
        out: dict[str, TagKey] = {}
        for tag in self._pages("ListTags", self.identity.list_tags, tag_namespace_id=namespace_id):
            key = key_from_api(tag)
            if key.name:
                out[fold(key.name)] = key
        return out

    def tag(self, namespace_id: str, name: str) -> TagKey:
        """One key with its validator (GetTag)."""
        check_ocid(namespace_id, "tagnamespace")
        data, _ = _data_and_next(
            self._call("GetTag", self.identity.get_tag, tag_namespace_id=namespace_id, tag_name=name)
        )
        return key_from_api(as_dict(data))


def namespace_of(summary: Mapping[str, Any], keys: Mapping[str, TagKey], complete: bool) -> TagNamespace:
    return TagNamespace(
        str(summary.get("name", "")),
        str(summary.get("id", "")),
        bool(summary.get("is_retired", summary.get("isRetired", False))),
        str(summary.get("lifecycle_state", summary.get("lifecycleState", "ACTIVE")) or "ACTIVE"),
        dict(keys),
        complete,
    )


def read_namespace(reader: Reader, summary: Mapping[str, Any], key_names: set[str]) -> TagNamespace:
    """One namespace's keys (ListTags), with GetTag for each of key_names that exists."""
    ns_id = str(summary.get("id", ""))
    keys = reader.keys(ns_id)
    for key_name in sorted(key_names):
        found = keys.get(fold(key_name))
        # A retired key fails the check whatever its validator says: no GetTag for it.
        if found is not None and found.usable and safe_name(found.name):
            keys[fold(key_name)] = reader.tag(ns_id, found.name)
    return namespace_of(summary, keys, complete=True)


def read_schema(reader: Reader, wanted: Mapping[str, set[str]]) -> TagSchema:
    """The namespaces of the tenancy, and the keys of the namespaces in `wanted` with validators.

    Calls: ListTagNamespaces once per page, then per wanted namespace that exists ListTags once
    per page and GetTag per wanted key that exists: proportional to what the policy uses.
    """
    summaries = reader.namespaces()
    namespaces = {folded: namespace_of(s, {}, complete=False) for folded, s in summaries.items()}
    for ns_name, key_names in wanted.items():
        summary = summaries.get(fold(ns_name))
        if summary is not None:
            namespaces[fold(ns_name)] = read_namespace(reader, summary, key_names)
    return TagSchema(namespaces)


def tenancy_of(clients: Any) -> str:
    """The tenancy OCID the credentials belong to (config file, instance or resource principal)."""
    config, signer = clients._config_and_signer()
    tenancy = config.get("tenancy") if isinstance(config, Mapping) else None
    if not tenancy and signer is not None:
        tenancy = getattr(signer, "tenancy_id", None)
        if not tenancy and hasattr(signer, "get_claim"):
            tenancy = signer.get_claim("res_tenant")
    if not tenancy:
        raise SchemaReadError("ListTagNamespaces", ValueError("the tenancy OCID is unknown"))
    return check_ocid(str(tenancy), "tenancy")


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
        clients: Any,
        refresh: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.refresh = refresh_seconds(os.environ) if refresh is None else refresh
        self.clock = clock
        self._lock = threading.Lock()
        self._summaries: tuple[float, dict[str, dict[str, Any]]] | None = None
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
                    self._read(missing)
                except SchemaReadError as exc:
                    self._failed_at = self.clock()
                    log.warning(
                        "tag schema could not be read; the update goes on and OCI judges it",
                        extra={
                            "operation": exc.operation,
                            "status": exc.status,
                            "code": exc.code,
                            "oci_message": exc.message,
                            "opc_request_id": exc.opc_request_id,
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

    def _read(self, wanted: Mapping[str, set[str]]) -> None:
        reader = Reader(self.clients.identity(), tenancy_of(self.clients))
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


_CACHES: weakref.WeakKeyDictionary[Any, TagSchemaCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(clients: Any) -> TagSchemaCache:
    """One cache per set of clients, so an engine's twins (sweeps) share the container's cache."""
    with _CACHES_LOCK:
        cache = _CACHES.get(clients)
        if cache is None:
            cache = TagSchemaCache(clients)
            _CACHES[clients] = cache
        return cache
