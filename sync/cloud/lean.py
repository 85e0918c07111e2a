"""Lean Block Storage, Identity and Object Storage clients on the SDK's own BaseClient.

Why: `oci.core` imports about a thousand generated models (~120 ms, ~22 MB) for the three the
event path reads. These clients build each request as the generated client does (same path,
query order, headers and JSON body) and hand it to the SDK's `BaseClient.call_api`, so
signing, endpoint resolution (regions, realms), user agent, opc-request-id and `ServiceError`
are the SDK's. Answers come back as `oci.response.Response` whose data are plain dicts in
`oci.util.to_dict` shape (sync/cloud/shapes.py). tests/test_lean_clients.py proves each
operation sends what the generated client sends, and fails loudly if the SDK internals used
here (BaseClient.call_api's parameters, `timeout=self.timeout` in BaseClient.request) change.

Each call's (connect, read) timeout and its total time are capped by the caller's time left, per
thread: `bounded(deadline)` sets it for calls made by this thread only, so sweep threads sharing a
client never see each other's budgets.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from oci.base_client import BaseClient
from oci.exceptions import ServiceError

from sync.cloud.sessions import cache_environment
from sync.cloud.shapes import api_dict
from sync.cloud.transport import bounded as bounded  # callers bound their calls with it
from sync.cloud.transport import mount_capped, time_left


class _Base(BaseClient):  # type: ignore[misc]
    """BaseClient whose `timeout` (read by BaseClient.request for each call) is capped per thread.

    Its session's connections also cap each call's total time, reads included (sync/cloud/transport.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mount_capped(self.session)

    @property
    def timeout(self) -> tuple[float, float]:
        connect, read = self._default_timeout
        remaining = time_left()
        if remaining is None:
            return connect, read
        left = max(0.001, remaining())
        return min(connect, left), min(read, left)

    @timeout.setter
    def timeout(self, value: tuple[float, float]) -> None:
        self._default_timeout = value


# operation -> (API reference page, the arguments the generated client lists as required_arguments).
_OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "get_volume_group_backup": (
        "iaas/20160918/VolumeGroupBackup/GetVolumeGroupBackup",
        ("volumeGroupBackupId",),
    ),
    "update_volume_group_backup": (
        "iaas/20160918/VolumeGroupBackup/UpdateVolumeGroupBackup",
        ("volumeGroupBackupId",),
    ),
    "list_volume_group_backups": (
        "iaas/20160918/VolumeGroupBackup/ListVolumeGroupBackups",
        ("compartmentId",),
    ),
    "get_volume_group": ("iaas/20160918/VolumeGroup/GetVolumeGroup", ("volumeGroupId",)),
    "get_volume_backup": ("iaas/20160918/VolumeBackup/GetVolumeBackup", ("volumeBackupId",)),
    "update_volume_backup": ("iaas/20160918/VolumeBackup/UpdateVolumeBackup", ("volumeBackupId",)),
    "list_volume_backups": ("iaas/20160918/VolumeBackup/ListVolumeBackups", ("compartmentId",)),
    "get_boot_volume_backup": (
        "iaas/20160918/BootVolumeBackup/GetBootVolumeBackup",
        ("bootVolumeBackupId",),
    ),
    "update_boot_volume_backup": (
        "iaas/20160918/BootVolumeBackup/UpdateBootVolumeBackup",
        ("bootVolumeBackupId",),
    ),
    "list_boot_volume_backups": (
        "iaas/20160918/BootVolumeBackup/ListBootVolumeBackups",
        ("compartmentId",),
    ),
    "get_volume": ("iaas/20160918/Volume/GetVolume", ("volumeId",)),
    "get_boot_volume": ("iaas/20160918/BootVolume/GetBootVolume", ("bootVolumeId",)),
    "list_compartments": ("identity/20160918/Compartment/ListCompartments", ("compartmentId",)),
    "get_tag": ("identity/20160918/Tag/GetTag", ("tagNamespaceId", "tagName")),
    "list_tag_namespaces": ("identity/20160918/TagNamespaceSummary/ListTagNamespaces", ("compartmentId",)),
    "list_tags": ("identity/20160918/TagSummary/ListTags", ("tagNamespaceId",)),
    "list_region_subscriptions": (
        "identity/20160918/RegionSubscription/ListRegionSubscriptions",
        ("tenancyId",),
    ),
    "get_object": (
        "objectstorage/20160918/Object/GetObject",
        ("namespaceName", "bucketName", "objectName"),
    ),
    "post_metric_data": ("monitoring/20180401/MetricData/PostMetricData", ()),
    "invoke_function": ("functions/20260325/Function/InvokeFunction", ("functionId",)),
}

_JSON = {"accept": "application/json", "content-type": "application/json"}


