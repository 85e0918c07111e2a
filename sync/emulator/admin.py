"""Unsigned /_emulator/ endpoints: request log, faults, tag checks, state, seed, lifecycle, metrics."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from sync.emulator.backend import Backend
from sync.emulator.errors import EmulatorError
from sync.emulator.faults import Faults
from sync.emulator.functions import forward_to_unix_socket
from sync.emulator.wire import Reply, error_reply, json_reply


def admin(backend: Backend, faults: Faults, method: str, path: str, query_string: str, body: bytes) -> Reply:
    """Unsigned /_emulator/ endpoints: requests, faults, state, seed, reset-log, lifecycle."""
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(query_string).items()}
    try:
        payload: Any = json.loads(body) if body else {}
    except ValueError:
        return json_reply(400, {"code": "InvalidParameter", "message": "body is not JSON"})
    name = path.removeprefix("/_emulator/").rstrip("/")
    try:
        if name == "requests" and method == "GET":
            records = backend.log.requests(query.get("operation"))
            return json_reply(200, [r.to_dict() for r in records])
        if name == "faults" and method == "GET":
            return json_reply(200, faults.to_dict())
        if name == "faults" and method == "POST":
            if not isinstance(payload, dict):
                raise ValueError("faults must be a JSON object")
            faults.update(payload)
            return json_reply(200, faults.to_dict())
        if name == "tag-checks" and method == "GET":
            return json_reply(200, backend.tag_checks.to_dict())
        if name == "tag-checks" and method == "POST":
            if not isinstance(payload, dict):
                raise ValueError("tag-checks must be a JSON object")
            backend.tag_checks.update(payload)
            return json_reply(200, backend.tag_checks.to_dict())
        if name == "state" and method == "GET":
            return json_reply(200, backend.snapshot())
        if name == "seed" and method == "POST":
            if not isinstance(payload, dict):
                raise ValueError("a seed must be a JSON object")
            backend.load(payload)
            return json_reply(200, {"ok": True})
        if name == "reset-log" and method == "POST":
            backend.log.reset()
            return json_reply(200, {"ok": True})
        if name == "metrics" and method == "GET":
            return json_reply(200, backend.monitoring.metric_posts())
        if name == "invocations" and method == "GET":
            return json_reply(
                200, [i.to_dict() for i in backend.functions.invocations(query.get("functionId"))]
            )
        if name == "functions" and method == "POST":
            socket_path = payload.get("forwardUnixSocket")
            backend.functions.register_function(
                str(payload["id"]),
                forward_to_unix_socket(str(socket_path)) if socket_path else None,
                float(payload.get("timeoutSeconds", 30.0)),
            )
            return json_reply(200, {"ok": True})
        if name == "lifecycle" and method == "POST":
            backend.blockstorage.set_lifecycle_state(
                str(payload["id"]),
                str(payload["lifecycleState"]),
                available_after_seconds=payload.get("availableAfterSeconds"),
                available_after_gets=payload.get("availableAfterGets"),
            )
            return json_reply(200, {"ok": True})
    except (ValueError, TypeError, KeyError) as exc:
        return json_reply(400, {"code": "InvalidParameter", "message": str(exc)})
    except EmulatorError as err:
        return error_reply(err)
    return json_reply(404, {"code": "NotFound", "message": f"no admin endpoint {method} {path}"})
