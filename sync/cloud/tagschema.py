"""Reading the tenancy's tag schema from Identity, only for the namespaces and keys a policy uses."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sync.cloud.outcome import CallFailed
from sync.cloud.port import Page, TagReads
from sync.cloud.retry import Deadline
from sync.domain.ocid import check_ocid, tenancy_of
from sync.policy.tagmodel import TagKey, TagNamespace, TagSchema, key_from_api
from sync.policy.tagnames import fold

PAGE_LIMIT = 1000
MAX_PAGES = 100
# Names go into a request path, and the SDK does not escape '/'; OCI-returned names are untrusted.
_SAFE_NAME = re.compile(r"^[\x21-\x7e]{1,100}$")
_UNSAFE_IN_PATH = frozenset("/?#%\\.")
T = TypeVar("T")


class SchemaReadError(Exception):
    """An Identity call failed (or the tenancy is unknown); carries what the log line needs."""

    def __init__(
        self,
        operation: str,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        opc_request_id: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message[:300]
        self.opc_request_id = opc_request_id
        super().__init__(f"{operation}: {self.status} {self.code}: {self.message}")

    @classmethod
    def of(cls, failure: CallFailed) -> SchemaReadError:
        return cls(
            failure.operation,
            failure.message,
            status=failure.status,
            code=failure.code,
            opc_request_id=failure.opc_request_id,
        )


def safe_name(name: str) -> bool:
    return bool(_SAFE_NAME.match(name)) and not (set(name) & _UNSAFE_IN_PATH)


@dataclass
class Reader:
    """One pass of Identity calls inside `deadline`; counts them (`calls`) so their number can be reported."""

    port: TagReads
    tenancy_id: str
    deadline: Deadline
    calls: int = 0
    operations: list[str] = field(default_factory=list)

    @classmethod
    def of_tenancy(cls, port: TagReads, deadline: Deadline) -> Reader:
        """A reader of the credentials' own tenancy; SchemaReadError when that tenancy is unknown."""
        try:
            return cls(port, tenancy_of(port.tenancy_id()), deadline)
        except ValueError as exc:
            raise SchemaReadError("ListTagNamespaces", str(exc)) from None

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        self.calls += 1
        self.operations.append(operation)
        try:
            return fn()
        except CallFailed as failure:  # the caller decides what a failed read means
            raise SchemaReadError.of(failure) from None

    def _pages(
        self, operation: str, fn: Callable[[str | None], Page[Mapping[str, Any]]]
    ) -> Iterator[Mapping[str, Any]]:
        page: str | None = None
        for _ in range(MAX_PAGES):
            got = self._call(operation, functools.partial(fn, page))
            yield from got.items
            page = got.next_page
            if not page:
                return

    def namespaces(self) -> dict[str, Mapping[str, Any]]:
        """Every namespace of the tenancy (ListTagNamespaces, paged): folded name -> summary."""
        out: dict[str, Mapping[str, Any]] = {}
        reads = self.port
        for ns in self._pages(
            "ListTagNamespaces", lambda page: reads.list_tag_namespaces(self.tenancy_id, self.deadline, page)
        ):
            name = ns.get("name")
            if isinstance(name, str) and name:
                out[fold(name)] = ns
        return out

    def keys(self, namespace_id: str) -> dict[str, TagKey]:
        """The keys of one namespace (ListTags, paged; TagSummary has no validator)."""
        check_ocid(namespace_id, "tagnamespace")
        out: dict[str, TagKey] = {}
        reads = self.port
        for tag in self._pages("ListTags", lambda page: reads.list_tags(namespace_id, self.deadline, page)):
            key = key_from_api(tag)
            if key.name:
                out[fold(key.name)] = key
        return out

    def tag(self, namespace_id: str, name: str) -> TagKey:
        """One key with its validator (GetTag)."""
        check_ocid(namespace_id, "tagnamespace")
        return key_from_api(
            self._call("GetTag", lambda: self.port.get_tag(namespace_id, name, self.deadline))
        )


def namespace_of(summary: Mapping[str, Any], keys: Mapping[str, TagKey], complete: bool) -> TagNamespace:
    """A TagNamespaceSummary (snake_case, as the lean client returns it) with the keys read."""
    return TagNamespace(
        str(summary.get("name", "")),
        str(summary.get("id", "")),
        bool(summary.get("is_retired", False)),
        str(summary.get("lifecycle_state", "ACTIVE") or "ACTIVE"),
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
