"""The one port to OCI: every call the engine, the sweep and the function make, by backup kind.

Implemented once, on the lean clients (sync/cloud/leanport.py); every call goes through the
same deadline-capped retry path. Resources come back typed (sync/domain/resources.py); only the
tag schema's and Monitoring's answers stay plain mappings (their readers parse them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sync.cloud.calls import Limiter
from sync.cloud.retry import Deadline
from sync.domain.resources import Backup, Kind, Source, SourceKind

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """A resource as one call returned it, with that answer's etag and opc-request-id."""

    value: T
    etag: str | None
    request_id: str | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page: str | None


@dataclass(frozen=True)
class TagUpdate:
    """The fields an update sets (None: left as is); the API replaces whole tag maps."""

    display_name: str | None = None
    freeform_tags: Mapping[str, str] | None = None
    defined_tags: Mapping[str, Mapping[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        """The Update*BackupDetails body, in the order the generated models serialize it."""
        body: dict[str, Any] = {}
        if self.defined_tags is not None:
            body["definedTags"] = {ns: dict(keys) for ns, keys in self.defined_tags.items()}
        if self.display_name is not None:
            body["displayName"] = self.display_name
        if self.freeform_tags is not None:
            body["freeformTags"] = dict(self.freeform_tags)
        return body


@dataclass(frozen=True)
class Compartment:
    id: str
    lifecycle_state: str | None


@dataclass(frozen=True)
class RegionSubscription:
    region_name: str
    status: str | None
    is_home_region: bool


class NotWired(Exception):
    """A backup kind the port knows of but does not serve yet."""


class TagReads(Protocol):
    """The Identity reads the tag schema needs (sync/cloud/tagschema.py); one attempt each."""

    def tenancy_id(self) -> str | None: ...

    def list_tag_namespaces(
        self, tenancy_id: str, deadline: Deadline, page: str | None
    ) -> Page[Mapping[str, Any]]: ...

    def list_tags(
        self, namespace_id: str, deadline: Deadline, page: str | None
    ) -> Page[Mapping[str, Any]]: ...

    def get_tag(self, namespace_id: str, name: str, deadline: Deadline) -> Mapping[str, Any]: ...


class OciPort(TagReads, Protocol):
    """What the product asks of OCI. Failures raise CallFailed (or AuthError for credentials)."""

    def get_backup(
        self, kind: Kind, backup_id: str, deadline: Deadline, limiter: Limiter | None = None
    ) -> Read[Backup]: ...

    def update_backup(
        self,
        kind: Kind,
        backup_id: str,
        details: TagUpdate,
        if_match: str,
        deadline: Deadline,
        limiter: Limiter | None = None,
    ) -> Read[Backup]: ...

    def list_backups(
        self,
        kind: Kind,
        compartment_id: str,
        deadline: Deadline,
        *,
        page: str | None,
        limit: int,
        limiter: Limiter | None = None,
    ) -> Page[Backup]: ...

    def get_source(
        self,
        kind: SourceKind,
        source_id: str,
        backup_id: str | None,
        deadline: Deadline,
        limiter: Limiter | None = None,
    ) -> Source | None: ...

    def list_compartments(
        self,
        compartment_id: str,
        deadline: Deadline,
        *,
        subtree: bool,
        page: str | None,
        limiter: Limiter | None = None,
    ) -> Page[Compartment]: ...

    def list_region_subscriptions(self, tenancy_id: str, deadline: Deadline) -> list[RegionSubscription]: ...

    def invoke_function(
        self, endpoint: str, function_id: str, body: bytes, deadline: Deadline, *, detached: bool
    ) -> Read[int]: ...

    def post_metric_data(
        self, metric_data: list[dict[str, Any]], deadline: Deadline
    ) -> Read[Mapping[str, Any]]: ...
