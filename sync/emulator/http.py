"""HTTP front of the emulator: OCI paths and headers in, Backend calls, OCI-shaped JSON out."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sync.emulator.faults import Faults
from sync.emulator.signing import ApiKey, SignatureVerifier
from sync.emulator.state import (
    Backend,
    EmulatorError,
    NotModified,
    RequestRecord,
    StoredObject,
)

API_VERSION = "/20160918"
MAX_LOGGED_BODY = 4096

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/20160918/volumeGroupBackups/([^/]+)$"), "GetVolumeGroupBackup"),
    ("PUT", re.compile(r"^/20160918/volumeGroupBackups/([^/]+)$"), "UpdateVolumeGroupBackup"),
    ("GET", re.compile(r"^/20160918/volumeGroupBackups$"), "ListVolumeGroupBackups"),
    ("GET", re.compile(r"^/20160918/volumeGroups/([^/]+)$"), "GetVolumeGroup"),
    ("GET", re.compile(r"^/20160918/compartments$"), "ListCompartments"),
    ("GET", re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$"), "GetObject"),
    ("HEAD", re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$"), "HeadObject"),
    ("PUT", re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$"), "PutObject"),
    ("DELETE", re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$"), "DeleteObject"),
]


def route(method: str, path: str) -> tuple[str, list[str]]:
    """Map a method and raw path to an OCI operation name and its url-decoded path parameters."""
    for verb, pattern, operation in _ROUTES:
        match = pattern.match(path)
        if match and verb == method:
            return operation, [urllib.parse.unquote(g) for g in match.groups()]
    return "Unknown", []


def _new_id() -> str:
    return uuid.uuid4().hex.upper()


def response_request_id(client_id: str | None) -> str:
    """OCI-style id: the client's opc-request-id (if sent) followed by server-made segments."""
    first = client_id.strip() if client_id and client_id.strip() else _new_id()
    return f"{first}/{_new_id()}/{_new_id()}"


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _Reply(status, body, {"Content-Type": "application/json", **(headers or {})})


def _error_reply(err: EmulatorError) -> _Reply:
    if isinstance(err, NotModified):
        return _Reply(304, b"", {"etag": err.etag})
    return _json_reply(err.status, {"code": err.code, "message": err.message})


def _int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise EmulatorError(400, "InvalidParameter", f"{name} must be an integer") from exc


