"""Request signatures: what the emulator accepts and every way it answers 401."""

from __future__ import annotations

import email.utils
import json
import time
from pathlib import Path
from typing import Any

import oci
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sync.emulator import ApiKey, EmulatorServer, SignatureVerifier, generate_api_key
from sync.emulator.signing import fingerprint_of
from tests.emulator_fixtures import client_kwargs, raw, signed_headers

B1 = "ocid1.volumegroupbackup.oc1.iad.abuwcljrexamplebackup00000000000000000000000000000000001"
PATH = f"/20160918/volumeGroupBackups/{B1}"


def assert_401(status: int, headers: dict[str, str], body: bytes, secret: str = "") -> str:
    assert status == 401
    assert headers["opc-request-id"]
    payload = json.loads(body)
    assert payload["code"] == "NotAuthenticated"
    if secret:
        assert secret not in body.decode()
    return str(payload["message"])


def test_sdk_signature_is_accepted_and_records_no_credentials(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    headers = signed_headers(api_key, emulator, "GET", PATH)
    status, _, _ = raw(emulator, "GET", PATH, headers=headers)
    assert status == 200
    dumped = json.dumps([r.to_dict() for r in emulator.backend.log.requests()])
    assert headers["authorization"].split('signature="')[1][:40] not in dumped


def test_missing_authorization_header_is_401(emulator: EmulatorServer) -> None:
    status, headers, body = raw(emulator, "GET", PATH)
    assert_401(status, headers, body)
    assert emulator.backend.log.count("GetVolumeGroupBackup", status=401) == 1


def test_unknown_key_is_401_through_the_sdk(emulator: EmulatorServer, tmp_path: Path) -> None:
    stranger = generate_api_key(tmp_path)
    client = oci.core.BlockstorageClient(
        oci.config.from_file(str(stranger.config_path)), **client_kwargs(emulator.url)
    )
    with pytest.raises(oci.exceptions.ServiceError) as info:
        client.get_volume_group_backup(B1)
    assert (info.value.status, info.value.code) == (401, "NotAuthenticated")
    assert info.value.request_id
    assert "Signature" not in info.value.message


def test_right_key_id_wrong_private_key_is_401(
    emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path
) -> None:
    other = generate_api_key(tmp_path)
    config = oci.config.from_file(str(api_key.config_path))
    config["key_file"] = str(other.private_key_path)  # keyId still names the registered key
    client = oci.core.BlockstorageClient(config, **client_kwargs(emulator.url))
    with pytest.raises(oci.exceptions.ServiceError) as info:
        client.get_volume_group_backup(B1)
    assert info.value.status == 401
    assert "not valid" in info.value.message


def test_tampered_body_is_401(emulator: EmulatorServer, api_key: ApiKey) -> None:
    body = json.dumps({"displayName": "honest"}).encode()
    headers = signed_headers(api_key, emulator, "PUT", PATH, body)
    evil = json.dumps({"displayName": "forged"}).encode()
    assert len(evil) == len(body)
    status, resp_headers, resp_body = raw(emulator, "PUT", PATH, evil, headers)
    message = assert_401(status, resp_headers, resp_body, headers["authorization"])
    assert "x-content-sha256" in message
    assert emulator.backend.blockstorage.get_volume_group_backup(B1)[0]["displayName"] != "forged"


def test_tampered_path_is_401(emulator: EmulatorServer, api_key: ApiKey) -> None:
    headers = signed_headers(api_key, emulator, "GET", PATH)
    other = PATH.replace("0001", "0002")
    status, resp_headers, body = raw(emulator, "GET", other, headers=headers)
    assert_401(status, resp_headers, body, headers["authorization"])


def test_put_without_signed_body_headers_is_401(emulator: EmulatorServer, api_key: ApiKey) -> None:
    body = json.dumps({"displayName": "x"}).encode()
    headers = signed_headers(api_key, emulator, "PUT", PATH, body, body_headers=False)
    headers["content-length"] = str(len(body))
    status, resp_headers, resp_body = raw(emulator, "PUT", PATH, body, headers)
    message = assert_401(status, resp_headers, resp_body)
    assert "x-content-sha256" in message


def test_stale_date_is_401(emulator: EmulatorServer, api_key: ApiKey) -> None:
    old = email.utils.formatdate(time.time() - 600, usegmt=True)
    headers = signed_headers(api_key, emulator, "GET", PATH, extra={"date": old})
    assert headers["date"] == old
    status, resp_headers, body = raw(emulator, "GET", PATH, headers=headers)
    assert "date" in assert_401(status, resp_headers, body)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        'Signature keyId="x"',
        'Signature version="1",keyId="k",algorithm="hmac-sha256",headers="date",signature="AA=="',
    ],
)
def test_malformed_authorization_is_401_without_echo(emulator: EmulatorServer, authorization: str) -> None:
    headers = {"authorization": authorization, "date": email.utils.formatdate(usegmt=True)}
    status, resp_headers, body = raw(emulator, "GET", PATH, headers=headers)
    assert_401(status, resp_headers, body, authorization)


