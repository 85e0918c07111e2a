"""Which policy source a setting names (TAG_POLICY, TAG_POLICY_URI, a path or URI), and one-shot loading."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from sync.cloud.clients import Clients, OciSettings
from sync.policy.loader import Policy, PolicyError
from sync.sources.base import (
    DEFAULT_REFRESH_SECONDS,
    REFRESH_ENV,
    Clock,
    ErrorSource,
    FileSource,
    InlineSource,
    PolicySource,
)
from sync.sources.remote import ObjectStorageSource, S3Source

log = logging.getLogger("sync.sources")

URI_FORMS = "file:///abs/path, oci://bucket@namespace/object, s3://bucket/key or a path"


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
            )
        if lowered.startswith("s3://"):
            bucket, key = _split_uri(text, "s3://")
            return S3Source(bucket, key, env, refresh_seconds=refresh_seconds, clock=clock)
        if lowered.startswith("file:"):
            rest = text[len("file:") :]
            if rest.startswith("//localhost/"):
                rest = rest[len("//localhost") :]
            elif rest.startswith("///"):
                rest = rest[2:]
            else:
                raise ValueError
            return FileSource(rest, origin=text)
    except ValueError:
        raise PolicyError([f"not a policy location; use {URI_FORMS}"], text or repr(uri)) from None
    if "://" in text or not text:
        raise PolicyError([f"not a policy location; use {URI_FORMS}"], text or repr(uri))
    path = os.path.join(base_dir, text) if base_dir and not os.path.isabs(text) else text
    return FileSource(path)


def source_from_env(
    env: Mapping[str, str],
    clients_factory: Callable[[], Clients],
    default_path: str,
    refresh_seconds: float | None = None,
    *,
    clock: Clock = time.monotonic,
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
        return InlineSource(inline)
    if not uri:
        return FileSource(default_path)
    try:
        seconds = refresh_seconds if refresh_seconds is not None else refresh_seconds_from_env(env)
        return source_from_uri(
            uri,
            env,
            clients_factory,
            seconds,
            base_dir=os.path.dirname(os.path.abspath(default_path)),
            clock=clock,
        )
    except PolicyError as exc:
        log.error("policy configuration error: %s", exc, extra={"source": exc.origin, "errors": exc.errors})
        return ErrorSource(exc)


def load_policy_from(uri_or_path: str, env: Mapping[str, str] | None = None) -> Policy:
    """One policy, now, from a path, file://, oci:// or s3:// (for the command line)."""
    return source_from_uri(uri_or_path, env, refresh_seconds=0.0).load()
