"""Object Storage routes: GetObject, HeadObject, PutObject and DeleteObject."""

from __future__ import annotations

import base64
import hashlib

from sync.emulator.backend import Backend
from sync.emulator.objectstorage import StoredObject
from sync.emulator.wire import Reply, Request, Route

_OBJECT = "/n/{namespace}/b/{bucket}/o/{object+}"


def _object_headers(obj: StoredObject) -> dict[str, str]:
    return {
        "etag": obj.etag,
        "last-modified": obj.last_modified,
        "content-md5": base64.b64encode(hashlib.md5(obj.data, usedforsecurity=False).digest()).decode(),
    }


def get_object(backend: Backend, req: Request) -> Reply:
    """GetObject and HeadObject (the HTTP layer drops the body of a HEAD answer)."""
    ns, bucket, name = req.params
    obj = backend.objectstorage.get_object(ns, bucket, name, if_none_match=req.headers.get("if-none-match"))
    return Reply(
        200,
        obj.data,
        {"Content-Type": obj.content_type, "Content-Length": str(len(obj.data)), **_object_headers(obj)},
    )


def put_object(backend: Backend, req: Request) -> Reply:
    ns, bucket, name = req.params
    obj = backend.objectstorage.put_object(
        ns,
        bucket,
        name,
        req.body,
        req.headers.get("Content-Type") or "application/octet-stream",
        if_match=req.headers.get("if-match"),
        if_none_match=req.headers.get("if-none-match"),
    )
    hdrs = _object_headers(obj)
    hdrs["opc-content-md5"] = hdrs.pop("content-md5")
    return Reply(200, b"", hdrs)


def delete_object(backend: Backend, req: Request) -> Reply:
    ns, bucket, name = req.params
    backend.objectstorage.delete_object(ns, bucket, name, if_match=req.headers.get("if-match"))
    return Reply(204, b"", {"Content-Length": "0"})


ROUTES = [
    Route("GET", _OBJECT, "GetObject", get_object),
    Route("HEAD", _OBJECT, "HeadObject", get_object),
    Route("PUT", _OBJECT, "PutObject", put_object),
    Route("DELETE", _OBJECT, "DeleteObject", delete_object),
]