def test_resource_principal_session_token_signature(emulator: EmulatorServer, api_key: ApiKey) -> None:
    session_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = "eyJhbGciOiJSUzI1NiJ9.eyJyZXMiOiJmbiJ9.c2ln"
    assert emulator.verifier is not None
    emulator.verifier.register_resource_principal(token, session_key.public_key())
    signer = oci.auth.signers.SecurityTokenSigner(token, session_key)
    client = oci.core.BlockstorageClient(
        {"region": "us-ashburn-1"}, signer=signer, **client_kwargs(emulator.url)
    )
    assert client.get_volume_group_backup(B1).status == 200
    put = client.update_volume_group_backup(
        B1, oci.core.models.UpdateVolumeGroupBackupDetails(display_name="by-rp")
    )
    assert put.data.display_name == "by-rp"
    unknown = oci.auth.signers.SecurityTokenSigner("other.token.x", session_key)
    stranger = oci.core.BlockstorageClient(
        {"region": "us-ashburn-1"}, signer=unknown, **client_kwargs(emulator.url)
    )
    with pytest.raises(oci.exceptions.ServiceError) as info:
        stranger.get_volume_group_backup(B1)
    assert info.value.status == 401


def test_generated_key_fingerprint_and_config(api_key: ApiKey) -> None:
    config = oci.config.from_file(str(api_key.config_path))
    oci.config.validate_config(config)
    assert config["fingerprint"] == fingerprint_of(api_key.public_key())
    assert api_key.key_id == f"{config['tenancy']}/{config['user']}/{config['fingerprint']}"
    assert api_key.private_key_path.stat().st_mode & 0o077 == 0


def test_generate_api_key_reuses_an_existing_key(tmp_path: Path) -> None:
    first = generate_api_key(tmp_path)
    again = generate_api_key(tmp_path, reuse=True)
    fresh = generate_api_key(tmp_path)
    assert again.key_id == first.key_id
    assert fresh.key_id != first.key_id


def test_verifier_checks_without_http(api_key: ApiKey) -> None:
    verifier = SignatureVerifier()
    verifier.register_key(api_key.key_id, api_key.public_key_pem)
    signer = oci.signer.Signer.from_config(oci.config.from_file(str(api_key.config_path)))
    req = oci._vendor.requests.Request("GET", "http://h:1/x?y=1").prepare()
    headers: dict[str, Any] = dict(signer(req).headers)
    assert verifier.verify("GET", "/x?y=1", headers, b"") == api_key.key_id
    with pytest.raises(Exception, match="NotAuthenticated"):
        verifier.verify("GET", "/x?y=2", headers, b"")
    with pytest.raises(Exception, match="NotAuthenticated"):
        verifier.verify("GET", "/x?y=1", headers, b"", now=time.time() + 301)