class _Lean:
    service: ClassVar[str] = ""
    init: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: dict[str, Any], signer: Any, **kwargs: Any) -> None:
        options = {
            **self.init,
            "service_endpoint": kwargs.get("service_endpoint"),
            "skip_deserialization": False,
        }
        options["circuit_breaker_strategy"] = kwargs.get("circuit_breaker_strategy")
        if "timeout" in kwargs:
            options["timeout"] = kwargs["timeout"]
        self.base_client = _Base(self.service, config, signer, {}, **options)
        cache_environment(self.base_client.session)

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        path_params: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        body: Any = None,
        response_type: str = "object",
        accept: dict[str, str] = _JSON,
    ) -> Any:
        link, required = _OPERATIONS[operation]
        for name, value in (path_params or {}).items():
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValueError(f"Parameter {name} cannot be None, whitespace or empty string")
        got = self.base_client.call_api(
            resource_path=path,
            method=method,
            path_params=path_params,
            query_params={k: v for k, v in (query or {}).items() if v is not None} or None,
            header_params={k: v for k, v in {**accept, **(headers or {})}.items() if v is not None},
            body=body,
            response_type=response_type,
            operation_name=operation,
            api_reference_link=f"https://docs.oracle.com/iaas/api/#/en/{link}",
            # As the generated client lists them; only endpoint templates read them.
            required_arguments=list(required),
        )
        if response_type == "object" and isinstance(got.data, str):
            refuse_non_json(self.service, self.base_client.endpoint, operation, got)
        return got


_warned: set[tuple[str, str]] = set()


def refuse_non_json(service: str, endpoint: str, operation: str, got: Any) -> None:
    """A 2xx whose body is not JSON (a proxy's or captive portal's HTML page): warned once per
    endpoint, and failed, so no empty list or blank resource is read from it."""
    kind = str(got.headers.get("content-type") or "no content type")[:80]
    if (service, endpoint) not in _warned:
        _warned.add((service, endpoint))
        logging.getLogger("sync.cloud.lean").warning(
            f"{service} at {endpoint} answered {got.status} with {kind}, not JSON: is the endpoint"
            " (or a proxy in front of it) the OCI API? Calls to it fail until it answers JSON",
            extra={"operation": operation, "opc_request_id": got.headers.get("opc-request-id")},
        )
    raise ServiceError(
        got.status, "NotJson", got.headers, f"answered {got.status} with {kind}, not JSON",
        operation_name=operation,
    )  # fmt: skip


def _shaped(response: Any, shape: str) -> Any:
    data = response.data
    response.data = [api_dict(shape, d) for d in data] if isinstance(data, list) else api_dict(shape, data)
    return response


def _update_body(details: dict[str, Any]) -> dict[str, Any]:
    """An Update*BackupDetails body: the generated models serialize their set fields in this order."""
    return {
        k: details[k] for k in ("definedTags", "displayName", "freeformTags") if details.get(k) is not None
    }


