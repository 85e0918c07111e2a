"""The lean clients send what the generated SDK clients send, and read answers into the same dicts."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import oci
import pytest
from oci.util import to_dict

from sync.cloud import lean, shapes
from sync.cloud.clients import Clients, OciSettings
from sync.emulator import ApiKey, EmulatorServer
from tests.emulator_fixtures import client_kwargs, oci_config

ROOT = Path(__file__).resolve().parents[1]
TENANCY = "ocid1.tenancy.oc1..aaaaaaaaexampletenancy0000000000000000000000000000000000000"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaprodcompartment000000000000000000000000000000000"
BACKUP_1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
VG_1 = "ocid1.volumegroup.oc1.iad.abuwcljrexamplevolumegroup000000000000000000000000000001"
NAMESPACE_ID = "ocid1.tagnamespace.oc1..aaaaaaaaexamplenamespace000000000000000000000000000000000"


class Wire:
    """Every request a client's requests.Session sends (a documented `response` hook, no patching)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[Any] = []
        client.base_client.session.hooks["response"].append(lambda r, *a, **k: self.sent.append(r.request))

    def last(self) -> dict[str, Any]:
        req = self.sent[-1]
        auth = req.headers["authorization"]
        signed = re.search(r'headers="([^"]*)"', auth)
        assert signed, "request not signed"
        body = req.body.encode() if isinstance(req.body, str) else req.body
        return {
            "method": req.method,
            "url": req.url,  # path and query, in order
            "body": body,
            "signed": set(signed.group(1).split()),
            "headers": {k.lower() for k in req.headers},
            "accept": req.headers.get("accept"),
            "content-type": req.headers.get("content-type"),
            "if-match": req.headers.get("if-match"),
            "if-none-match": req.headers.get("if-none-match"),
            "user-agent": req.headers.get("user-agent"),
        }


def pair(emulator: EmulatorServer, api_key: ApiKey, sdk_cls: Any, lean_cls: Any) -> tuple[Any, Any]:
    config = oci_config(api_key)
    sdk = sdk_cls(config, **client_kwargs(emulator.url))
    ours = lean_cls(config, sdk.base_client.signer, **client_kwargs(emulator.url))
    return sdk, ours


