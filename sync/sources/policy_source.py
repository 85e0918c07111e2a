"""Where the tag policy comes from (bundled file, TAG_POLICY, file://, oci://, s3://) and how it is cached.

Precedence (source_from_env): TAG_POLICY (inline YAML or JSON, when not blank) wins over
TAG_POLICY_URI, which wins over the bundled file (`tag_policy.yaml` beside func.py). When
TAG_POLICY and TAG_POLICY_URI are both set, a warning names the ignored TAG_POLICY_URI. A
TAG_POLICY_URI may be `file:///abs/path`, `oci://bucket@namespace/object`, `s3://bucket/key` or
a plain path (relative paths are taken from the bundled file's directory); object names and keys
are used as written, without percent-decoding.

Caching (one source per process, shared by warm invocations and sweep threads):
- inline: parsed once; file: re-read and parsed only when its mtime, size or inode changes.
- oci:// and s3://: the parsed Policy is kept with the object's ETag; at most every
  TAG_POLICY_REFRESH_SECONDS (default 60; 0 checks on every load) one conditional GET
  (if-none-match) is sent; 304 costs no parse. While one thread refreshes, others get the
  last good policy without waiting.
- A policy that fails to fetch or validate, or an object that was deleted, keeps the last good
  policy (an error is logged with the opc-request-id / S3 request id and the reason); with no
  last good policy, load() raises PolicyError so the caller answers `rejected`. An invalid
  version is parsed once (its ETag is remembered); a failed fetch with nothing to fall back on
  is tried again on the next load.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.cloud.clients import CLIENT_TIMEOUT, AuthError, Clients, OciSettings
from sync.policy.loader import MAX_POLICY_BYTES, Policy, PolicyError, load_policy

log = logging.getLogger("sync.sources.policy_source")

DEFAULT_REFRESH_SECONDS = 60.0
REFRESH_ENV = "TAG_POLICY_REFRESH_SECONDS"
BOTO3_PIN = "boto3==1.44.5"
S3_EXTRA_HINT = (
    "s3:// policy sources need boto3, an optional extra: `pip install 'backup-tag-sync[s3]'`"
    f" locally; for the function, add `{BOTO3_PIN}` to requirements.txt before `fn deploy`"
)
URI_FORMS = "file:///abs/path, oci://bucket@namespace/object, s3://bucket/key or a path"

ParseFn = Callable[[str | bytes, str], Policy]
Clock = Callable[[], float]


class PolicySource(ABC):
    """Gives the current policy; `parses` counts how many times policy text was parsed."""

    origin: str
    parses: int = 0

    @abstractmethod
    def load(self) -> Policy:
        """The current policy (from the cache when it is still fresh); PolicyError if there is none."""

    def _parse(self, parse: ParseFn, raw: str | bytes) -> Policy:
        if len(raw) > MAX_POLICY_BYTES:
            raise PolicyError(["policy is larger than the 1 MiB limit"], self.origin)
        self.parses += 1
        return parse(raw, self.origin)


def _copy(err: PolicyError) -> PolicyError:
    # A fresh instance per raise: re-raising one instance keeps growing its traceback.
    return PolicyError(list(err.errors), err.origin)


def _adopted(policy: Policy, origin: str, version: str | None) -> None:
    log.info(
        "policy loaded from %s: %d rule(s), mode %s",
        origin,
        len(policy.rules),
        policy.mode,
        extra={"source": origin, "etag": version, "policy_warnings": list(policy.warnings)},
    )


class ErrorSource(PolicySource):
    """A configuration problem found before any policy was read: every load raises it."""

    def __init__(self, error: PolicyError) -> None:
        self.origin = error.origin
        self.error = error

    def load(self) -> Policy:
        raise _copy(self.error)


class InlineSource(PolicySource):
    """TAG_POLICY: the policy text itself; parsed once, on first load."""

    def __init__(self, text: str, origin: str = "TAG_POLICY", parse: ParseFn = load_policy) -> None:
        self.origin = origin
        self._text = text
        self._parse_fn = parse
        self._lock = threading.Lock()
        self._result: Policy | PolicyError | None = None

    def load(self) -> Policy:
        with self._lock:
            if self._result is None:
                try:
                    self._result = self._parse(self._parse_fn, self._text)
                    _adopted(self._result, self.origin, None)
                except PolicyError as exc:
                    log.error(
                        "policy from %s is invalid: %s",
                        self.origin,
                        "; ".join(exc.errors),
                        extra={"source": self.origin, "errors": exc.errors},
                    )
                    self._result = exc
            if isinstance(self._result, PolicyError):
                raise _copy(self._result)
            return self._result


class _Cached(PolicySource):
    """The last good policy, the version last seen, and the error that came with it."""

    def __init__(self, origin: str, parse: ParseFn) -> None:
        self.origin = origin
        self._parse_fn = parse
        self._lock = threading.Lock()
        self._policy: Policy | None = None
        self._error: PolicyError | None = None  # the last version seen did not validate

    def load(self) -> Policy:
        current = self._policy
        if current is not None:
            if not self._lock.acquire(blocking=False):
                return current  # another thread is refreshing: serve the last good one meanwhile
        else:
            self._lock.acquire()
        try:
            return self._load_locked()
        finally:
            self._lock.release()

    @abstractmethod
    def _load_locked(self) -> Policy: ...

    def _serve(self) -> Policy:
        if self._policy is not None:
            return self._policy
        if self._error is not None:
            raise _copy(self._error)
        raise PolicyError(["no policy has been loaded"], self.origin)  # pragma: no cover

    def _adopt(self, raw: bytes, version: str | None, fields: Mapping[str, Any]) -> Policy:
        """Parse a new version; keep the last good policy when it does not validate."""
        try:
            policy = self._parse(self._parse_fn, raw)
        except PolicyError as exc:
            self._error = exc
            kept = self._policy is not None
            log.error(
                "policy from %s is invalid (%s): %s",
                self.origin,
                "keeping the last good policy" if kept else "no policy to fall back on",
                "; ".join(exc.errors),
                extra={**fields, "source": self.origin, "etag": version, "errors": exc.errors},
            )
            return self._serve()
        self._policy = policy
        self._error = None
        _adopted(policy, self.origin, version)
        return policy


class FileSource(_Cached):
    """A policy file (the bundled one, file://, or a path); re-read only when it changes."""

    def __init__(self, path: str, origin: str | None = None, parse: ParseFn = load_policy) -> None:
        super().__init__(origin or path, parse)
        self.path = path
        self._seen: tuple[int, int, int] | str | None = None

    def _load_locked(self) -> Policy:
        try:
            st = os.stat(self.path)
            version: tuple[int, int, int] | str = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError as exc:
            version = f"cannot read policy file: {exc.strerror}"
        if version == self._seen:
            return self._serve()
        self._seen = version
        raw = b""
        if not isinstance(version, str):
            try:
                with open(self.path, "rb") as fh:
                    raw = fh.read(MAX_POLICY_BYTES + 1)
            except OSError as exc:
                version = f"cannot read policy file: {exc.strerror}"
        if isinstance(version, str):
            self._error = PolicyError([version], self.origin)
            kept = self._policy is not None
            log.error(
                "%s: %s (%s)",
                self.origin,
                version,
                "keeping the last good policy" if kept else "no policy to fall back on",
                extra={"source": self.origin},
            )
            return self._serve()
        return self._adopt(raw, f"{version[0]}", {})


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

    def __init__(self, origin: str, refresh_seconds: float, clock: Clock, parse: ParseFn) -> None:
        super().__init__(origin, parse)
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._etag: str | None = None  # of the last version fetched, valid or not
        self._next_check: float | None = None

    @abstractmethod
    def _fetch(self, if_none_match: str | None) -> Fetched: ...

    def _load_locked(self) -> Policy:
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
        return self._adopt(fetched.body, fetched.etag, fields)

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
        parse: ParseFn = load_policy,
    ) -> None:
        super().__init__(f"oci://{bucket}@{namespace}/{name}", refresh_seconds, clock, parse)
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
        parse: ParseFn = load_policy,
    ) -> None:
        super().__init__(f"s3://{bucket}/{key}", refresh_seconds, clock, parse)
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
        self._s3 = session.client("s3", endpoint_url=self.endpoint_url, config=config)
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


