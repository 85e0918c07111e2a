"""A function sweep too big for one invocation goes on in a detached invocation of the same function.

When FUNCTION_ID (or Fn's FN_FN_ID) and FUNCTION_INVOKE_ENDPOINT are set, the sweep runs with
RESERVE_SECONDS kept back from its deadline; if it stops with a resume token, the function
invokes itself with `fn-invoke-type: detached` and the same sweep plus `page` (the token) and
`continuation` (the depth). The token resumes right after the pages this invocation finished,
so finished work is not redone. At SWEEP_MAX_CONTINUATIONS the chain stops and logs how to
resume by hand. A failed invoke is logged with its opc-request-id and the answer keeps the token.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.cloud.clients import Clients
from sync.cloud.retry import Deadline
from sync.requests.bodies import MAX_CONTINUATION, SweepRequest
from sync.requests.since import rfc3339

log = logging.getLogger("sync.function.continuation")

DEFAULT_MAX_CONTINUATIONS = 20
# Kept back from the sweep's deadline for the detached invoke (which answers at once).
RESERVE_SECONDS = 2.0
CONNECT_SECONDS = 0.5
MIN_INVOKE_SECONDS = 0.2
# A sweep can end late (a call in flight at its deadline); the invoke may then use this much
# of the 2 s Deadline keeps back from Fn's, before the metrics post (which gets what is left).
MARGIN_USABLE_SECONDS = 1.0


@dataclass(frozen=True)
class ContinuationSettings:
    function_id: str | None
    invoke_endpoint: str | None
    max_continuations: int = DEFAULT_MAX_CONTINUATIONS
    error: str | None = None  # a bad SWEEP_MAX_CONTINUATIONS: logged, default used

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ContinuationSettings:
        raw = (env.get("SWEEP_MAX_CONTINUATIONS") or "").strip()
        limit, error = DEFAULT_MAX_CONTINUATIONS, None
        if raw:
            try:
                limit = int(raw)
            except ValueError:
                error = f"SWEEP_MAX_CONTINUATIONS={raw[:20]!r} is not a whole number"
            else:
                if not 0 <= limit <= MAX_CONTINUATION:
                    error = f"SWEEP_MAX_CONTINUATIONS={limit} is not within 0..{MAX_CONTINUATION}"
                    limit = DEFAULT_MAX_CONTINUATIONS
        return cls(
            (env.get("FUNCTION_ID") or env.get("FN_FN_ID") or "").strip() or None,
            (env.get("FUNCTION_INVOKE_ENDPOINT") or "").strip() or None,
            limit,
            error,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.function_id and self.invoke_endpoint)

    def sweep_deadline(self, deadline: Deadline) -> Deadline:
        """The sweep's own deadline: RESERVE_SECONDS earlier when it may have to continue."""
        if not self.enabled:
            return deadline
        return Deadline(deadline.at - RESERVE_SECONDS, deadline.clock)


def continuation_body(request: SweepRequest, token: str, depth: int) -> dict[str, Any]:
    """The same sweep, from the token; `since` absolute so every link covers the same window."""
    sweep: dict[str, Any] = {
        "compartmentId": request.compartment_id,
        "recursive": request.recursive,
        "dryRun": request.dry_run,
        "page": token,
        "continuation": depth,
    }
    if request.since is not None:
        sweep["since"] = rfc3339(request.since)
    return {"sweep": sweep}


class Continuer:
    """Invokes the function detached to carry a sweep on; one FunctionsInvokeClient per container."""

    def __init__(self, clients: Clients, settings: ContinuationSettings) -> None:
        self.clients = clients
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        if settings.error:
            log.error(f"{settings.error}; using {settings.max_continuations}")

    def _invoke_client(self) -> Any:
        if self._client is None:
            import oci
            from oci.functions import FunctionsInvokeClient

            config, signer = self.clients.auth()
            self._client = FunctionsInvokeClient(
                config,
                signer=signer,
                service_endpoint=self.settings.invoke_endpoint,
                retry_strategy=oci.retry.NoneRetryStrategy(),
                circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
            )
        return self._client

    def after_sweep(self, request: SweepRequest, answer: dict[str, Any], deadline: Deadline) -> None:
        """Continue a partial sweep if configured, noting it in the answer. Never raises."""
        token = answer.get("resumeToken")
        if not self.settings.enabled or not token or answer.get("status") != "partial":
            return
        depth = request.continuation + 1
        body = continuation_body(request, str(token), depth)
        if request.continuation >= self.settings.max_continuations:
            resume = continuation_body(request, str(token), 0)
            log.error(
                f"sweep stopped after {request.continuation} continuations (SWEEP_MAX_CONTINUATIONS);"
                " resume it by invoking the function with the body in `resume_body`",
                extra={"compartment_id": request.compartment_id, "resume_body": json.dumps(resume)},
            )
            answer["continuationStopped"] = (
                f"SWEEP_MAX_CONTINUATIONS ({self.settings.max_continuations}) reached"
            )
            return
        left = min(RESERVE_SECONDS, deadline.remaining() + MARGIN_USABLE_SECONDS)
        if left < MIN_INVOKE_SECONDS:
            log.error("no time left to continue the sweep; resume it from resumeToken")
            answer["continuationError"] = "no time left to invoke the continuation"
            return
        try:
            with self._lock:
                client = self._invoke_client()
                client.base_client.timeout = (min(CONNECT_SECONDS, left), left)
                resp = client.invoke_function(
                    self.settings.function_id,
                    invoke_function_body=json.dumps(body).encode(),
                    fn_invoke_type="detached",
                )
        except Exception as exc:  # the sweep's answer stands; the token is in it
            answer["continuationError"] = self._log_failure(exc)
            return
        answer["continuedAs"] = resp.request_id
        answer["continuation"] = depth
        log.info(
            f"sweep continues in a detached invocation (continuation {depth})",
            extra={"operation": "InvokeFunction", "opc_request_id": resp.request_id, "status": resp.status},
        )

    @staticmethod
    def _log_failure(exc: Exception) -> str:
        from oci.exceptions import ServiceError

        if isinstance(exc, ServiceError):
            extra = {"status": exc.status, "code": exc.code, "opc_request_id": exc.request_id}
            text = f"InvokeFunction: {exc.status} {exc.code}: {str(exc.message or '')[:200]}"
        else:
            extra = {"status": None, "code": type(exc).__name__, "opc_request_id": None}
            text = f"InvokeFunction: {type(exc).__name__}: {str(exc)[:200]}"
        log.error(
            "could not continue the sweep; resume it from resumeToken",
            extra={"operation": "InvokeFunction", "error": text, **extra},
        )
        return text