def same_request(sdk: Any, ours: Any, call: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Send call(client) through both; assert identical requests; return both answers (or errors)."""
    wires = Wire(sdk), Wire(ours)
    answers = []
    for client in (sdk, ours):
        try:
            answers.append(call(client))
        except oci.exceptions.ServiceError as exc:
            answers.append(exc)
    theirs, mine = (w.last() for w in wires)
    assert mine == theirs
    return answers[0], answers[1]


def same_data(theirs: Any, mine: Any) -> None:
    if isinstance(theirs, oci.exceptions.ServiceError):
        assert isinstance(mine, oci.exceptions.ServiceError)
        assert (mine.status, mine.code, mine.message) == (theirs.status, theirs.code, theirs.message)
        return
    assert mine.status == theirs.status
    assert mine.data == to_dict(theirs.data)
    assert mine.next_page == theirs.next_page


def test_block_storage_operations_send_what_the_sdk_sends(emulator: EmulatorServer, api_key: ApiKey) -> None:
    sdk, ours = pair(emulator, api_key, oci.core.BlockstorageClient, lean.LeanBlockstorage)
    calls: list[Callable[[Any], Any]] = [
        lambda c: c.get_volume_group_backup(BACKUP_1),
        lambda c: c.get_volume_group(VG_1),
        lambda c: c.get_volume_group_backup("ocid1.volumegroupbackup.oc1.iad.missing"),
        lambda c: c.list_volume_group_backups(COMPARTMENT),
        lambda c: c.list_volume_group_backups(
            COMPARTMENT, limit=2, page=None, sort_by="TIMECREATED", sort_order="DESC"
        ),
        lambda c: c.list_volume_group_backups(
            COMPARTMENT, volume_group_id=VG_1, display_name="x y/z", sort_by="DISPLAYNAME", sort_order="ASC"
        ),
    ]
    for call in calls:
        same_data(*same_request(sdk, ours, call))
    first = ours.list_volume_group_backups(COMPARTMENT, limit=2)
    assert first.next_page
    same_data(
        *same_request(sdk, ours, lambda c: c.list_volume_group_backups(COMPARTMENT, page=first.next_page))
    )


VOLUME_BACKUP = "ocid1.volumebackup.oc1.iad.abuwcljrexamplevolumebackup10000000000000000000000000000000001"
BOOT_BACKUP = "ocid1.bootvolumebackup.oc1.iad.abuwcljrexamplebootvolumebackup1000000000000000000000000000001"
VOLUME = "ocid1.volume.oc1.iad.abuwcljrexamplevolume0001"
BOOT_VOLUME = "ocid1.bootvolume.oc1.iad.abuwcljrexamplebootvolume0001"
PROD_DB = "ocid1.compartment.oc1..aaaaaaaaproddbcompartment00000000000000000000000000000000"


def test_volume_and_boot_volume_operations_send_what_the_sdk_sends(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    sdk, ours = pair(emulator, api_key, oci.core.BlockstorageClient, lean.LeanBlockstorage)
    calls: list[Callable[[Any], Any]] = [
        lambda c: c.get_volume_backup(VOLUME_BACKUP),
        lambda c: c.get_boot_volume_backup(BOOT_BACKUP),
        lambda c: c.get_volume(VOLUME),
        lambda c: c.get_boot_volume(BOOT_VOLUME),
        lambda c: c.get_volume_backup("ocid1.volumebackup.oc1.iad.missing"),
        lambda c: c.get_boot_volume_backup("ocid1.bootvolumebackup.oc1.iad.missing"),
        lambda c: c.get_volume("ocid1.volume.oc1.iad.missing"),
        lambda c: c.get_boot_volume("ocid1.bootvolume.oc1.iad.missing"),
        lambda c: c.list_volume_backups(PROD_DB),
        lambda c: c.list_volume_backups(PROD_DB, limit=2, sort_by="TIMECREATED", sort_order="DESC"),
        lambda c: c.list_volume_backups(
            PROD_DB, volume_id=VOLUME, display_name="x y/z", source_volume_backup_id=VOLUME_BACKUP,
            lifecycle_state="AVAILABLE", sort_by="DISPLAYNAME", sort_order="ASC",
        ),
        lambda c: c.list_boot_volume_backups(COMPARTMENT),
        lambda c: c.list_boot_volume_backups(COMPARTMENT, limit=1, sort_by="TIMECREATED", sort_order="DESC"),
        lambda c: c.list_boot_volume_backups(
            COMPARTMENT, boot_volume_id=BOOT_VOLUME, display_name="a", source_boot_volume_backup_id=BOOT_BACKUP,
            lifecycle_state="AVAILABLE",
        ),
    ]  # fmt: skip
    for call in calls:
        same_data(*same_request(sdk, ours, call))
    # Paginated: the next page's token is followed the same way.
    for lister, compartment in (("list_volume_backups", PROD_DB), ("list_boot_volume_backups", COMPARTMENT)):
        first = getattr(ours, lister)(compartment, limit=1)
        assert first.next_page, lister
        token = first.next_page
        same_data(
            *same_request(
                sdk, ours, lambda c, f=lister, cid=compartment, t=token: getattr(c, f)(cid, limit=1, page=t)
            )
        )


@pytest.mark.parametrize(
    ("backup_id", "operation", "model"),
    [
        (VOLUME_BACKUP, "update_volume_backup", "UpdateVolumeBackupDetails"),
        (BOOT_BACKUP, "update_boot_volume_backup", "UpdateBootVolumeBackupDetails"),
    ],
)
def test_volume_and_boot_volume_backup_updates_send_the_same_bytes(
    emulator: EmulatorServer, api_key: ApiKey, backup_id: str, operation: str, model: str
) -> None:
    sdk, ours = pair(emulator, api_key, oci.core.BlockstorageClient, lean.LeanBlockstorage)
    body = {
        "definedTags": {"Operations": {"CostCenter": "cc-1"}},
        "displayName": "n",
        "freeformTags": {"x": "é"},
    }
    details = getattr(oci.core.models, model)(
        display_name=body["displayName"], freeform_tags=body["freeformTags"], defined_tags=body["definedTags"]
    )
    getter = operation.replace("update_", "get_")
    etag = getattr(ours, getter)(backup_id).headers["etag"]

    def update(client: Any) -> Any:
        # The same etag for both: the first PUT lands, the second answers 412; both are compared.
        return getattr(client, operation)(backup_id, details if client is sdk else body, if_match=etag)

    theirs, mine = same_request(sdk, ours, update)
    assert not isinstance(theirs, Exception)
    assert isinstance(mine, oci.exceptions.ServiceError) and mine.status == 412
    # And a fresh etag: the lean client's answer reads as the SDK's model.
    etag = getattr(ours, getter)(backup_id).headers["etag"]
    fresh = getattr(ours, operation)(backup_id, {"freeformTags": {"y": "z"}}, if_match=etag)
    assert fresh.data["freeform_tags"] == {"y": "z"}
    same_data(*same_request(sdk, ours, lambda c: getattr(c, getter)(backup_id)))


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "renamed"},
        {"freeformTags": {"a": "b", "note": '✓ é "q"'}},
        {
            "definedTags": {"Operations": {"CostCenter": "cc-1"}},
            "displayName": "n",
            "freeformTags": {"x": "y"},
        },
    ],
)
def test_update_sends_the_same_body_bytes(
    emulator: EmulatorServer, api_key: ApiKey, body: dict[str, Any]
) -> None:
    sdk, ours = pair(emulator, api_key, oci.core.BlockstorageClient, lean.LeanBlockstorage)
    details = oci.core.models.UpdateVolumeGroupBackupDetails(
        display_name=body.get("displayName"),
        freeform_tags=body.get("freeformTags"),
        defined_tags=body.get("definedTags"),
    )
    etag = ours.get_volume_group_backup(BACKUP_1).headers["etag"]

    def update(client: Any) -> Any:
        # The same etag for both: the first PUT lands, the second answers 412; both are compared.
        given = details if client is sdk else body
        return client.update_volume_group_backup(BACKUP_1, given, if_match=etag)

    theirs, mine = same_request(sdk, ours, update)
    assert not isinstance(theirs, Exception)
    assert isinstance(mine, oci.exceptions.ServiceError) and mine.status == 412


def test_identity_operations_send_what_the_sdk_sends(emulator: EmulatorServer, api_key: ApiKey) -> None:
    sdk, ours = pair(emulator, api_key, oci.identity.IdentityClient, lean.LeanIdentity)
    calls: list[Callable[[Any], Any]] = [
        lambda c: c.list_compartments(TENANCY),
        lambda c: c.list_compartments(
            TENANCY, compartment_id_in_subtree=True, access_level="ACCESSIBLE", lifecycle_state="ACTIVE"
        ),
        lambda c: c.list_compartments(COMPARTMENT, lifecycle_state="ACTIVE", limit=1, name="db"),
        # Served or not by this emulator, the requests themselves must be the SDK's.
        lambda c: c.get_tag(NAMESPACE_ID, "CostCenter"),
        lambda c: c.list_tag_namespaces(TENANCY, include_subcompartments=True, lifecycle_state="ACTIVE"),
        lambda c: c.list_tag_namespaces(COMPARTMENT),
        lambda c: c.list_tags(NAMESPACE_ID, limit=100, lifecycle_state="ACTIVE"),
        lambda c: c.list_region_subscriptions(TENANCY),
    ]
    for call in calls:
        same_data(*same_request(sdk, ours, call))


def test_get_object_sends_what_the_sdk_sends(emulator: EmulatorServer, api_key: ApiKey) -> None:
    sdk, ours = pair(emulator, api_key, oci.object_storage.ObjectStorageClient, lean.LeanObjectStorage)
    theirs, mine = same_request(
        sdk, ours, lambda c: c.get_object("examplens", "tag-policies", "tag_policy.yaml")
    )
    assert mine.data.content == theirs.data.content and mine.headers["etag"] == theirs.headers["etag"]
    etag = mine.headers["etag"]
    calls: list[Callable[[Any], Any]] = [
        lambda c: c.get_object("examplens", "tag-policies", "tag_policy.yaml", if_none_match=etag),
        lambda c: c.get_object("examplens", "tag-policies", "teams/a b/ü.yaml"),
    ]
    for call in calls:
        theirs, mine = same_request(sdk, ours, call)
        assert type(theirs) is type(mine)


def test_answers_read_like_the_sdk_models_to_dict() -> None:
    """Edge cases of api_dict against the real SDK deserializer and to_dict, without a server."""
    base = oci.core.BlockstorageClient(
        {"region": "us-ashburn-1"}, signer=oci.auth.signers.InstancePrincipalsSecurityTokenSigner.__new__(
            oci.auth.signers.InstancePrincipalsSecurityTokenSigner
        ), service_endpoint="http://127.0.0.1:9",
    ).base_client  # fmt: skip
    samples: list[tuple[str, dict[str, Any]]] = [
        (
            "VolumeGroup",
            {"sourceDetails": {"type": "volumeIds", "volumeIds": ["v"]}, "lifecycleState": "AVAILABLE"},
        ),
        ("VolumeGroup", {"sourceDetails": {"type": "volumeGroupBackupId", "volumeGroupBackupId": "b"}}),
        ("VolumeGroup", {"volumeGroupReplicas": [{"displayName": "r", "kmsKeyId": "k"}], "isHydrated": 1}),
        (
            "Tag",
            {"validator": {"validatorType": "ENUM", "values": ["a"]}, "timeCreated": "2026-01-02T03:04:05Z"},
        ),
        ("TagNamespaceSummary", {"locks": [{"type": "FULL", "timeCreated": "2026-01-02T03:04:05.1Z"}]}),
        ("RegionSubscription", {"regionKey": "IAD", "status": "READY", "isHomeRegion": True}),
        ("Compartment", {"lifecycleState": "ACTIVE", "inactiveStatus": 3, "name": "n"}),
    ]
    samples += [("VolumeGroupBackup", s) for s in [
        {"id": "x", "lifecycleState": "NEW_STATE", "timeCreated": "2026-01-02T03:04:05.678Z", "extra": 1},
        {"timeCreated": "2026-01-02T03:04:05+02:00", "sizeInGBs": "12", "type": "FULL", "sourceType": None},
        {"freeformTags": {"camelCase": "kept"}, "definedTags": {"Ns": {"keyName": 1}}, "volumeBackupIds": ["a"]},
        {"retentionPeriod": {"timeAmount": 3, "timeUnit": "DAYS"}, "isRetentionLockEnabled": True},
        {"retentionPeriod": {"retentionTimeAmount": 3, "retentionTimeUnit": "DAYS"}},
        {},
    ]]  # fmt: skip
    samples += [("Volume", s) for s in [
        {"sourceDetails": {"type": "volumeBackup", "id": "b"}, "vpusPerGB": 10, "lifecycleState": "RESTORING"},
        {"sourceDetails": {"type": "volumeBackupDelta", "firstBackupId": "a", "changeBlockSizeInBytes": 4096}},
        {"sourceDetails": {"type": "somethingNew", "id": "x"}, "lifecycleState": "NEW"},
        {"blockVolumeReplicas": [{"displayName": "r", "blockVolumeReplicaId": "i"}], "isReservationsEnabled": 1},
        {"autotunePolicies": [{"autotuneType": "PERFORMANCE_BASED", "maxVpusPerGB": 30},
                              {"autotuneType": "DETACHED_VOLUME"}], "systemTags": {"orcl": {"k": 1}}},
    ]]  # fmt: skip
    samples += [("BootVolume", s) for s in [
        {"sourceDetails": {"type": "bootVolumeReplica", "id": "r"}, "imageId": "i", "volumeGroupId": "g"},
        {"sourceDetails": {"type": "bootVolumeBackupDelta", "secondBackupId": "b"}},
        {"bootVolumeReplicas": [{"bootVolumeReplicaId": "x", "kmsKeyId": "k"}], "autoTunedVpusPerGB": "20"},
    ]]  # fmt: skip
    samples += [("VolumeBackup", s) for s in [
        {"lifecycleState": "REQUEST_RECEIVED", "volumeGroupBackupId": "g", "uniqueSizeInGBs": 2, "type": "X"},
        {"retentionPeriod": {"retentionTimeAmount": 3, "retentionTimeUnit": "YEARS"}, "sourceType": "MANUAL"},
    ]]  # fmt: skip
    samples += [("BootVolumeBackup", s) for s in [
        {"lifecycleState": "CREATING", "bootVolumeId": "b", "imageId": "i", "timeCreated": "2026-01-02T03:04Z"},
        {"systemTags": {"a": {"b": "c"}}, "sourceBootVolumeBackupId": "s", "expirationTime": None},
    ]]  # fmt: skip
    import json

    identity = oci.identity.IdentityClient(
        {"region": "us-ashburn-1"}, signer=base.signer, service_endpoint="http://127.0.0.1:9"
    ).base_client
    for shape, sample in samples:
        client = (
            identity if shape in ("Tag", "TagNamespaceSummary", "RegionSubscription", "Compartment") else base
        )
        model = client.deserialize_response_data(json.dumps(sample).encode(), shape)
        assert shapes.api_dict(shape, sample) == to_dict(model), (shape, sample)


def test_the_tables_match_the_pinned_sdk() -> None:
    """Fails loudly when the SDK's models or the BaseClient internals the lean clients use change."""
    assert oci.__version__ == "2.189.0"
    assert "oci==2.189.0" in (ROOT / "requirements.txt").read_text()
    models = {
        name: getattr(oci.core.models, name, None) or getattr(oci.identity.models, name)
        for name in shapes.SHAPES
    }
    for name, cls in models.items():
        model = cls()
        table = {f[1]: f for f in shapes.SHAPES[name]}
        assert list(table) == list(model.swagger_types), name
        for attr, kind in model.swagger_types.items():
            assert table[attr][0] == model.attribute_map[attr], (name, attr)
            if kind in ("str", "int", "bool", "float", "datetime"):
                assert table[attr][2] == kind, (name, attr)
            elif kind.removeprefix("list[").removesuffix("]") in models:
                assert table[attr][2].split(":")[1] == kind.removeprefix("list[").removesuffix("]")
            else:
                assert table[attr][2] == "raw", (name, attr)
        for base_name, (key, subtypes) in shapes.SUBTYPES.items():
            for value, sub in subtypes.items():
                assert models[base_name].get_subtype({key: value}) == sub
    params = inspect.signature(oci.base_client.BaseClient.call_api).parameters
    for used in ("resource_path", "method", "path_params", "query_params", "header_params", "body"):
        assert used in params
    for used in ("response_type", "operation_name", "api_reference_link", "required_arguments"):
        assert used in params
    # The per-call timeout cap works because BaseClient.request reads self.timeout on each call.
    assert "timeout=self.timeout" in inspect.getsource(oci.base_client.BaseClient.request)


def test_timeouts_are_capped_per_thread(emulator: EmulatorServer, api_key: ApiKey) -> None:
    import threading

    clients = Clients(OciSettings.from_env(emulator.client_env(api_key)))
    base = clients.blockstorage().base_client
    default = base.timeout
    seen: dict[str, Any] = {}

    def other() -> None:
        seen["other"] = base.timeout

    with lean.bounded(lambda: 1.5):
        assert base.timeout == (min(default[0], 1.5), 1.5)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen["other"] == default
    assert base.timeout == default


def test_the_event_path_does_not_import_oci_core(emulator: EmulatorServer, api_key: ApiKey) -> None:
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from sync.function.handler import App\n"
        "import os\n"
        "app = App(os.environ)\n"
        "status, answer = app.handle(json.dumps({'volumeGroupBackupId': sys.argv[1]}).encode(), 'c', None)\n"
        # `import oci` itself loads oci.pagination (and through it dns and object_storage) and the
        # PKCS#11 signer: nothing of ours patches the SDK's imports to defer them (issue 18).
        "prefixes = ('oci.core', 'oci.identity', 'oci.functions', 'oci.monitoring')\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(prefixes))\n"
        "print(json.dumps({'status': status, 'answer': answer['status'], 'heavy': heavy}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", **emulator.client_env(api_key)}
    out = subprocess.run(
        [sys.executable, "-c", code, BACKUP_1], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "answer": "updated", "heavy": []}


