"""A function sweep too big for one invocation goes on in a detached invocation of the same function.

When FUNCTION_ID (or Fn's FN_FN_ID) and FUNCTION_INVOKE_ENDPOINT are set, the sweep runs with
RESERVE_SECONDS kept back from its deadline; if it stops with a resume token, the function
invokes itself with `fn-invoke-type: detached` and the same sweep plus `page` (the token) and
`continuation` (the depth). The token resumes right after the pages this invocation finished,
so finished work is not redone. At SWEEP_MAX_CONTINUATIONS, or after a link that made no
progress (it stopped where it started and updated nothing), the chain stops and logs why and how
to resume by hand. A failed invoke is logged with its opc-request-id and the answer keeps the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.cloud.clients import AuthError
from sync.cloud.outcome import CallFailed
from sync.cloud.port import OciPort
from sync.cloud.retry import Deadline
from sync.domain.status import SweepStatus
from sync.requests.bodies import MAX_CONTINUATION, SweepRequest
from sync.requests.since import rfc3339

if TYPE_CHECKING:
    from sync.sweep.results import SweepResult

log = logging.getLogger("sync.function.continuation")

DEFAULT_MAX_CONTINUATIONS = 20
# Kept back from the sweep's deadline for the detached invoke (which answers at once).
RESERVE_SECONDS = 2.0
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
        "availableOnly": request.available_only,
    }
    if request.since is not None:
        sweep["since"] = rfc3339(request.since)
    if request.kinds is not None:
        sweep["kinds"] = [k.value for k in request.kinds]
    return {"sweep": sweep}


@dataclass(frozen=True)
class Continuation:
    """What continuing a sweep did, as the answer's continuedAs / continuation / continuation* fields."""

    continued_as: str | None = None  # the invoke's opc-request-id
    depth: int | None = None
    stopped: str | None = None  # SWEEP_MAX_CONTINUATIONS reached
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.depth is not None:
            out["continuedAs"] = self.continued_as
            out["continuation"] = self.depth
        if self.stopped:
            out["continuationStopped"] = self.stopped
        if self.error:
            out["continuationError"] = self.error
        return out


class Continuer:
    """Invokes the function detached to carry a sweep on, through the OCI port."""

    def __init__(self, port: OciPort, settings: ContinuationSettings) -> None:
        self.port = port
        self.settings = settings
        if settings.error:
            log.error(f"{settings.error}; using {settings.max_continuations}")

    def after_sweep(
        self, request: SweepRequest, result: SweepResult, deadline: Deadline
    ) -> Continuation | None:
        """Continue a partial sweep if configured (None: nothing to continue). Never raises."""
        token = result.resume_token
        endpoint, function_id = self.settings.invoke_endpoint, self.settings.function_id
        if not endpoint or not function_id or not token or result.status is not SweepStatus.PARTIAL:
            return None
        depth = request.continuation + 1
        body = continuation_body(request, token, depth)
        if request.continuation >= self.settings.max_continuations:
            why = f"SWEEP_MAX_CONTINUATIONS ({self.settings.max_continuations}) reached"
            return self._stop(request, token, why, f"after {request.continuation} continuations")
        if token == request.page and not result.counts().get("updated"):
            # The next link would start where this one did and meet what held this one up
            # (a backup that keeps failing, a throttled endpoint): a loop, not a sweep.
            why = "no progress: this link resumed and stopped at the same place and updated nothing"
            return self._stop(request, token, why, "without progress")
        left = min(RESERVE_SECONDS, deadline.remaining() + MARGIN_USABLE_SECONDS)
        if left < MIN_INVOKE_SECONDS:
            log.error("no time left to continue the sweep; resume it from resumeToken")
            return Continuation(error="no time left to invoke the continuation")
        try:
            got = self.port.invoke_function(
                endpoint, function_id, json.dumps(body).encode(), Deadline.after(left), detached=True
            )
        except CallFailed as failure:  # the sweep's answer stands; the token is in it
            if failure.outcome_unknown:
                return Continuation(error=self._log_unknown(failure, depth))
            return Continuation(error=self._log_failure(failure))
        except AuthError as exc:
            return Continuation(
                error=self._log_failure(
                    CallFailed("InvokeFunction", None, "AuthError", str(exc), None, False)
                )
            )
        log.info(
            f"sweep continues in a detached invocation (continuation {depth})",
            extra={"operation": "InvokeFunction", "opc_request_id": got.request_id, "status": got.value},
        )
        return Continuation(got.request_id, depth)

    @staticmethod
    def _stop(request: SweepRequest, token: str, why: str, when: str) -> Continuation:
        """End the chain: log why and the body that resumes it by hand; the answer says why too."""
        resume = continuation_body(request, token, 0)
        log.error(
            f"sweep stopped {when} ({why}); resume it by invoking the function with the body in"
            " `resume_body` once the cause is gone",
            extra={"compartment_id": request.compartment_id, "resume_body": json.dumps(resume)},
        )
        return Continuation(stopped=why)

    @staticmethod
    def _log_unknown(failure: CallFailed, depth: int) -> str:
        """The invoke was sent and no answer came: the continuation may be running. Resuming from
        the token now could start a second chain beside it, so the line does not advise it."""
        text = (
            f"InvokeFunction outcome unknown ({failure.message[:200]}): the continuation"
            f" (continuation {depth}) may have started"
        )
        log.error(
            text + "; look for its invocation in the function's logs before resuming anything",
            extra={
                "operation": "InvokeFunction",
                "code": failure.code,
                "outcome": "unknown",
                "continuation": depth,
            },
        )
        return text

    @staticmethod
    def _log_failure(failure: CallFailed) -> str:
        text = f"InvokeFunction: {failure.status} {failure.code}: {failure.message[:200]}"
        if failure.status is None:
            text = f"InvokeFunction: {failure.code}: {failure.message[:200]}"
        log.error(
            "could not continue the sweep; resume it from resumeToken",
            extra={
                "operation": "InvokeFunction",
                "error": text,
                "status": failure.status,
                "code": failure.code,
                "opc_request_id": failure.opc_request_id,
            },
        )
        return text
