"""Naive baseline handler, written the way public OCI Functions samples are (for benchmarks only).

What makes it naive, on purpose: `import oci` at module top (all of it, eagerly touched via
`oci.core`), the signer and the client built inside every call, the volume group always fetched,
the PUT always sent (no etag check, no comparison with what the GET returned), SDK default retry
and circuit breaker. It computes the same name and tags as the default tag_policy.yaml does for
the sample backup, so both functions leave the backup in the same state.

OCI_CORE_ENDPOINT points the client at the emulator, as the real function's setting does.
"""

import json
import os

import oci
from fdk import response


def _config_and_signer():  # type: ignore[no-untyped-def]
    if os.environ.get("OCI_RESOURCE_PRINCIPAL_VERSION"):
        signer = oci.auth.signers.get_resource_principals_signer()
        return {"region": signer.region}, signer
    config = oci.config.from_file(os.environ.get("OCI_CONFIG_FILE", "~/.oci/config"))
    return config, None


def handler(ctx, data=None):  # type: ignore[no-untyped-def]
    body = json.loads(data.getvalue())
    backup_id = body.get("volumeGroupBackupId") or body["data"]["resourceId"]
    config, signer = _config_and_signer()
    kwargs = {"signer": signer} if signer else {}
    endpoint = os.environ.get("OCI_CORE_ENDPOINT")
    if endpoint:
        kwargs["service_endpoint"] = endpoint
    client = oci.core.BlockstorageClient(config, **kwargs)

    backup = client.get_volume_group_backup(backup_id).data
    group = client.get_volume_group(backup.volume_group_id).data
    name = "{}-{}-{}".format(
        group.display_name.lower().replace(" ", "-"),
        backup.type.lower(),
        backup.time_created.strftime("%Y%m%d-%H%M"),
    )
    tags = dict(group.freeform_tags or {})
    tags.update(backup.freeform_tags or {})
    tags.update(
        {
            "backup-kind": backup.source_type.lower(),
            "backup-type": backup.type.lower(),
            "source-volume-group": group.display_name,
        }
    )
    details = oci.core.models.UpdateVolumeGroupBackupDetails(
        display_name=name if backup.source_type == "SCHEDULED" else None,
        freeform_tags=tags,
    )
    updated = client.update_volume_group_backup(backup_id, details)
    return response.Response(
        ctx,
        response_data=json.dumps({"status": "updated", "opcRequestId": updated.request_id}),
        headers={"Content-Type": "application/json"},
    )
