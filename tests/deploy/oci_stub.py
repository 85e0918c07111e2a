"""HTTP layer of the control-plane stub: one server per region on 127.0.0.1 (port 0).

The real `oci` CLI reaches it through OCI_CLI_ENDPOINT (the CLI's documented environment form of
`--endpoint`), set per command by the test shim from the command's `--region`. Requests are
signed by the CLI with a generated API key; the stub does not verify signatures but refuses a
request without an `authorization` header, as OCI does. `POST /_stub/fn-deploy` is the fake
`fn deploy`'s way in (the Fn CLI cannot run here)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.deploy import stub_ops, stub_regional  # noqa: F401  (registers their routes)
from tests.deploy.cloud_state import ApiError, Cloud
from tests.deploy.stub_regional import fake_fn_deploy
from tests.deploy.stub_services import ROUTES, UNLOCKED


def make_handler(cloud: Cloud, region: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self, status: int, body: Any, headers: dict[str, str]) -> None:
            raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if "content-type" not in headers:
                self.send_header("content-type", "application/json")
            self.send_header("opc-request-id", uuid.uuid4().hex)
            self.send_header("etag", "etag-1")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def handle_any(self) -> None:
            n = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(n) if n else b""
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            try:
                if parts.path.startswith("/_stub/"):
                    self.answer(*self.private(parts.path, raw))
                    return
                if "authorization" not in self.headers:
                    raise ApiError(
                        401,
                        "NotAuthenticated",
                        "The required information to complete authentication was not provided",
                    )
                body = (
                    json.loads(raw)
                    if raw and "json" in self.headers.get("content-type", "json")
                    else raw.decode()
                )
                for method, pattern, fn in UNLOCKED:
                    m = pattern.match(parts.path)
                    if m and method == self.command:
                        with cloud.lock:
                            cloud.requests.append((region, self.command, parts.path))
                        self.answer(*fn(cloud, region, m, query, body))
                        return
                with cloud.lock:
                    cloud.requests.append((region, self.command, parts.path))
                    cloud.last_headers = {k.lower(): v for k, v in self.headers.items()}
                    for method, pattern, fn in ROUTES:
                        m = pattern.match(parts.path)
                        if m and method == self.command:
                            self.answer(*fn(cloud, region, m, query, body))
                            return
                raise ApiError(404, "NotFound", f"stub has no {self.command} {parts.path}")
            except ApiError as e:
                self.answer(e.status, {"code": e.code, "message": e.message}, {})

        def private(self, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
            b = json.loads(raw)
            with cloud.lock:
                done = fake_fn_deploy(cloud, region, b["app"], b["compartmentId"], b["name"], b["image"])
            return 200, {"result": done}, {}

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    return Handler


class Stub:
    """Servers for each region of one Cloud; `endpoints` maps region -> base URL."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.servers: list[ThreadingHTTPServer] = []
        self.endpoints: dict[str, str] = {}
        for region in cloud.regions:
            srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(cloud, region))
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            self.servers.append(srv)
            self.endpoints[region] = f"http://127.0.0.1:{srv.server_address[1]}"
        cloud.data["endpoints"] = dict(self.endpoints)

    def close(self) -> None:
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()
