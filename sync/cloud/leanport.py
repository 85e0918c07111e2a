"""The OCI port on the lean clients: each operation by kind, through one deadline-capped retry path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.cloud.calls import Limiter, Retries
from sync.cloud.clients import Clients
from sync.cloud.outcome import CallFailed
from sync.cloud.port import Compartment, NotWired, Page, Read, RegionSubscription, TagUpdate
from sync.cloud.retry import Deadline
from sync.domain.ocid import ocid_kind
from sync.domain.resources import Backup, Kind, Source, SourceKind

# A detached invoke answers at once: a slow connect means the endpoint is not there.
INVOKE_CONNECT_SECONDS = 0.5


@dataclass(frozen=True)
class _Ops:
    """One kind's operations: the API names (logs, faults), the client methods, the id argument."""

    get: str
    update: str
    list: str
    method: str  # get_<method>, update_<method>, list_<method>s
    id_arg: str
    details_arg: str


_BACKUP_OPS = {
    Kind.VOLUME_GROUP_BACKUP: _Ops(
        "GetVolumeGroupBackup", "UpdateVolumeGroupBackup", "ListVolumeGroupBackups",
        "volume_group_backup", "volume_group_backup_id", "update_volume_group_backup_details",
    ),
    Kind.VOLUME_BACKUP: _Ops(
        "GetVolumeBackup", "UpdateVolumeBackup", "ListVolumeBackups",
        "volume_backup", "volume_backup_id", "update_volume_backup_details",
    ),
    Kind.BOOT_VOLUME_BACKUP: _Ops(
        "GetBootVolumeBackup", "UpdateBootVolumeBackup", "ListBootVolumeBackups",
        "boot_volume_backup", "boot_volume_backup_id", "update_boot_volume_backup_details",
    ),
}  # fmt: skip
# Each source kind: (operation name, client method, id argument).
_SOURCE_OPS = {
    SourceKind.VOLUME_GROUP: ("GetVolumeGroup", "get_volume_group", "volume_group_id"),
    SourceKind.VOLUME: ("GetVolume", "get_volume", "volume_id"),
    SourceKind.BOOT_VOLUME: ("GetBootVolume", "get_boot_volume", "boot_volume_id"),
}


def operation_names(kind: Kind) -> tuple[str, str, str]:
    """(get, update, list) API operation names of a kind, as logs and the emulator name them."""
    ops = _BACKUP_OPS[kind]
    return ops.get, ops.update, ops.list


def source_operation(kind: SourceKind) -> str:
    return _SOURCE_OPS[kind][0]


def _ops(kind: Kind) -> _Ops:
    ops = _BACKUP_OPS.get(kind)
    if ops is None:
        raise NotWired(f"{kind} is not served")
    return ops