def test_post_metric_data_sends_what_the_sdk_sends(emulator: EmulatorServer, api_key: ApiKey) -> None:
    from datetime import UTC, datetime

    from oci.monitoring import MonitoringClient
    from oci.monitoring.models import Datapoint, MetricDataDetails, PostMetricDataDetails

    from sync.function.metrics import metric_data

    data = metric_data({"updated": 2, "failed": 1}, COMPARTMENT, "backup-tag-sync", datetime.now(UTC))
    details = PostMetricDataDetails(
        metric_data=[
            MetricDataDetails(
                namespace=d["namespace"],
                compartment_id=d["compartmentId"],
                name=d["name"],
                dimensions=d["dimensions"],
                metadata=d.get("metadata"),
                datapoints=[Datapoint(timestamp=p["timestamp"], value=p["value"]) for p in d["datapoints"]],
            )
            for d in data
        ]
    )
    sdk, ours = pair(emulator, api_key, MonitoringClient, lean.LeanMonitoring)
    theirs, mine = same_request(
        sdk, ours, lambda c: c.post_metric_data(details if c is sdk else {"metricData": data})
    )
    # The answer stays the service's JSON (camelCase): metrics.py reads failedMetricsCount.
    assert mine.status == theirs.status == 200
    assert mine.data["failedMetricsCount"] == theirs.data.failed_metrics_count == 0


