"""Log safety: no credential in any captured line, and values from OCI cannot forge log lines.

The function runs under the real FDK at LOG_LEVEL=debug with its stdout merged into the
captured stderr (a wrapper interpreter), so both streams are checked. Resource-principal auth
is real end to end: a fake RPST (a JWT-shaped token) and a session key in the
OCI_RESOURCE_PRINCIPAL_* variables, and the emulator accepts `ST$<token>` signatures made
with that key. (tests/test_function.py already audits config-file auth on the happy path.)
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_function import BACKUP_1, CREATE_EVENT, function_env

FORGED = '{"level": "error", "message": "FORGED'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_rpst(seconds: int = 3600) -> str:
    now = int(time.time())
    claims = {
        "sub": "ocid1.fnfunc.oc1.iad.aaaaexamplefunction",
        "res_type": "fnfunc",
        "res_tenant": "ocid1.tenancy.oc1..aaaaexampletenancy",
        "res_compartment": "ocid1.compartment.oc1..aaaaexamplecompartment",
        "iat": now,
        "exp": now + seconds,
    }
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "asw"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(os.urandom(48))}"


def session_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


def stdout_to_stderr_python(tmp_path: Path) -> str:
    """An interpreter wrapper whose stdout lands in the captured stderr."""
    wrapper = tmp_path / "python-merged"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@" 1>&2\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def secret_fragments(token: str, pem: str) -> list[str]:
    """Whole values and pieces long enough to be unmistakable."""
    body = [line for line in pem.splitlines() if line and "-----" not in line]
    return [token, *token.split("."), "ST$", *body, "-----BEGIN", "Signature version", "keyId="]


def assert_no_secret(text: str, fragments: list[str]) -> None:
    lowered = text.lower()
    for needle in fragments:
        assert needle.lower() not in lowered, f"leaked: {needle[:40]}"
    assert "authorization:" not in lowered and '"authorization"' not in lowered


def assert_json_lines(text: str) -> None:
    assert "Traceback" not in text
    for line in text.splitlines():
        if line.strip():
            entry = json.loads(line)  # a line that is not one JSON object fails here
            assert isinstance(entry, dict), line
        assert not line.startswith(FORGED), line


def rp_env(emulator: EmulatorServer, token: str, pem: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "OCI_RESOURCE_PRINCIPAL_VERSION": "2.2",
        "OCI_RESOURCE_PRINCIPAL_RPST": token,
        "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM": pem,
        "OCI_RESOURCE_PRINCIPAL_REGION": "us-ashburn-1",
        "OCI_CORE_ENDPOINT": emulator.url,
        "OCI_OBJECTSTORAGE_ENDPOINT": emulator.url,
        "LOG_LEVEL": "debug",
        **extra,
    }


def exercise(fn: FdkProcess, emulator: EmulatorServer) -> list[dict[str, object]]:
    """Calls that log the most: an update after a 412 race, 500s, a 404, a dry run."""
    answers = []
    emulator.faults.update({"race_412_next": 1})
    answers.append(fn.call(CREATE_EVENT).json())
    emulator.faults.update(
        {"error_rate": 1.0, "error_mix": {500: 1.0}, "operations": ["GetVolumeGroupBackup"], "seed": 3}
    )
    answers.append(fn.call({"volumeGroupBackupId": BACKUP_1}, deadline_seconds=3).json())
    emulator.faults.reset()
    answers.append(fn.call({"volumeGroupBackupId": "ocid1.volumegroupbackup.oc1.iad.nope"}).json())
    answers.append(fn.call({"volumeGroupBackupId": BACKUP_1, "dryRun": True}).json())
    return answers


@pytest.mark.parametrize("as_files", [False, True], ids=["inline", "files"])
def test_resource_principal_auth_end_to_end_leaks_nothing(
    emulator: EmulatorServer, tmp_path: Path, as_files: bool
) -> None:
    token = fake_rpst()
    key, pem = session_key()
    assert emulator.verifier is not None
    emulator.verifier.register_resource_principal(token, key.public_key())
    rpst_value, pem_value = token, pem
    if as_files:  # OCI Functions passes paths; the SDK accepts either
        (tmp_path / "rpst").write_text(token)
        (tmp_path / "key.pem").write_text(pem)
        rpst_value, pem_value = str(tmp_path / "rpst"), str(tmp_path / "key.pem")
    env = rp_env(emulator, rpst_value, pem_value)
    with FdkProcess(env, python=stdout_to_stderr_python(tmp_path)) as fn:
        answers = exercise(fn, emulator)
        text = fn.stderr_text()
    assert answers[0]["status"] == "updated"  # real RP signatures, accepted by the emulator
    assert answers[1]["status"] == "failed" and answers[2]["status"] == "not_found"
    signed = [r for r in emulator.backend.log.requests() if r.status != 401]
    assert signed, "no request was authenticated"
    assert text.strip()
    fragments = secret_fragments(token, pem)
    assert_no_secret(text, fragments)
    assert_no_secret(json.dumps(answers), fragments)
    assert_json_lines(text)


def test_rejected_resource_principal_and_broken_token_leak_nothing(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # 1. A well-formed token the emulator does not know: every call is a 401.
    token = fake_rpst()
    _, pem = session_key()
    python = stdout_to_stderr_python(tmp_path)
    with FdkProcess(rp_env(emulator, token, pem), python=python) as fn:
        unknown = fn.call(CREATE_EVENT).json()
        text = fn.stderr_text()
    assert unknown["status"] == "failed" and "401" in unknown["error"]
    # 2. Garbage where the token and the key belong: the SDK's own errors must not echo them.
    garbage = "NotAJwtButSecret-" + _b64(os.urandom(24))
    broken_pem = (
        "-----BEGIN PRIVATE KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END PRIVATE KEY-----\n"
    )
    with FdkProcess(rp_env(emulator, garbage, broken_pem), python=python) as fn:
        broken = fn.call(CREATE_EVENT).json()
        text += fn.stderr_text()
    assert broken["status"] in ("failed", "rejected"), broken
    fragments = [*secret_fragments(token, pem), garbage, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"]
    assert_no_secret(text, fragments)
    assert_no_secret(json.dumps([unknown, broken]), fragments)
    assert_json_lines(text)


def test_config_file_with_unusable_key_leaks_nothing(
    emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path
) -> None:
    # A key file that is not a key (its "content" is a recognisable secret) and a pass phrase.
    secret = "SuperSecretKeyMaterial" + _b64(os.urandom(12))
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text(f"-----BEGIN RSA PRIVATE KEY-----\n{secret}\n-----END RSA PRIVATE KEY-----\n")
    config = tmp_path / "config"
    config.write_text(
        api_key.config_path.read_text().replace(str(api_key.private_key_path), str(bad_key))
        + "pass_phrase=HunterTwoPassPhrase\n"
    )
    env = function_env(emulator, api_key, LOG_LEVEL="debug", OCI_CONFIG_FILE=str(config))
    with FdkProcess(env, python=stdout_to_stderr_python(tmp_path)) as fn:
        answer = fn.call(CREATE_EVENT).json()
        text = fn.stderr_text()
    assert answer["status"] in ("failed", "rejected"), answer
    assert_no_secret(text + json.dumps(answer), [secret, "HunterTwoPassPhrase"])
    assert_json_lines(text)


def _contains(value: object, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(_contains(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, needle) for v in value)
    return False


HOSTILE = [
    "evil\n" + FORGED + ' one"}',
    "cr\r" + FORGED + ' two"}',
    "nel\x85" + FORGED + "-ls\u2028" + FORGED + "-ps\u2029x",
    "esc\x1b[2J\x1b[31mred\x00nul\x07bell\x0b\x0c",
    '"}, "level": "error", "message": "FORGED three',
]


def test_values_from_oci_cannot_forge_log_lines(
    emulator: EmulatorServer, api_key: ApiKey, tmp_path: Path
) -> None:
    original = emulator.backend.blockstorage.get_volume_group_backup(BACKUP_1)[0]
    original_group = emulator.backend.blockstorage.get_volume_group(original["volumeGroupId"])[0]
    env = function_env(emulator, api_key, LOG_LEVEL="debug")
    with FdkProcess(env, python=stdout_to_stderr_python(tmp_path)) as fn:
        for hostile in HOSTILE:
            emulator.backend.blockstorage.add_volume_group_backup(
                {
                    **original,
                    "displayName": ("Auto-backup " + hostile)[:255],
                    "freeformTags": {**original["freeformTags"], "note": hostile[:256]},
                }
            )
            emulator.backend.blockstorage.add_volume_group(
                {**original_group, "freeformTags": {**original_group["freeformTags"], "owner": hostile}}
            )
            event = json.loads(CREATE_EVENT)
            event["data"]["resourceName"] = hostile
            event["data"]["compartmentName"] = hostile
            assert fn.call(event).json()["status"] == "updated"
            assert fn.call({"volumeGroupBackupId": BACKUP_1, "dryRun": True}).json()["status"] == "unchanged"
        emulator.faults.update({"error_rate": 1.0, "error_mix": {503: 1.0}, "seed": 1})
        assert fn.call(event, deadline_seconds=3).status == 502
        raw = Path(fn.stderr_path).read_bytes()
    # Every hostile value was logged (the update's changes), escaped inside one JSON line.
    assert all(0x20 <= b < 0x7F for line in raw.split(b"\n") for b in line), "raw control byte in a line"
    lines = [json.loads(line) for line in raw.split(b"\n") if line.strip()]
    for hostile in HOSTILE:
        assert any(_contains(entry, hostile) for entry in lines), f"never logged: {hostile!r}"
    assert_json_lines(raw.decode("utf-8"))