def _args(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments named at run time, typed for `Retries.call`'s **kwargs."""
    return kwargs


def _mapping(data: Any) -> Mapping[str, Any]:
    return data if isinstance(data, Mapping) else {}


class LeanPort:
    """OciPort on Clients (sync/cloud/clients.py); `retries` is the one call path (sync/cloud/calls.py)."""

    def __init__(self, clients: Clients, retries: Retries | None = None) -> None:
        self.clients = clients
        self.retries = retries or Retries()

    # -- backups ------------------------------------------------------------------------------

    def get_backup(
        self, kind: Kind, backup_id: str, deadline: Deadline, limiter: Limiter | None = None
    ) -> Read[Backup]:
        ops = _ops(kind)
        client = self.clients.blockstorage()
        got = self.retries.call(
            ops.get,
            getattr(client, f"get_{ops.method}"),
            backup_id,
            deadline,
            limiter=limiter,
            **_args(**{ops.id_arg: backup_id}),
        )
        return Read(Backup.of(kind, _mapping(got.data)), got.headers.get("etag"), got.request_id)

    def update_backup(
        self,
        kind: Kind,
        backup_id: str,
        details: TagUpdate,
        if_match: str,
        deadline: Deadline,
        limiter: Limiter | None = None,
    ) -> Read[Backup]:
        ops = _ops(kind)
        client = self.clients.blockstorage()
        got = self.retries.call(
            ops.update,
            getattr(client, f"update_{ops.method}"),
            backup_id,
            deadline,
            limiter=limiter,
            if_match=if_match,
            **_args(**{ops.id_arg: backup_id, ops.details_arg: details.to_json()}),
        )
        return Read(Backup.of(kind, _mapping(got.data)), got.headers.get("etag"), got.request_id)

    def list_backups(
        self,
        kind: Kind,
        compartment_id: str,
        deadline: Deadline,
        *,
        page: str | None,
        limit: int,
        limiter: Limiter | None = None,
    ) -> Page[Backup]:
        """One page, newest first (TIMECREATED DESC)."""
        ops = _ops(kind)
        client = self.clients.blockstorage()
        got = self.retries.call(
            ops.list,
            getattr(client, f"list_{ops.method}s"),
            None,
            deadline,
            limiter=limiter,
            compartment_id=compartment_id,
            limit=limit,
            page=page,
            sort_by="TIMECREATED",
            sort_order="DESC",
        )
        items = [Backup.of(kind, _mapping(d)) for d in got.data or []]
        return Page(items, got.next_page or None)

    def get_source(
        self,
        kind: SourceKind,
        source_id: str,
        backup_id: str | None,
        deadline: Deadline,
        limiter: Limiter | None = None,
    ) -> Source | None:
        """The source, or None when it is gone (404): its backups outlive it."""
        operation, method, id_arg = _SOURCE_OPS[kind]
        if ocid_kind(source_id) != kind.ocid_type:
            return None  # an id from OCI that is not an OCID of the source's kind never becomes a path
        client = self.clients.blockstorage()
        try:
            got = self.retries.call(
                operation,
                getattr(client, method),
                backup_id,
                deadline,
                limiter=limiter,
                **_args(**{id_arg: source_id}),
            )
        except CallFailed as failure:
            if failure.status == 404:
                return None
            raise
        return Source.of(kind, _mapping(got.data))

    # -- compartments and regions -------------------------------------------------------------

    def list_compartments(
        self,
        compartment_id: str,
        deadline: Deadline,
        *,
        subtree: bool,
        page: str | None,
        limiter: Limiter | None = None,
    ) -> Page[Compartment]:
        """ACTIVE compartments: the children of compartment_id, or (subtree) every accessible one."""
        identity = self.clients.identity()
        extra: dict[str, Any] = (
            {"compartment_id_in_subtree": True, "access_level": "ACCESSIBLE"} if subtree else {}
        )
        got = self.retries.call(
            "ListCompartments",
            identity.list_compartments,
            None,
            deadline,
            limiter=limiter,
            page=page,
            compartment_id=compartment_id,
            lifecycle_state="ACTIVE",
            **extra,
        )
        items = [
            Compartment(str(c.get("id")), c.get("lifecycle_state")) for c in map(_mapping, got.data or [])
        ]
        return Page(items, got.next_page or None)

    def list_region_subscriptions(self, tenancy_id: str, deadline: Deadline) -> list[RegionSubscription]:
        identity = self.clients.identity()
        got = self.retries.call(
            "ListRegionSubscriptions",
            identity.list_region_subscriptions,
            None,
            deadline,
            tenancy_id=tenancy_id,
        )
        out = []
        for item in map(_mapping, got.data or []):
            name = item.get("region_name")
            if isinstance(name, str):
                out.append(RegionSubscription(name, item.get("status"), bool(item.get("is_home_region"))))
        return out

    def tenancy_id(self) -> str | None:
        return self.clients.tenancy_id()

    # -- the tag schema: one attempt each, the reader reports a failure ---------------------------

    def list_tag_namespaces(
        self, tenancy_id: str, deadline: Deadline, page: str | None
    ) -> Page[Mapping[str, Any]]:
        got = self.retries.call(
            "ListTagNamespaces",
            self.clients.identity().list_tag_namespaces,
            None,
            deadline,
            retry=False,
            compartment_id=tenancy_id,
            include_subcompartments=True,
            limit=1000,
            page=page,
        )
        return Page([_mapping(d) for d in got.data or []], got.next_page or None)

    def list_tags(self, namespace_id: str, deadline: Deadline, page: str | None) -> Page[Mapping[str, Any]]:
        got = self.retries.call(
            "ListTags",
            self.clients.identity().list_tags,
            None,
            deadline,
            retry=False,
            tag_namespace_id=namespace_id,
            limit=1000,
            page=page,
        )
        return Page([_mapping(d) for d in got.data or []], got.next_page or None)

    def get_tag(self, namespace_id: str, name: str, deadline: Deadline) -> Mapping[str, Any]:
        got = self.retries.call(
            "GetTag",
            self.clients.identity().get_tag,
            None,
            deadline,
            retry=False,
            tag_namespace_id=namespace_id,
            tag_name=name,
        )
        return _mapping(got.data)

    # -- the function's own calls: one attempt each, never holding the answer back ----------------

    def invoke_function(
        self, endpoint: str, function_id: str, body: bytes, deadline: Deadline, *, detached: bool
    ) -> Read[int]:
        """InvokeFunction; the value is the HTTP status (202 for a detached invoke)."""
        client = self.clients.functions_invoke(endpoint, INVOKE_CONNECT_SECONDS)
        got = self.retries.call(
            "InvokeFunction",
            client.invoke_function,
            None,
            deadline,
            retry=False,
            function_id=function_id,
            invoke_function_body=body,
            fn_invoke_type="detached" if detached else None,
        )
        return Read(int(got.status), None, got.request_id)

    def post_metric_data(
        self, metric_data: list[dict[str, Any]], deadline: Deadline
    ) -> Read[Mapping[str, Any]]:
        got = self.retries.call(
            "PostMetricData",
            self.clients.monitoring().post_metric_data,
            None,
            deadline,
            retry=False,
            post_metric_data_details={"metricData": metric_data},
        )
        return Read(_mapping(got.data), None, got.request_id)
