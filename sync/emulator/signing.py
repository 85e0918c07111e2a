"""Verification of OCI request signatures (draft-cavage "Signature" scheme) and test API keys."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sync.emulator.errors import EmulatorError

GENERIC_HEADERS = ("date", "(request-target)", "host")
BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
MAX_CLOCK_SKEW_SECONDS = 300

DEFAULT_TENANCY = "ocid1.tenancy.oc1..aaaaaaaaexampletenancy0000000000000000000000000000000000000"
DEFAULT_USER = "ocid1.user.oc1..aaaaaaaaexampleuser00000000000000000000000000000000000000000"
DEFAULT_REGION = "us-ashburn-1"


def _unauthenticated(message: str) -> EmulatorError:
    return EmulatorError(401, "NotAuthenticated", message)


def parse_authorization(value: str) -> dict[str, str]:
    """Split 'Signature k="v",k2="v2"' into a dict; raises 401 when it is not that shape."""
    scheme, _, params = value.strip().partition(" ")
    if scheme != "Signature" or not params:
        raise _unauthenticated("The Authorization header must use the Signature scheme")
    out: dict[str, str] = {}
    for item in urllib.request.parse_http_list(params):
        key, sep, raw = item.strip().partition("=")
        if not sep or not key:
            raise _unauthenticated("The Authorization header is malformed")
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        out[key.strip()] = raw
    for required in ("keyId", "signature", "headers", "algorithm"):
        if not out.get(required):
            raise _unauthenticated(f"The Authorization header is missing the {required} parameter")
    return out


def signing_string(signed: list[str], method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """The exact string the OCI SDK signs (oci._vendor.httpsig_cffi.utils.generate_message)."""
    lines = []
    for name in signed:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            value = headers.get(name)
            if value is None:
                raise _unauthenticated(f"The signed header {name!r} is missing from the request")
            lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("ascii", errors="replace")


class SignatureVerifier:
    """Known public keys by keyId, and the checks OCI makes on each signed request."""

    def __init__(self, *, max_skew_seconds: float = MAX_CLOCK_SKEW_SECONDS) -> None:
        self.max_skew_seconds = max_skew_seconds
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def register_key(self, key_id: str, public_key: rsa.RSAPublicKey | bytes | str) -> None:
        """Accept signatures by keyId ("tenancy/user/fingerprint" for API keys)."""
        if isinstance(public_key, str | bytes):
            pem = public_key.encode() if isinstance(public_key, str) else public_key
            loaded = serialization.load_pem_public_key(pem)
            if not isinstance(loaded, rsa.RSAPublicKey):
                raise ValueError("only RSA public keys are supported")
            public_key = loaded
        with self._lock:
            self._keys[key_id] = public_key

    def register_resource_principal(self, token: str, public_key: rsa.RSAPublicKey | bytes | str) -> None:
        """Accept resource-principal signatures: keyId "ST$<token>" signed by the session key."""
        self.register_key(f"ST${token}", public_key)

    def verify(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        require_body_headers: bool = True,
        now: float | None = None,
    ) -> str:
        """Return the keyId of a valid signature, else raise 401 (never echoing the header)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        auth = lowered.get("authorization")
        if not auth:
            raise _unauthenticated("The required information to complete authentication was not provided")
        params = parse_authorization(auth)
        if params.get("version", "1") != "1":
            raise _unauthenticated("Unsupported signature version")
        if params["algorithm"].lower() != "rsa-sha256":
            raise _unauthenticated("Unsupported signature algorithm; use rsa-sha256")
        with self._lock:
            key = self._keys.get(params["keyId"])
        if key is None:
            raise _unauthenticated("The key used to sign the request is not known")
        signed = params["headers"].lower().split()
        required = list(GENERIC_HEADERS)
        if "date" not in signed and "x-date" in signed:
            required[0] = "x-date"
        if require_body_headers and method.upper() in ("PUT", "POST", "PATCH"):
            required += BODY_HEADERS
        missing = [h for h in required if h not in signed]
        if missing:
            raise _unauthenticated(f"The signature does not cover required header(s): {', '.join(missing)}")
        self._check_date(lowered.get(required[0]), now)
        if "x-content-sha256" in signed:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if lowered.get("x-content-sha256") != digest:
                raise _unauthenticated("x-content-sha256 does not match the request body")
        if "content-length" in signed and lowered.get("content-length") != str(len(body)):
            raise _unauthenticated("content-length does not match the request body")
        message = signing_string(signed, method, target, lowered)
        try:
            signature = base64.b64decode(params["signature"], validate=True)
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as exc:
            raise _unauthenticated("The request signature is not valid") from exc
        return params["keyId"]

    def _check_date(self, value: str | None, now: float | None) -> None:
        if not value:
            raise _unauthenticated("The date header is missing")
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError) as exc:
            raise _unauthenticated("The date header is not a valid HTTP date") from exc
        current = time.time() if now is None else now
        if abs(current - when) > self.max_skew_seconds:
            raise _unauthenticated(
                f"The date header is more than {int(self.max_skew_seconds)} seconds from the server's clock"
            )


@dataclass(frozen=True)
class ApiKey:
    """A generated API signing key and the OCI config file that uses it."""

    private_key_path: Path
    config_path: Path
    key_id: str
    fingerprint: str
    public_key_pem: bytes
    tenancy: str
    user: str
    region: str
    profile: str = "DEFAULT"

    def public_key(self) -> rsa.RSAPublicKey:
        loaded = serialization.load_pem_public_key(self.public_key_pem)
        assert isinstance(loaded, rsa.RSAPublicKey)
        return loaded

    def oci_config(self) -> dict[str, str]:
        """The dict oci.config.from_file would return for this key."""
        return {
            "user": self.user,
            "fingerprint": self.fingerprint,
            "tenancy": self.tenancy,
            "region": self.region,
            "key_file": str(self.private_key_path),
        }


def fingerprint_of(public_key: rsa.RSAPublicKey) -> str:
    """OCI's key fingerprint: MD5 of the DER SubjectPublicKeyInfo, colon-separated hex."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _write_config(path: Path, user: str, fingerprint: str, tenancy: str, region: str, key_file: Path) -> None:
    path.write_text(
        "[DEFAULT]\n"
        f"user={user}\n"
        f"fingerprint={fingerprint}\n"
        f"tenancy={tenancy}\n"
        f"region={region}\n"
        f"key_file={key_file}\n",
        encoding="utf-8",
    )


def generate_api_key(
    directory: str | Path,
    *,
    tenancy: str = DEFAULT_TENANCY,
    user: str = DEFAULT_USER,
    region: str = DEFAULT_REGION,
    reuse: bool = False,
    key_size: int = 2048,
) -> ApiKey:
    """Write oci_api_key.pem and config ([DEFAULT] profile) in directory; reuse an existing key."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    key_path = root / "oci_api_key.pem"
    config_path = root / "config"
    if reuse and key_path.exists():
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} is not an RSA private key")
        private = loaded
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        key_path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
    public = private.public_key()
    fingerprint = fingerprint_of(public)
    _write_config(config_path, user, fingerprint, tenancy, region, key_path)
    return ApiKey(
        private_key_path=key_path,
        config_path=config_path,
        key_id=f"{tenancy}/{user}/{fingerprint}",
        fingerprint=fingerprint,
        public_key_pem=public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        tenancy=tenancy,
        user=user,
        region=region,
    )
