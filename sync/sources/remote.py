"""Remote policy sources: oci:// (Object Storage) and s3:// objects, fetched with conditional GETs."""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.cloud.clients import CLIENT_TIMEOUT, AuthError, Clients
from sync.policy.loader import MAX_POLICY_BYTES, Policy, PolicyError, TimeLeft
from sync.sources.base import DEFAULT_REFRESH_SECONDS, Clock, _Cached

log = logging.getLogger("sync.sources")

BOTO3_PIN = "boto3==1.44.5"
S3_EXTRA_HINT = (
    "s3:// policy sources need boto3, an optional extra: `pip install 'backup-tag-sync[s3]'`"
    f" locally; for the function, add `{BOTO3_PIN}` to requirements.txt before `fn deploy`"
)


@dataclass(frozen=True)
class Fetched:
    """A GET's answer: the body (None: 304 Not Modified), the ETag and the request id."""

    body: bytes | None
    etag: str | None
    request_id: str | None


@dataclass
class FetchError(Exception):
    """A GET that did not return the object; fields go to the error log as they are."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    not_found: bool = False

    def __str__(self) -> str:
        return self.message


class _Remote(_Cached):
    """An object fetched over HTTP with conditional GETs, re-checked at most every N seconds."""

    def __init__(self, origin: str, refresh_seconds: float, clock: Clock) -> None:
        super().__init__(origin)
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._etag: str | None = None  # of the last version fetched, valid or not
        self._next_check: float | None = None

    @abstractmethod
    def _fetch(self, if_none_match: str | None) -> Fetched: ...

    def _read_again(self) -> None:
        self._etag = None  # a 304 must not stand for a version that was never parsed to the end
        self._next_check = None

    def _load_locked(self, time_left: TimeLeft | None) -> Policy:
        now = self._clock()
        if self._next_check is not None and now < self._next_check:
            return self._serve()
        try:
            fetched = self._fetch(self._etag)
        except FetchError as exc:
            return self._fetch_failed(exc, now)
        self._next_check = now + self.refresh_seconds
        fields = {"operation": "GetObject", "status": 304 if fetched.body is None else 200}
        fields.update(self._request_id_field(fetched.request_id))
        if fetched.body is None:
            log.debug("policy unchanged at %s", self.origin, extra={**fields, "source": self.origin})
            return self._serve()
        self._etag = fetched.etag
        return self._adopt(fetched.body, fetched.etag, fields, time_left)

    def _request_id_field(self, request_id: str | None) -> dict[str, Any]:
        return {"opc_request_id": request_id}

    def _fetch_failed(self, exc: FetchError, now: float) -> Policy:
        if exc.not_found:
            self._etag = None  # whatever comes back under this name is new
        kept = self._policy is not None
        log.error(
            "cannot fetch the policy from %s (%s): %s",
            self.origin,
            "keeping the last good policy" if kept else "no policy to fall back on",
            exc.message,
            extra={**exc.fields, "source": self.origin},
        )
        if self._policy is None:
            raise PolicyError([exc.message], self.origin)
        self._next_check = now + self.refresh_seconds
        return self._policy


class ObjectStorageSource(_Remote):
    """oci://bucket@namespace/object through the SDK's ObjectStorageClient.get_object."""

    def __init__(
        self,
        namespace: str,
        bucket: str,
        name: str,
        clients_factory: Callable[[], Clients],
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(f"oci://{bucket}@{namespace}/{name}", refresh_seconds, clock)
        self.namespace, self.bucket, self.name = namespace, bucket, name
        self._clients_factory = clients_factory
        self._clients: Clients | None = None

    def _client(self) -> Any:
        try:
            if self._clients is None:
                self._clients = self._clients_factory()
            return self._clients.object_storage()
        except AuthError as exc:
            raise FetchError(str(exc), {"operation": "GetObject"}) from None

    def _fetch(self, if_none_match: str | None) -> Fetched:
        from oci.exceptions import ServiceError  # lazy: oci costs ~0.3 s to import

        client = self._client()
        kwargs = {"if_none_match": if_none_match} if if_none_match else {}
        try:
            response = client.get_object(self.namespace, self.bucket, self.name, **kwargs)
        except ServiceError as exc:
            if exc.status == 304:
                return Fetched(None, if_none_match, exc.request_id)
            fields = {
                "operation": "GetObject",
                "status": exc.status,
                "code": exc.code,
                "error_message": exc.message,
                "opc_request_id": exc.request_id,
            }
            message = (
                f"GetObject returned {exc.status} {exc.code}: {exc.message} (opc-request-id {exc.request_id})"
            )
            raise FetchError(message, fields, not_found=exc.status == 404) from None
        except Exception as exc:  # timeouts, refused connections...: the SDK raises many types
            raise FetchError(
                f"GetObject failed: {type(exc).__name__}: {exc}",
                {"operation": "GetObject", "error_message": str(exc)},
            ) from None
        try:
            body = _read_limited(response.data)
        except Exception as exc:  # the connection dropped mid-body
            raise FetchError(
                f"GetObject body could not be read: {type(exc).__name__}: {exc}",
                {"operation": "GetObject", "opc_request_id": response.request_id},
            ) from None
        return Fetched(body, response.headers.get("etag"), response.request_id)


def _read_limited(stream: Any) -> bytes:
    """Up to MAX_POLICY_BYTES + 1 bytes of a requests.Response body (enough to see it is too big)."""
    out = bytearray()
    try:
        for chunk in stream.iter_content(chunk_size=64 * 1024):
            out += chunk
            if len(out) > MAX_POLICY_BYTES:
                break
    finally:
        stream.close()
    return bytes(out[: MAX_POLICY_BYTES + 1])


class S3Source(_Remote):
    """s3://bucket/key through boto3 (an optional extra), for any S3-compatible store."""

    def __init__(
        self,
        bucket: str,
        key: str,
        env: Mapping[str, str],
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(f"s3://{bucket}/{key}", refresh_seconds, clock)
        self.bucket, self.key = bucket, key
        self.endpoint_url = env.get("S3_ENDPOINT_URL") or None
        self.region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        # Credentials from the usual variables of the mapping given; absent ones fall back to
        # boto3's own chain (process environment, ~/.aws, instance metadata).
        self._credentials = {
            "aws_access_key_id": env.get("AWS_ACCESS_KEY_ID") or None,
            "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY") or None,
            "aws_session_token": env.get("AWS_SESSION_TOKEN") or None,
        }
        self._s3: Any = None

    def _request_id_field(self, request_id: str | None) -> dict[str, Any]:
        return {"s3_request_id": request_id}

    def client(self) -> Any:
        """The boto3 S3 client, built on first use (FetchError naming the extra when boto3 is missing)."""
        if self._s3 is not None:
            return self._s3
        try:
            import boto3  # optional extra, imported on first use
            from botocore.config import Config
        except ImportError:
            raise FetchError(S3_EXTRA_HINT, {"operation": "GetObject"}) from None
        session = boto3.session.Session(region_name=self.region, **self._credentials)
        config = Config(
            connect_timeout=CLIENT_TIMEOUT[0],
            read_timeout=CLIENT_TIMEOUT[1],
            # One attempt, like the OCI clients: the last good policy covers a bad minute.
            retries={"total_max_attempts": 1},
            # S3-compatible stores (OCI's among them) expect bucket names in the path.
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        s3 = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        from sync.cloud.transport import cap_botocore

        cap_botocore(s3)  # its calls end by the caller's deadline, as the OCI clients' do
        self._s3 = s3
        return self._s3

    def _fetch(self, if_none_match: str | None) -> Fetched:
        client = self.client()
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, str] = {"Bucket": self.bucket, "Key": self.key}
        if if_none_match:
            kwargs["IfNoneMatch"] = if_none_match
        try:
            response = client.get_object(**kwargs)
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            error = exc.response.get("Error", {})
            status = meta.get("HTTPStatusCode")
            request_id = _s3_request_id(meta)
            if status == 304:
                return Fetched(None, if_none_match, request_id)
            code, text = error.get("Code"), error.get("Message")
            fields = {
                "operation": "GetObject",
                "status": status,
                "code": code,
                "error_message": text,
                "s3_request_id": request_id,
            }
            message = f"S3 GetObject returned {status} {code}: {text} (request id {request_id})"
            raise FetchError(message, fields, not_found=status == 404) from None
        except BotoCoreError as exc:  # no credentials, endpoint unreachable, timeouts
            raise FetchError(
                f"S3 GetObject failed: {type(exc).__name__}: {exc}",
                {"operation": "GetObject", "error_message": str(exc)},
            ) from None
        meta = response.get("ResponseMetadata", {})
        body_stream = response["Body"]
        try:
            body = body_stream.read(MAX_POLICY_BYTES + 1)
        except Exception as exc:  # the connection dropped mid-body
            raise FetchError(
                f"S3 GetObject body could not be read: {type(exc).__name__}: {exc}",
                {"operation": "GetObject", "s3_request_id": _s3_request_id(meta)},
            ) from None
        finally:
            body_stream.close()
        return Fetched(body, response.get("ETag"), _s3_request_id(meta))


def _s3_request_id(meta: Mapping[str, Any]) -> str | None:
    """x-amz-request-id; botocore leaves RequestId empty on bodiless answers such as 304."""
    headers = meta.get("HTTPHeaders") or {}
    for value in (
        meta.get("RequestId"),
        headers.get("x-amz-request-id"),
        headers.get("opc-request-id"),
        headers.get("x-amzn-requestid"),
    ):
        if value:
            return str(value)
    return None
