"""The Fn handler's body: state built once per container, one JSON answer per call."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync import logs
from sync.clock import clock_from_env
from sync.cloud.calls import Retries
from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.cloud.engine import Engine, Outcome
from sync.cloud.leanport import LeanPort
from sync.cloud.logfields import backup_fields
from sync.cloud.retry import Deadline
from sync.cloud.tagcache import TagSchemaCache
from sync.domain.status import Status
from sync.function.continuation import Continuation, ContinuationSettings, Continuer
from sync.function.metrics import MetricsPoster, outcome_counts
from sync.policy.loader import Policy
from sync.requests.bodies import BackupRequest, Ignored, Rejected, Request, SweepRequest, parse_request
from sync.sources.base import PolicySource
from sync.sources.bundled import DEFAULT_POLICY
from sync.sources.select import source_from_env

if TYPE_CHECKING:
    from sync.sweep.results import SweepResult

log = logging.getLogger("sync.function.handler")

TRUE = {"1", "true", "yes", "on"}

# The deadline of the invocation being answered: policy loading stops there (load_policy).
_INVOCATION: ContextVar[Deadline | None] = ContextVar("invocation_deadline", default=None)


def env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in TRUE


@dataclass(frozen=True)
class Reply:
    """One call's answer: the HTTP status for Fn, the JSON body, and whether it answers a sweep."""

    http_status: int
    body: dict[str, Any]
    sweep: bool = False

    @classmethod
    def of(cls, outcome: Outcome) -> Reply:
        # Only a transient failure fails the invocation, so the platform counts (and may retry)
        # it; permanent outcomes are answers, not errors.
        return cls(502 if outcome.transient else 200, outcome.to_json())

    @classmethod
    def of_sweep(cls, result: SweepResult, continuation: Continuation | None) -> Reply:
        body = result.to_json()
        if continuation is not None:
            body.update(continuation.to_json())
        return cls(200, body, sweep=True)


class App:
    """What a warm container keeps between invocations: settings, the OCI port, policy cache."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        logs.setup(self.env.get("LOG_LEVEL", "info"))
        self.dry_run = env_flag(self.env, "DRY_RUN")
        self.config_error: str | None = None
        try:
            settings = OciSettings.from_env(self.env)
        except AuthError as exc:
            self.config_error = str(exc)
            settings = OciSettings.from_env({**self.env, "OCI_AUTH": "config_file"})
        self.clients = Clients(settings)
        self.clock = clock_from_env(self.env)
        self.port = LeanPort(self.clients, Retries(sleep=self.clock.sleep, clock=self.clock.monotonic))
        self.source: PolicySource = source_from_env(self.env, lambda: self.clients, DEFAULT_POLICY)
        self.engine = Engine(self.port, self.load_policy, TagSchemaCache(self.port))
        self.metrics = MetricsPoster.from_env(self.port, self.env)
        self.continuation = ContinuationSettings.from_env(self.env)
        self._continuer: Continuer | None = None

    def load_policy(self) -> Policy:
        """The policy, its loading bounded by the current invocation's deadline (PolicyTimeout past it)."""
        deadline = _INVOCATION.get()
        return self.source.load(time_left=deadline.remaining if deadline is not None else None)

    def handle(
        self, body: bytes, call_id: str | None, deadline_iso: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Answer one call: (HTTP status for Fn, JSON object). Never raises."""
        logs.set_context(fn_call_id=call_id)
        deadline = Deadline.from_fn(deadline_iso, clock=self.clock.monotonic, wall=self.clock.time)
        started = time.monotonic()
        token = _INVOCATION.set(deadline)
        try:
            reply = self._answer(body, deadline, call_id)
        finally:
            _INVOCATION.reset(token)
        if self.metrics is not None:
            # After the answer is made, inside the deadline's margin, never failing the call.
            counts, figures = outcome_counts(reply.body, reply.sweep, time.monotonic() - started)
            self.metrics.post(counts, deadline, figures)
        return reply.http_status, reply.body

    def _answer(self, body: bytes, deadline: Deadline, call_id: str | None = None) -> Reply:
        try:
            request = parse_request(body)
            if isinstance(request, BackupRequest):
                # Every line of this call names the backup (lines about a member name the member).
                logs.set_context(fn_call_id=call_id, **backup_fields(request.backup_id))
            reply = self._dispatch(request, deadline)
        except Exception as exc:  # a bug must still answer JSON, not a traceback
            log.exception("unexpected error", extra={"error_type": type(exc).__name__})
            return Reply(502, {"status": "failed", "error": f"internal error: {type(exc).__name__}"})
        status = reply.body.get("status")
        if reply.sweep:  # a sweep's answer: log its summary, not every backup
            keys = ("status", "counts", "scanned", "resumeToken", "continuedAs", "continuation")
            summary = {k: reply.body.get(k) for k in keys}
            log.info(f"answered sweep {status}", extra={"answer": summary})
        else:
            level = logging.ERROR if status == Status.FAILED else logging.INFO
            log.log(level, f"answered {status}", extra={"answer": reply.body})
        return reply

    def _dispatch(self, request: Request, deadline: Deadline) -> Reply:
        if isinstance(request, Rejected):
            return Reply.of(Outcome(Status.REJECTED, None, error=request.error))
        if isinstance(request, Ignored):
            return Reply.of(Outcome(Status.IGNORED, request.backup_id, error=request.reason))
        if self.config_error:
            return Reply.of(Outcome(Status.REJECTED, None, error=f"configuration: {self.config_error}"))
        if isinstance(request, BackupRequest):
            outcome = self.engine.sync_backup(
                request.backup_id,
                dry_run=request.dry_run or self.dry_run,
                deadline=deadline,
                event=request.event,
            )
            return Reply.of(outcome)
        return self._sweep_and_continue(request, deadline)

    def _sweep_and_continue(self, request: SweepRequest, deadline: Deadline) -> Reply:
        from sync.sweep.function_sweep import max_failures_from, sweep_for_function  # only sweeps import it

        limit = max_failures_from(self.env)
        sweep_deadline = self.continuation.sweep_deadline(deadline)
        result = sweep_for_function(self.engine, request, sweep_deadline, self.dry_run, limit)
        continuation = None
        if self.continuation.enabled:
            if self._continuer is None:
                self._continuer = Continuer(self.port, self.continuation)
            continuation = self._continuer.after_sweep(request, result, deadline)
        return Reply.of_sweep(result, continuation)


_APP: App | None = None
_APP_LOCK = threading.Lock()


def get_app() -> App:
    global _APP
    with _APP_LOCK:
        if _APP is None:
            _APP = App(os.environ)
        return _APP


def handler(ctx: Any, data: Any = None) -> Any:
    """The FDK entry point: `fdk func.py handler`."""
    from fdk import response

    app = get_app()
    body = data.getvalue() if hasattr(data, "getvalue") else (data or b"")
    status, answer = app.handle(body, _safe(ctx.CallID), _safe(ctx.Deadline))
    return response.Response(
        ctx,
        response_data=json.dumps(answer),
        headers={"Content-Type": "application/json"},
        status_code=status,
    )


def _safe(getter: Any) -> str | None:
    try:
        value = getter()
    except Exception:
        return None
    return str(value) if value else None