def test_invoke_function_sends_what_the_sdk_sends(emulator: EmulatorServer, api_key: ApiKey) -> None:
    from oci.functions import FunctionsInvokeClient

    function_id = "ocid1.fnfunc.oc1.iad.aaaaaaaaexamplefunction000000000000000000000000000000000"
    emulator.backend.functions.register_function(function_id)
    sdk, ours = pair(emulator, api_key, FunctionsInvokeClient, lean.LeanFunctionsInvoke)
    body = b'{"sweep": {"compartmentId": "x", "page": "t\\u00e9"}}'
    theirs, mine = same_request(
        sdk,
        ours,
        lambda c: c.invoke_function(function_id, invoke_function_body=body, fn_invoke_type="detached"),
    )
    assert mine.status == theirs.status == 202
    assert mine.request_id and theirs.request_id
    theirs, mine = same_request(
        sdk, ours, lambda c: c.invoke_function("ocid1.fnfunc.oc1.iad.missing", invoke_function_body=body)
    )
    assert isinstance(mine, oci.exceptions.ServiceError) and (mine.status, mine.code) == (
        theirs.status,
        theirs.code,
    )


def test_required_arguments_are_the_generated_clients(emulator: EmulatorServer, api_key: ApiKey) -> None:
    # The generated clients pass required_arguments to call_api (endpoint templates read them):
    # each lean operation passes the same list.
    import oci.functions.functions_invoke_client as invoke_module

    sources = {
        "blockstorage": inspect.getsource(oci.core.blockstorage_client),
        "identity": inspect.getsource(oci.identity.identity_client),
        "object_storage": inspect.getsource(oci.object_storage.object_storage_client),
        "monitoring": inspect.getsource(oci.monitoring.monitoring_client),
        "functions": inspect.getsource(invoke_module),
    }
    for operation, (_, required) in lean._OPERATIONS.items():
        found = [
            re.search(r"required_arguments = (\[[^\]]*\])", src[src.index(f"def {operation}(") :])
            for src in sources.values()
            if f"def {operation}(" in src
        ]
        assert found and found[0], operation
        assert list(required) == eval(found[0].group(1)), operation  # noqa: S307 (a list of names)