def _bool_param(query: dict[str, str], name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise EmulatorError(400, "InvalidParameter", f"{name} must be true or false")
    return raw == "true"


def _required(query: dict[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise EmulatorError(400, "MissingParameter", f"Missing required parameter {name}")
    return value


def _object_headers(obj: StoredObject) -> dict[str, str]:
    return {
        "etag": obj.etag,
        "last-modified": obj.last_modified,
        "content-md5": base64.b64encode(hashlib.md5(obj.data, usedforsecurity=False).digest()).decode(),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: EmulatorServer) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.emulator.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms per request on Linux), which real OCI endpoints do not add.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "oci-emulator"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: _Reply, head_only: bool = False) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if "Content-Length" not in reply.headers and reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if not head_only and reply.body and reply.status not in (204, 304):
            self.wfile.write(reply.body)

    def _handle(self) -> None:
        emulator = self.server.emulator
        raw_path = self.path
        split = urllib.parse.urlsplit(raw_path)
        body = self._read_body()
        if split.path.startswith("/_emulator/"):
            self._send(emulator.admin(self.command, split.path, split.query, body))
            return
        operation, params = route(self.command, split.path)
        client_id = self.headers.get("opc-request-id")
        request_id = response_request_id(client_id)
        decision = emulator.faults.decide(operation)
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.drop:
            emulator.backend.record(
                RequestRecord(
                    operation,
                    self.command,
                    raw_path,
                    0,
                    request_id,
                    self.headers.get("if-match"),
                    None,
                    fault="drop",
                    client_request_id=client_id,
                )
            )
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            if decision.status is not None:
                message = (
                    "Authorization failed or requested resource not found."
                    if decision.status == 404
                    else f"Injected fault: {decision.code}"
                )
                raise EmulatorError(decision.status, decision.code or "Error", message)
            if emulator.verifier is not None:
                emulator.verifier.verify(
                    self.command,
                    raw_path,
                    {k: v for k, v in self.headers.items()},
                    body,
                    require_body_headers=not split.path.startswith("/n/"),
                )
            if decision.race_412 and params:
                emulator.backend.mutate_as_other_writer(params[0])
            reply = emulator.dispatch(operation, params, split.query, self.headers, body)
        except EmulatorError as err:
            reply = _error_reply(err)
        except Exception as exc:  # an emulator bug must still answer like OCI, with a request id
            if emulator.verbose:
                traceback.print_exc(file=sys.stderr)
            reply = _json_reply(500, {"code": "InternalServerError", "message": str(exc)})
        reply.headers["opc-request-id"] = request_id
        client_request_id = self.headers.get("opc-client-request-id")
        if client_request_id:
            reply.headers["opc-client-request-id"] = client_request_id
        if reply.status == 429:
            reply.headers["Retry-After"] = str(decision.retry_after or 1)
        logged = body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace") if body else None
        emulator.backend.record(
            RequestRecord(
                operation,
                self.command,
                raw_path,
                reply.status,
                request_id,
                self.headers.get("if-match"),
                logged,
                fault=decision.label,
                client_request_id=client_id,
            )
        )
        self._send(reply, head_only=self.command == "HEAD")


class EmulatorServer:
    """The emulator on 127.0.0.1 (port 0 picks a free one); use as a context manager."""

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        faults: Faults | None = None,
        verifier: SignatureVerifier | None = None,
        require_signatures: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.backend = backend if backend is not None else Backend()
        self.faults = faults if faults is not None else Faults()
        self.verifier: SignatureVerifier | None = (
            (verifier if verifier is not None else SignatureVerifier()) if require_signatures else None
        )
        self.host = host
        self.port = port
        self.verbose = verbose
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def client_env(self, key: ApiKey) -> dict[str, str]:
        """The settings that point this project's code (function, CLI) at this emulator."""
        return {
            "OCI_AUTH": "config_file",
            "OCI_CONFIG_FILE": str(key.config_path),
            "OCI_CORE_ENDPOINT": self.url,
            "OCI_OBJECTSTORAGE_ENDPOINT": self.url,
        }

    def register_api_key(self, key: ApiKey) -> None:
        if self.verifier is not None:
            self.verifier.register_key(key.key_id, key.public_key())

    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        self._httpd = _Server((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="oci-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until stop() or KeyboardInterrupt (for the command line)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- API dispatch ----------------------------------------------------------------------

    def dispatch(
        self,
        operation: str,
        params: list[str],
        query_string: str,
        headers: Any,
        body: bytes,
    ) -> _Reply:
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(query_string).items()}
        handler = self._handlers().get(operation)
        if handler is None:
            raise EmulatorError(
                404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found"
            )
        return handler(params, query, headers, body)

    def _handlers(self) -> dict[str, Callable[[list[str], dict[str, str], Any, bytes], _Reply]]:
        return {
            "GetVolumeGroupBackup": self._get_backup,
            "UpdateVolumeGroupBackup": self._update_backup,
            "ListVolumeGroupBackups": self._list_backups,
            "GetVolumeGroup": self._get_group,
            "ListCompartments": self._list_compartments,
            "GetObject": self._get_object,
            "HeadObject": self._get_object,
            "PutObject": self._put_object,
            "DeleteObject": self._delete_object,
        }

    def _get_backup(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        data, etag = self.backend.get_volume_group_backup(params[0])
        return _json_reply(200, data, {"etag": etag})

    def _update_backup(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        try:
            payload = json.loads(body) if body else {}
        except ValueError as exc:
            raise EmulatorError(400, "InvalidParameter", "The request body is not valid JSON") from exc
        data, etag = self.backend.update_volume_group_backup(params[0], payload, headers.get("if-match"))
        return _json_reply(200, data, {"etag": etag})

    def _list_backups(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        items, next_page = self.backend.list_volume_group_backups(
            _required(query, "compartmentId"),
            volume_group_id=query.get("volumeGroupId"),
            display_name=query.get("displayName"),
            limit=_int_param(query, "limit"),
            page=query.get("page"),
            sort_by=query.get("sortBy"),
            sort_order=query.get("sortOrder"),
        )
        return _json_reply(200, items, {"opc-next-page": next_page} if next_page else None)

    def _get_group(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        data, etag = self.backend.get_volume_group(params[0])
        return _json_reply(200, data, {"etag": etag})

    def _list_compartments(
        self, params: list[str], query: dict[str, str], headers: Any, body: bytes
    ) -> _Reply:
        items, next_page = self.backend.list_compartments(
            _required(query, "compartmentId"),
            compartment_id_in_subtree=_bool_param(query, "compartmentIdInSubtree"),
            access_level=query.get("accessLevel"),
            limit=_int_param(query, "limit"),
            page=query.get("page"),
            name=query.get("name"),
            lifecycle_state=query.get("lifecycleState"),
        )
        return _json_reply(200, items, {"opc-next-page": next_page} if next_page else None)

    def _get_object(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        obj = self.backend.get_object(
            params[0], params[1], params[2], if_none_match=headers.get("if-none-match")
        )
        return _Reply(
            200,
            obj.data,
            {"Content-Type": obj.content_type, "Content-Length": str(len(obj.data)), **_object_headers(obj)},
        )

    def _put_object(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        obj = self.backend.put_object(
            params[0],
            params[1],
            params[2],
            body,
            headers.get("Content-Type") or "application/octet-stream",
            if_match=headers.get("if-match"),
            if_none_match=headers.get("if-none-match"),
        )
        hdrs = _object_headers(obj)
        hdrs["opc-content-md5"] = hdrs.pop("content-md5")
        return _Reply(200, b"", hdrs)

    def _delete_object(self, params: list[str], query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        self.backend.delete_object(params[0], params[1], params[2], if_match=headers.get("if-match"))
        return _Reply(204, b"", {"Content-Length": "0"})

    # ---- admin -----------------------------------------------------------------------------

    def admin(self, method: str, path: str, query_string: str, body: bytes) -> _Reply:
        """Unsigned /_emulator/ endpoints: requests, faults, state, seed, reset-log, lifecycle."""
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(query_string).items()}
        try:
            payload: Any = json.loads(body) if body else {}
        except ValueError:
            return _json_reply(400, {"code": "InvalidParameter", "message": "body is not JSON"})
        name = path.removeprefix("/_emulator/").rstrip("/")
        try:
            if name == "requests" and method == "GET":
                records = self.backend.requests(query.get("operation"))
                return _json_reply(200, [r.to_dict() for r in records])
            if name == "faults" and method == "GET":
                return _json_reply(200, self.faults.to_dict())
            if name == "faults" and method == "POST":
                if not isinstance(payload, dict):
                    raise ValueError("faults must be a JSON object")
                self.faults.update(payload)
                return _json_reply(200, self.faults.to_dict())
            if name == "state" and method == "GET":
                return _json_reply(200, self.backend.snapshot())
            if name == "seed" and method == "POST":
                if not isinstance(payload, dict):
                    raise ValueError("a seed must be a JSON object")
                self.backend.load(payload)
                return _json_reply(200, {"ok": True})
            if name == "reset-log" and method == "POST":
                self.backend.reset_log()
                return _json_reply(200, {"ok": True})
            if name == "lifecycle" and method == "POST":
                self.backend.set_lifecycle_state(
                    str(payload["id"]),
                    str(payload["lifecycleState"]),
                    available_after_seconds=payload.get("availableAfterSeconds"),
                    available_after_gets=payload.get("availableAfterGets"),
                )
                return _json_reply(200, {"ok": True})
        except (ValueError, TypeError, KeyError) as exc:
            return _json_reply(400, {"code": "InvalidParameter", "message": str(exc)})
        except EmulatorError as err:
            return _error_reply(err)
        return _json_reply(404, {"code": "NotFound", "message": f"no admin endpoint {method} {path}"})