def refresh_seconds_from_env(env: Mapping[str, str]) -> float:
    """TAG_POLICY_REFRESH_SECONDS as a number >= 0 (default 60); PolicyError when it is not one."""
    raw = (env.get(REFRESH_ENV) or "").strip()
    if not raw:
        return DEFAULT_REFRESH_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise PolicyError([f"{REFRESH_ENV}={raw!r} must be a number of seconds >= 0"], REFRESH_ENV)
    return value


def _split_uri(uri: str, scheme: str) -> tuple[str, str]:
    authority, slash, name = uri[len(scheme) :].partition("/")
    if not authority or not slash or not name:
        raise ValueError
    return authority, name


def source_from_uri(
    uri: str,
    env: Mapping[str, str] | None = None,
    clients_factory: Callable[[], Clients] | None = None,
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
    *,
    base_dir: str | None = None,
    clock: Clock = time.monotonic,
    parse: ParseFn = load_policy,
) -> PolicySource:
    """A source for file:///abs/path, oci://bucket@namespace/object, s3://bucket/key or a path.

    Raises PolicyError (origin: the URI) when the URI is malformed. A relative path is taken
    from base_dir (default: the working directory). env (default os.environ) gives the S3 and
    OCI settings; clients_factory defaults to Clients(OciSettings.from_env(env)).
    """
    env = os.environ if env is None else env
    text = uri.strip()
    lowered = text.lower()
    try:
        if lowered.startswith("oci://"):
            authority, name = _split_uri(text, "oci://")
            bucket, at, namespace = authority.partition("@")
            if not bucket or not at or not namespace or "@" in namespace:
                raise ValueError
            factory = clients_factory or (lambda: Clients(OciSettings.from_env(env)))
            return ObjectStorageSource(
                namespace,
                bucket,
                name,
                factory,
                refresh_seconds=refresh_seconds,
                clock=clock,
                parse=parse,
            )
        if lowered.startswith("s3://"):
            bucket, key = _split_uri(text, "s3://")
            return S3Source(bucket, key, env, refresh_seconds=refresh_seconds, clock=clock, parse=parse)
        if lowered.startswith("file:"):
            rest = text[len("file:") :]
            if rest.startswith("//localhost/"):
                rest = rest[len("//localhost") :]
            elif rest.startswith("///"):
                rest = rest[2:]
            else:
                raise ValueError
            return FileSource(rest, origin=text, parse=parse)
    except ValueError:
        raise PolicyError([f"not a policy location; use {URI_FORMS}"], text or repr(uri)) from None
    if "://" in text or not text:
        raise PolicyError([f"not a policy location; use {URI_FORMS}"], text or repr(uri))
    path = os.path.join(base_dir, text) if base_dir and not os.path.isabs(text) else text
    return FileSource(path, parse=parse)


