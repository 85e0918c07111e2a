"""Reading the tenancy's tag schema from Identity, only for the namespaces and keys a policy uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.policy.tagmodel import TagKey, TagNamespace, TagSchema, key_from_api
from sync.policy.tagnames import fold
from sync.requests.bodies import check_ocid

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
    config, signer = clients.auth()
    tenancy = config.get("tenancy") if isinstance(config, Mapping) else None
    if not tenancy and signer is not None:
        tenancy = getattr(signer, "tenancy_id", None)
        if not tenancy and hasattr(signer, "get_claim"):
            tenancy = signer.get_claim("res_tenant")
    if not tenancy:
        raise SchemaReadError("ListTagNamespaces", ValueError("the tenancy OCID is unknown"))
    return check_ocid(str(tenancy), "tenancy")
