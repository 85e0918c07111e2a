"""Functions invoke service: InvokeFunction (sync or detached), recorded, optionally forwarded to a runner.

Sources: API reference Function/InvokeFunction (20181201; `fn-invoke-type: sync|detached`,
`fn-intent`, body up to 6 MB) and "Invoking Functions" (Functions docs: a detached invocation
is answered with HTTP 202 as soon as processing has begun). What a function answers is the
function's business: here a registered function may forward the body to a callable, e.g. the
FDK runner's unix socket (`forward_to_unix_socket`), so a test can run a chain of invocations.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.emulator.errors import EmulatorError, invalid, not_found
from sync.emulator.paging import Json
from sync.unixhttp import UnixHTTPConnection

MAX_BODY_BYTES = 6 * 1024 * 1024
INVOKE_TYPES = ("sync", "detached")
INTENTS = ("httprequest", "cloudevent")
MAX_RECORDED_BODY = 64 * 1024
RECORDED_HEADERS = ("fn-invoke-type", "fn-intent", "content-type", "opc-request-id", "is-dry-run")

Forward = Callable[[bytes, float], tuple[int, bytes]]
"""(body, timeout seconds) -> (status, answer body): what runs the function for this emulator."""


@dataclass
class _Function:
    function_id: str
    forward: Forward | None
    timeout_seconds: float


@dataclass
class Invocation:
    """One InvokeFunction as the emulator saw it (what it forwarded, and what came back)."""

    function_id: str
    invoke_type: str
    body: str
    headers: dict[str, str]
    opc_request_id: str | None
    time: float = field(default_factory=time.time)
    forward_status: int | None = None
    forward_body: str | None = None
    forward_error: str | None = None

    def to_dict(self) -> Json:
        return {
            "functionId": self.function_id,
            "invokeType": self.invoke_type,
            "body": self.body,
            "headers": self.headers,
            "opcRequestId": self.opc_request_id,
            "time": self.time,
            "forwardStatus": self.forward_status,
            "forwardBody": self.forward_body,
            "forwardError": self.forward_error,
        }


class FunctionsBackend:
    """Registered functions and every invocation; detached forwards run on their own threads."""

    def __init__(self, *, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._functions: dict[str, _Function] = {}
        self._invocations: list[Invocation] = []
        self._threads: list[threading.Thread] = []

    def register_function(
        self, function_id: str, forward: Forward | None = None, timeout_seconds: float = 30.0
    ) -> None:
        """Make function_id invocable; forward (if any) runs each invocation's body."""
        if not function_id.startswith("ocid1.fnfunc."):
            raise invalid(f"{function_id!r} is not a function OCID")
        with self._lock:
            self._functions[function_id] = _Function(function_id, forward, timeout_seconds)

    def invoke_function(
        self, function_id: str, body: bytes, headers: dict[str, str], opc_request_id: str | None = None
    ) -> tuple[int, bytes, str]:
        """InvokeFunction: (status, answer body, content type). Detached: 202 at once."""
        with self._lock:
            fn = self._functions.get(function_id)
        if fn is None:
            raise not_found("function", function_id)
        invoke_type = headers.get("fn-invoke-type", "sync").lower()
        if invoke_type not in INVOKE_TYPES:
            raise invalid("fn-invoke-type must be sync or detached")
        intent = headers.get("fn-intent")
        if intent is not None and intent not in INTENTS:
            raise invalid("fn-intent must be httprequest or cloudevent")
        if len(body) > MAX_BODY_BYTES:
            raise EmulatorError(413, "PayloadTooLarge", "The invoke body is larger than 6 MB")
        record = Invocation(
            function_id,
            invoke_type,
            body[:MAX_RECORDED_BODY].decode("utf-8", errors="replace"),
            {k: headers[k] for k in RECORDED_HEADERS if k in headers},
            opc_request_id,
        )
        with self._lock:
            self._invocations.append(record)
        if invoke_type == "detached":
            if fn.forward is not None:
                thread = threading.Thread(
                    target=self._run, args=(fn, body, record), name="fn-detached", daemon=True
                )
                with self._lock:
                    self._threads.append(thread)
                thread.start()
            return 202, b"", "application/json"
        if fn.forward is None:
            return 200, b"", "application/octet-stream"  # a function that answers nothing
        self._run(fn, body, record)
        status = record.forward_status or 502
        return (200 if status == 200 else 502), (record.forward_body or "").encode(), "application/json"

    def _run(self, fn: _Function, body: bytes, record: Invocation) -> None:
        assert fn.forward is not None
        try:
            status, answer = fn.forward(body, fn.timeout_seconds)
        except Exception as exc:  # the runner died or refused: recorded, like a failed invocation
            with self._lock:
                record.forward_error = f"{type(exc).__name__}: {exc}"[:500]
            return
        with self._lock:
            record.forward_status = status
            record.forward_body = answer[:MAX_RECORDED_BODY].decode("utf-8", errors="replace")

    def invocations(self, function_id: str | None = None) -> list[Invocation]:
        with self._lock:
            return [i for i in self._invocations if function_id is None or i.function_id == function_id]

    def wait_for_detached(self, timeout: float) -> bool:
        """Wait until every detached forward (including those started meanwhile) has finished."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                running = [t for t in self._threads if t.is_alive()]
                self._threads = running
            if not running:
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            running[0].join(timeout=min(left, 0.5))


def forward_to_unix_socket(path: str) -> Forward:
    """A Forward that POSTs to an Fn FDK listening on `path` (FN_FORMAT=http-stream), as the Fn agent does."""

    def forward(body: bytes, seconds: float) -> tuple[int, bytes]:
        deadline = datetime.now(UTC) + timedelta(seconds=seconds)
        headers: dict[str, Any] = {
            "Fn-Call-Id": uuid.uuid4().hex.upper()[:26],
            "Fn-Deadline": deadline.isoformat().replace("+00:00", "Z"),
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }
        conn = UnixHTTPConnection(path, seconds + 30)
        try:
            conn.request("POST", "/call", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    return forward