class LeanBlockstorage(_Lean):
    """Get, update and list the three kinds of backup; get their sources (BlockstorageClient's names)."""

    service = "blockstorage"
    init: ClassVar[dict[str, Any]] = {
        "regional_client": True,
        "base_path": "/20160918",
        "service_endpoint_template": "https://iaas.{region}.{dualStack?ds.oci.:}{secondLevelDomain}",
        "endpoint_service_name": "iaas",
        "service_endpoint_template_per_realm": {},
        "service_uses_dualstack_endpoints_by_default": False,
    }

    def get_volume_group_backup(self, volume_group_backup_id: str) -> Any:
        p = {"volumeGroupBackupId": volume_group_backup_id}
        got = self._call("get_volume_group_backup", "GET", "/volumeGroupBackups/{volumeGroupBackupId}", p)
        return _shaped(got, "VolumeGroupBackup")

    def update_volume_group_backup(
        self,
        volume_group_backup_id: str,
        update_volume_group_backup_details: dict[str, Any],
        if_match: str | None = None,
    ) -> Any:
        p = {"volumeGroupBackupId": volume_group_backup_id}
        got = self._call(
            "update_volume_group_backup", "PUT", "/volumeGroupBackups/{volumeGroupBackupId}", p,
            headers={"if-match": if_match}, body=_update_body(update_volume_group_backup_details),
        )  # fmt: skip
        return _shaped(got, "VolumeGroupBackup")

    def list_volume_group_backups(
        self,
        compartment_id: str,
        volume_group_id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        display_name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> Any:
        query = {
            "compartmentId": compartment_id, "volumeGroupId": volume_group_id, "limit": limit, "page": page,
            "displayName": display_name, "sortBy": sort_by, "sortOrder": sort_order,
        }  # fmt: skip
        return _shaped(
            self._call("list_volume_group_backups", "GET", "/volumeGroupBackups", query=query),
            "VolumeGroupBackup",
        )

    def get_volume_group(self, volume_group_id: str) -> Any:
        p = {"volumeGroupId": volume_group_id}
        return _shaped(
            self._call("get_volume_group", "GET", "/volumeGroups/{volumeGroupId}", p), "VolumeGroup"
        )

    def get_volume_backup(self, volume_backup_id: str) -> Any:
        p = {"volumeBackupId": volume_backup_id}
        got = self._call("get_volume_backup", "GET", "/volumeBackups/{volumeBackupId}", p)
        return _shaped(got, "VolumeBackup")

    def update_volume_backup(
        self, volume_backup_id: str, update_volume_backup_details: dict[str, Any], if_match: str | None = None
    ) -> Any:
        p = {"volumeBackupId": volume_backup_id}
        got = self._call(
            "update_volume_backup", "PUT", "/volumeBackups/{volumeBackupId}", p,
            headers={"if-match": if_match}, body=_update_body(update_volume_backup_details),
        )  # fmt: skip
        return _shaped(got, "VolumeBackup")

    def list_volume_backups(
        self,
        compartment_id: str,
        volume_id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        display_name: str | None = None,
        source_volume_backup_id: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        lifecycle_state: str | None = None,
    ) -> Any:
        query = {
            "compartmentId": compartment_id, "volumeId": volume_id, "limit": limit, "page": page,
            "displayName": display_name, "sourceVolumeBackupId": source_volume_backup_id,
            "sortBy": sort_by, "sortOrder": sort_order, "lifecycleState": lifecycle_state,
        }  # fmt: skip
        return _shaped(
            self._call("list_volume_backups", "GET", "/volumeBackups", query=query), "VolumeBackup"
        )

    def get_boot_volume_backup(self, boot_volume_backup_id: str) -> Any:
        p = {"bootVolumeBackupId": boot_volume_backup_id}
        got = self._call("get_boot_volume_backup", "GET", "/bootVolumeBackups/{bootVolumeBackupId}", p)
        return _shaped(got, "BootVolumeBackup")

    def update_boot_volume_backup(
        self,
        boot_volume_backup_id: str,
        update_boot_volume_backup_details: dict[str, Any],
        if_match: str | None = None,
    ) -> Any:
        p = {"bootVolumeBackupId": boot_volume_backup_id}
        got = self._call(
            "update_boot_volume_backup", "PUT", "/bootVolumeBackups/{bootVolumeBackupId}", p,
            headers={"if-match": if_match}, body=_update_body(update_boot_volume_backup_details),
        )  # fmt: skip
        return _shaped(got, "BootVolumeBackup")

    def list_boot_volume_backups(
        self,
        compartment_id: str,
        boot_volume_id: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        display_name: str | None = None,
        source_boot_volume_backup_id: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        lifecycle_state: str | None = None,
    ) -> Any:
        query = {
            "compartmentId": compartment_id, "bootVolumeId": boot_volume_id, "limit": limit, "page": page,
            "displayName": display_name, "sourceBootVolumeBackupId": source_boot_volume_backup_id,
            "sortBy": sort_by, "sortOrder": sort_order, "lifecycleState": lifecycle_state,
        }  # fmt: skip
        got = self._call("list_boot_volume_backups", "GET", "/bootVolumeBackups", query=query)
        return _shaped(got, "BootVolumeBackup")

    def get_volume(self, volume_id: str) -> Any:
        p = {"volumeId": volume_id}
        return _shaped(self._call("get_volume", "GET", "/volumes/{volumeId}", p), "Volume")

    def get_boot_volume(self, boot_volume_id: str) -> Any:
        p = {"bootVolumeId": boot_volume_id}
        return _shaped(self._call("get_boot_volume", "GET", "/bootVolumes/{bootVolumeId}", p), "BootVolume")


class LeanIdentity(_Lean):
    """Compartments, tag namespaces and tags, region subscriptions (IdentityClient's names)."""

    service = "identity"
    init: ClassVar[dict[str, Any]] = {
        "regional_client": True,
        "base_path": "/20160918",
        "service_endpoint_template": "https://identity.{region}.oci.{secondLevelDomain}",
        "service_endpoint_template_per_realm": {},
        "service_uses_dualstack_endpoints_by_default": False,
    }

    def list_compartments(
        self,
        compartment_id: str,
        page: str | None = None,
        limit: int | None = None,
        access_level: str | None = None,
        compartment_id_in_subtree: bool | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        lifecycle_state: str | None = None,
    ) -> Any:
        query = {
            "compartmentId": compartment_id, "page": page, "limit": limit, "accessLevel": access_level,
            "compartmentIdInSubtree": compartment_id_in_subtree, "name": name, "sortBy": sort_by,
            "sortOrder": sort_order, "lifecycleState": lifecycle_state,
        }  # fmt: skip
        return _shaped(self._call("list_compartments", "GET", "/compartments", query=query), "Compartment")

    def get_tag(self, tag_namespace_id: str, tag_name: str) -> Any:
        p = {"tagNamespaceId": tag_namespace_id, "tagName": tag_name}
        return _shaped(
            self._call("get_tag", "GET", "/tagNamespaces/{tagNamespaceId}/tags/{tagName}", p), "Tag"
        )

    def list_tag_namespaces(
        self,
        compartment_id: str,
        page: str | None = None,
        limit: int | None = None,
        include_subcompartments: bool | None = None,
        lifecycle_state: str | None = None,
    ) -> Any:
        query = {
            "compartmentId": compartment_id, "page": page, "limit": limit,
            "includeSubcompartments": include_subcompartments, "lifecycleState": lifecycle_state,
        }  # fmt: skip
        return _shaped(
            self._call("list_tag_namespaces", "GET", "/tagNamespaces", query=query), "TagNamespaceSummary"
        )

    def list_tags(
        self,
        tag_namespace_id: str,
        page: str | None = None,
        limit: int | None = None,
        lifecycle_state: str | None = None,
    ) -> Any:
        p = {"tagNamespaceId": tag_namespace_id}
        query = {"page": page, "limit": limit, "lifecycleState": lifecycle_state}
        got = self._call("list_tags", "GET", "/tagNamespaces/{tagNamespaceId}/tags", p, query)
        return _shaped(got, "TagSummary")

    def list_region_subscriptions(self, tenancy_id: str) -> Any:
        p = {"tenancyId": tenancy_id}
        got = self._call("list_region_subscriptions", "GET", "/tenancies/{tenancyId}/regionSubscriptions", p)
        return _shaped(got, "RegionSubscription")


class LeanObjectStorage(_Lean):
    """GetObject (ObjectStorageClient's name); data is the streamed requests.Response, as in the SDK."""

    service = "object_storage"
    init: ClassVar[dict[str, Any]] = {
        "regional_client": True,
        "base_path": "/",
        "service_endpoint_template": "https://objectstorage.{region}.{dualStack?ds.oci.:}{secondLevelDomain}",
        "endpoint_service_name": "objectstorage",
        "service_endpoint_template_per_realm": {
            "oc1": "https://{namespaceName+Dot}objectstorage.{region}.{dualStack?ds.:}oci.customer-oci.com"
        },
        "service_uses_dualstack_endpoints_by_default": False,
    }

    def get_object(
        self, namespace_name: str, bucket_name: str, object_name: str, if_none_match: str | None = None
    ) -> Any:
        p = {"namespaceName": namespace_name, "bucketName": bucket_name, "objectName": object_name}
        return self._call(
            "get_object", "GET", "/n/{namespaceName}/b/{bucketName}/o/{objectName}", p,
            headers={"if-none-match": if_none_match}, response_type="stream",
        )  # fmt: skip


class LeanMonitoring(_Lean):
    """post_metric_data (MonitoringClient's name), on the host PostMetricData is served from.

    The SDK's MonitoringClient defaults to telemetry.<region>; its post_metric_data docstring says
    to "Replace the string `telemetry` with `telemetry-ingestion` in the endpoint".
    """

    service = "monitoring"
    init: ClassVar[dict[str, Any]] = {
        "regional_client": True,
        "base_path": "/20180401",
        "service_endpoint_template": "https://telemetry-ingestion.{region}.{secondLevelDomain}",
        "service_endpoint_template_per_realm": {},
    }

    def post_metric_data(self, post_metric_data_details: dict[str, Any]) -> Any:
        """The body as JSON (camelCase); the answer is the service's JSON dict, not reshaped."""
        return self._call("post_metric_data", "POST", "/metrics", body=post_metric_data_details)


class LeanFunctionsInvoke(_Lean):
    """invoke_function (FunctionsInvokeClient's name) on a function's own invoke endpoint."""

    service = "functions"
    init: ClassVar[dict[str, Any]] = {
        "regional_client": True,
        "base_path": "/20260325",
        "service_endpoint_template": "https://functions.{region}.oci.{secondLevelDomain}",
        "service_endpoint_template_per_realm": {},
        "service_uses_dualstack_endpoints_by_default": False,
    }

    def invoke_function(
        self, function_id: str, invoke_function_body: bytes, fn_invoke_type: str | None = None
    ) -> Any:
        """The body as given (bytes); the answer's data is the streamed requests.Response, as in the SDK."""
        p = {"functionId": function_id}
        return self._call(
            "invoke_function", "POST", "/functions/{functionId}/actions/invoke", p,
            headers={"fn-invoke-type": fn_invoke_type}, body=invoke_function_body, response_type="stream",
            accept={"accept": "*/*"},
        )  # fmt: skip
