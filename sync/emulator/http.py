"""HTTP front of the emulator: parse a request, route it to a service backend, send OCI's answer."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sync.emulator.admin import admin
from sync.emulator.backend import Backend
from sync.emulator.errors import EmulatorError
from sync.emulator.faults import FaultDecision, Faults
from sync.emulator.requestid import response_request_id
from sync.emulator.requestlog import RequestRecord
from sync.emulator.routes import BY_OPERATION, route
from sync.emulator.signing import ApiKey, SignatureVerifier
from sync.emulator.wire import Reply, Request, error_reply, json_reply

MAX_LOGGED_BODY = 4096

# What an injected 4xx says: the descriptions on Oracle's API errors page.
FAULT_MESSAGES = {
    "NotAuthorizedOrNotFound": "Authorization failed or requested resource not found.",
    "RelatedResourceNotAuthorizedOrNotFound": "A resource specified in the body of the request was not "
    "found, or you do not have authorization to access that resource.",
    "NotAuthenticated": "The required authentication information was not provided or was incorrect.",
    "IncorrectState": "The requested state for the resource conflicts with its current state.",
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

    def _send(self, reply: Reply, head_only: bool = False, decision: FaultDecision | None = None) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if "Content-Length" not in reply.headers and reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if head_only or not reply.body or reply.status in (204, 304):
            return
        if decision is not None and (decision.stall_seconds or decision.drip_seconds):
            self._send_body_slowly(reply.body, decision)
            return
        self.wfile.write(reply.body)

    def _send_body_slowly(self, body: bytes, decision: FaultDecision) -> None:
        """A stall (half the body, a long wait, then a closed connection) or a drip (a byte per tick)."""
        stopping = self.server.emulator.stopping
        self.close_connection = True
        try:
            if decision.stall_seconds:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                stopping.wait(decision.stall_seconds)
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                if stopping.wait(decision.drip_seconds):
                    return
        except OSError:  # the client gave up: what a drip is for
            return

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
            emulator.backend.log.record(
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
                message = FAULT_MESSAGES.get(decision.code or "", f"Injected fault: {decision.code}")
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
                emulator.backend.blockstorage.mutate_as_other_writer(params[0])
            reply = emulator.dispatch(operation, params, split.query, self.headers, body)
        except EmulatorError as err:
            reply = error_reply(err)
        except Exception as exc:  # an emulator bug must still answer like OCI, with a request id
            if emulator.verbose:
                traceback.print_exc(file=sys.stderr)
            reply = json_reply(500, {"code": "InternalServerError", "message": str(exc)})
        reply.headers["opc-request-id"] = request_id
        client_request_id = self.headers.get("opc-client-request-id")
        if client_request_id:
            reply.headers["opc-client-request-id"] = client_request_id
        if reply.status == 429:
            reply.headers["Retry-After"] = str(decision.retry_after or 1)
        logged = body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace") if body else None
        emulator.backend.log.record(
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
        self._send(reply, head_only=self.command == "HEAD", decision=decision if reply.status < 400 else None)


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
        # Set on stop(), so that dripping or stalled answers end with the server.
        self.stopping = threading.Event()

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
        self.stopping.clear()
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
        self.stopping.set()
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
    ) -> Reply:
        """Call the routed operation's handler with the parsed request."""
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(query_string).items()}
        target = BY_OPERATION.get(operation)
        if target is None:  # Oracle's API errors page: "There is no operation supported at the URI path"
            raise EmulatorError(
                404,
                "NotFound",
                "There is no operation supported at the URI path and HTTP method you specified",
            )
        return target.handler(self.backend, Request(params, query, headers, body))

    def admin(self, method: str, path: str, query_string: str, body: bytes) -> Reply:
        """Unsigned /_emulator/ endpoints (see admin.py)."""
        return admin(self.backend, self.faults, method, path, query_string, body)
