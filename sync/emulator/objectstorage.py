"""Object Storage service: buckets and objects with etags and conditional requests."""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass

from sync.emulator.errors import EmulatorError, NotModified
from sync.emulator.paging import Json


@dataclass(frozen=True)
class StoredObject:
    """One Object Storage object as GetObject returns it."""

    data: bytes
    etag: str
    content_type: str
    last_modified: str


@dataclass
class _Object:
    data: bytes
    content_type: str
    version: int
    last_modified: float


def _object_etag(namespace: str, bucket: str, name: str, obj: _Object) -> str:
    raw = f"{namespace}/{bucket}/{name}:{obj.version}".encode()
    digest = hashlib.sha256(raw).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _stored(namespace: str, bucket: str, name: str, obj: _Object) -> StoredObject:
    return StoredObject(
        data=obj.data,
        etag=_object_etag(namespace, bucket, name, obj),
        content_type=obj.content_type,
        last_modified=email.utils.formatdate(obj.last_modified, usegmt=True),
    )


class ObjectStorageBackend:
    """Buckets of objects keyed by (namespace, bucket); operations are methods raising EmulatorError."""

    def __init__(self, *, lock: threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.RLock()
        self._buckets: dict[tuple[str, str], dict[str, _Object]] = {}
        self._object_versions = 0

    def create_bucket(self, namespace: str, bucket: str) -> None:
        with self._lock:
            self._buckets.setdefault((namespace, bucket), {})

    def _bucket(self, namespace: str, bucket: str) -> dict[str, _Object]:
        objects = self._buckets.get((namespace, bucket))
        if objects is None:
            raise EmulatorError(
                404,
                "BucketNotFound",
                f"Either the bucket named '{bucket}' does not exist in the namespace "
                f"'{namespace}' or you are not authorized to access it",
            )
        return objects

    def _object(self, namespace: str, bucket: str, name: str) -> _Object:
        obj = self._bucket(namespace, bucket).get(name)
        if obj is None:
            raise EmulatorError(
                404,
                "ObjectNotFound",
                f"The object '{name}' was not found in the bucket '{bucket}'",
            )
        return obj

    def get_object(
        self, namespace: str, bucket: str, name: str, if_none_match: str | None = None
    ) -> StoredObject:
        """GetObject; raises NotModified (304) when if_none_match equals the etag (or is '*')."""
        with self._lock:
            stored = _stored(namespace, bucket, name, self._object(namespace, bucket, name))
        if if_none_match is not None and if_none_match in ("*", stored.etag):
            raise NotModified(stored.etag)
        return stored

    def put_object(
        self,
        namespace: str,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        create_bucket: bool = False,
    ) -> StoredObject:
        with self._lock:
            if create_bucket:
                self.create_bucket(namespace, bucket)
            objects = self._bucket(namespace, bucket)
            existing = objects.get(name)
            if if_none_match == "*" and existing is not None:
                raise EmulatorError(412, "IfNoneMatchFailed", f"The object '{name}' already exists")
            if if_match is not None:
                current = None if existing is None else _object_etag(namespace, bucket, name, existing)
                if current != if_match:
                    raise EmulatorError(
                        412, "IfMatchFailed", f"The if-match etag does not match object '{name}'"
                    )
            self._object_versions += 1
            obj = _Object(bytes(data), content_type, self._object_versions, time.time())
            objects[name] = obj
            return _stored(namespace, bucket, name, obj)

    def delete_object(self, namespace: str, bucket: str, name: str, if_match: str | None = None) -> None:
        with self._lock:
            obj = self._object(namespace, bucket, name)
            if if_match is not None and if_match != _object_etag(namespace, bucket, name, obj):
                raise EmulatorError(412, "IfMatchFailed", f"The if-match etag does not match object '{name}'")
            del self._buckets[(namespace, bucket)][name]

    def snapshot(self) -> Json:
        """This service's part of the seed format (object contents as text when they decode)."""
        with self._lock:
            objects = []
            for (ns, bucket), objs in sorted(self._buckets.items()):
                for name, obj in sorted(objs.items()):
                    objects.append(
                        {
                            "namespace": ns,
                            "bucket": bucket,
                            "name": name,
                            "content": obj.data.decode("utf-8", errors="replace"),
                            "contentType": obj.content_type,
                            "etag": _object_etag(ns, bucket, name, obj),
                        }
                    )
            return {
                "buckets": [{"namespace": ns, "name": b} for ns, b in sorted(self._buckets)],
                "objects": objects,
            }
