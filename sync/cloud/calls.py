"""One OCI call inside the deadline: a budget check before it, its timeout capped, bounded retries."""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sync.clock import clock_from_env
from sync.cloud.logfields import backup_fields
from sync.cloud.outcome import CallFailed
from sync.cloud.retry import Deadline, backoff_delay, parse_retry_after

log = logging.getLogger("sync.cloud.calls")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_409_CODES = frozenset({"IncorrectState", "Conflict"})
# No call starts with less time left than this: it could not get an answer anyway.
MIN_CALL_SECONDS = 0.1
# A refused or unreachable endpoint is not retried past this many seconds after the first try.
CONNECT_GIVE_UP_SECONDS = 4.0
WRITE_OPERATIONS = frozenset({"UpdateVolumeGroupBackup", "UpdateVolumeBackup", "UpdateBootVolumeBackup"})
# Calls with an effect: sent but unanswered (a timeout, not a refused connection), it may have happened.
EFFECT_OPERATIONS = WRITE_OPERATIONS | {"InvokeFunction"}

_CONNECT_ERRORS = frozenset(
    {"NewConnectionError", "ConnectTimeoutError", "NameResolutionError", "ConnectTimeout"}
)
_READ_TIMEOUTS = frozenset({"ReadTimeoutError", "ReadTimeout", "TimeoutError"})
_ENDPOINT = re.compile(r"Request Endpoint: (\S+ \S+)")


class Limiter(Protocol):
    """Shared pacing for many concurrent calls (the sweep); the single-event path has none."""

    def acquire(self, deadline: Deadline) -> bool: ...

    def throttled(self, retry_after: float | None) -> None: ...


def failure_from(operation: str, exc: BaseException) -> CallFailed:
    from oci.exceptions import ServiceError

    if isinstance(exc, ServiceError):
        headers = exc.headers or {}
        status = int(exc.status) if exc.status is not None else None
        code = str(exc.code or "")
        transient = status in TRANSIENT_STATUSES or (status == 409 and code in TRANSIENT_409_CODES)
        return CallFailed(
            operation,
            status,
            code,
            str(exc.message or "")[:500],
            exc.request_id,
            transient,
            parse_retry_after(headers.get("retry-after") or headers.get("Retry-After")),
        )
    # Connection errors and timeouts (requests/urllib3 underneath the SDK): no response, no
    # request id, safe to retry because our only write is guarded by if-match.
    chain = _chain(exc)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    connect_failed = bool(names & _CONNECT_ERRORS)
    return CallFailed(
        operation,
        None,
        type(exc).__name__,
        _describe(chain, connect_failed, bool(names & _READ_TIMEOUTS)),
        None,
        transient=True,
        connect_failed=connect_failed,
        outcome_unknown=operation in EFFECT_OPERATIONS and not connect_failed,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """exc and what it wraps (causes, exception arguments, urllib3's `reason`), outermost first."""
    chain = [exc]
    while len(chain) < 10:
        cur = chain[-1]
        inner = [a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(cur, "reason", None)
        nxt = inner[0] if inner else reason if isinstance(reason, BaseException) else None
        nxt = nxt or cur.__cause__ or cur.__context__
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain


def _describe(chain: list[BaseException], connect_failed: bool, timed_out: bool) -> str:
    """A whole, short sentence: what happened, the innermost reason, and the request."""
    what = (
        "could not connect" if connect_failed else "no answer in time" if timed_out else "connection failed"
    )
    reason = str(chain[-1])
    # urllib3 prefixes reasons with its connection object's repr; keep the words after it.
    reason = re.sub(r"^<?[\w.]*(Connection|Pool)\w*[( ].*?[)>]: ", "", reason)[:200]
    endpoint = next((m.group(1) for e in chain for a in e.args if (m := _ENDPOINT.search(str(a)))), None)
    return f"{what} ({reason})" + (f": {endpoint}" if endpoint else "")


class Retries:
    """One OCI call with deadline-bounded retries: the only path any OCI call takes (the port holds one)."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        # Default: the process's clock (sync/clock.py: the system's unless a test set one).
        system = clock_from_env()
        self.sleep = sleep or system.sleep
        self.rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self.clock = clock or system.monotonic

    def call(
        self,
        operation: str,
        fn: Callable[..., Any],
        backup_id: str | None,
        deadline: Deadline,
        *,
        limiter: Limiter | None = None,
        retry: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Run one call, retrying transient failures with backoff inside the deadline.

        No attempt starts with less than MIN_CALL_SECONDS left, and each attempt's connect and
        read timeouts are capped by the time left (sync/cloud/lean.py's `bounded`). limiter:
        the sweep's shared pacing. retry=False: one attempt, its failure raised unlogged (the
        caller reports it, e.g. a tag schema read that must never hold an update back).
        """
        from sync.cloud.lean import bounded

        attempt = 0
        first_try: float | None = None
        while True:
            if deadline.remaining() < MIN_CALL_SECONDS or (
                limiter is not None and not limiter.acquire(deadline)
            ):
                raise CallFailed(operation, None, "DeadlineExceeded", "no time left for the call", None, True)
            if first_try is None:
                first_try = self.clock()
            try:
                with bounded(deadline.remaining):
                    return fn(**kwargs)
            except Exception as exc:
                failure = failure_from(operation, exc)
            if not retry:
                raise failure
            if failure.status == 429 and limiter is not None:
                limiter.throttled(failure.retry_after)
            with self._rng_lock:
                delay = backoff_delay(attempt, failure.retry_after, self.rng)
            will_retry = failure.transient and delay + MIN_CALL_SECONDS <= deadline.remaining()
            if failure.connect_failed and self.clock() + delay - first_try > CONNECT_GIVE_UP_SECONDS:
                will_retry = False  # nothing listens there: say so now, not at the deadline
            self._log_failure(failure, backup_id, attempt, will_retry)
            if not will_retry:
                raise failure
            self.sleep(delay)
            attempt += 1

    def _log_failure(
        self, failure: CallFailed, backup_id: str | None, attempt: int, will_retry: bool
    ) -> None:
        # The line's "message" is OCI's own message, as the README's log section promises.
        log.error(
            failure.message or f"{failure.operation} failed",
            extra={
                "operation": failure.operation,
                "status": failure.status,
                "code": failure.code,
                "opc_request_id": failure.opc_request_id,
                **backup_fields(backup_id),
                "attempt": attempt + 1,
                "will_retry": will_retry,
            },
        )
