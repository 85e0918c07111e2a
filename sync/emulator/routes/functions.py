"""Functions invoke routes: InvokeFunction, served on the function's invoke endpoint in OCI.

The API reference documents version 20181201; the Python SDK 2.189.0's FunctionsInvokeClient
sends 20260325. Both are served, with the same behaviour.
"""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.errors import EmulatorError
from sync.emulator.wire import Reply, Request, Route

API_VERSIONS = ("20181201", "20260325")


def invoke_function(backend: Backend, req: Request) -> Reply:
    version, function_id = req.params
    if version not in API_VERSIONS:
        raise EmulatorError(404, "NotAuthorizedOrNotFound", f"Unknown API version {version}")
    headers = {k.lower(): v for k, v in req.headers.items()}
    status, body, content_type = backend.functions.invoke_function(
        function_id, req.body, headers, headers.get("opc-request-id")
    )
    return Reply(status, body, {"Content-Type": content_type})


ROUTES = [
    Route("POST", "/{apiVersion}/functions/{functionId}/actions/invoke", "InvokeFunction", invoke_function),
]