def source_from_env(
    env: Mapping[str, str],
    clients_factory: Callable[[], Clients],
    default_path: str,
    refresh_seconds: float | None = None,
    *,
    clock: Clock = time.monotonic,
    parse: ParseFn = load_policy,
) -> PolicySource:
    """The function's policy source: TAG_POLICY, else TAG_POLICY_URI, else the bundled file.

    Never raises: a configuration problem becomes an ErrorSource whose load() raises it, so
    every invocation answers `rejected` with the reason.
    """
    inline = env.get("TAG_POLICY") or ""
    uri = (env.get("TAG_POLICY_URI") or "").strip()
    if inline.strip():
        if uri:
            log.warning(
                "TAG_POLICY and TAG_POLICY_URI are both set: using TAG_POLICY, ignoring TAG_POLICY_URI=%s",
                uri,
                extra={"source": "TAG_POLICY", "ignored": "TAG_POLICY_URI", "ignored_value": uri},
            )
        return InlineSource(inline, parse=parse)
    if not uri:
        return FileSource(default_path, parse=parse)
    try:
        seconds = refresh_seconds if refresh_seconds is not None else refresh_seconds_from_env(env)
        return source_from_uri(
            uri,
            env,
            clients_factory,
            seconds,
            base_dir=os.path.dirname(os.path.abspath(default_path)),
            clock=clock,
            parse=parse,
        )
    except PolicyError as exc:
        log.error("policy configuration error: %s", exc, extra={"source": exc.origin, "errors": exc.errors})
        return ErrorSource(exc)


def load_policy_from(uri_or_path: str, env: Mapping[str, str] | None = None) -> Policy:
    """One policy, now, from a path, file://, oci:// or s3:// (for the command line)."""
    return source_from_uri(uri_or_path, env, refresh_seconds=0.0).load()
