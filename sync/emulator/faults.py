"""Fault injection switches for the emulator: latency, errors, rate limits, 412 races, drops, drips."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ERROR_CODES: dict[int, str] = {
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

# The 4xx answers a transient-error rule may give, with OCI's code for each (Oracle's API errors
# page lists these as retryable with backoff).
TRANSIENT_CODES: dict[int, str] = {
    400: "RelatedResourceNotAuthorizedOrNotFound",
    401: "NotAuthenticated",
    404: "NotAuthorizedOrNotFound",
    409: "IncorrectState",
}

# Backup updates, whose if-match a 412 race makes stale.
BACKUP_UPDATES = frozenset({"UpdateVolumeGroupBackup", "UpdateVolumeBackup", "UpdateBootVolumeBackup"})

_PUBLIC = (
    "latency_ms",
    "error_rate",
    "error_mix",
    "rate_limit_rps",
    "rate_limit_burst",
    "retry_after_seconds",
    "race_412_next",
    "drop_rate",
    "slow_rate",
    "slow_seconds",
    "seed",
    "operations",
    "denied_operations",
    "transient_errors",
    "drip_seconds",
    "drip_operations",
    "stall_seconds",
    "stall_operations",
)


@dataclass(frozen=True)
class FaultDecision:
    """What the HTTP layer must do to one request before (or instead of) serving it."""

    delay_seconds: float = 0.0
    drop: bool = False
    status: int | None = None
    code: str | None = None
    retry_after: int | None = None
    race_412: bool = False
    slow: bool = False
    transient: bool = False
    drip_seconds: float = 0.0  # send the body one byte per this many seconds
    stall_seconds: float = 0.0  # send half the body, wait this long, then close the connection

    @property
    def label(self) -> str | None:
        if self.drop:
            return "drop"
        if self.status is not None:
            return f"transient:{self.status}" if self.transient else f"error:{self.status}"
        if self.race_412:
            return "race_412"
        if self.stall_seconds:
            return "stall"
        if self.drip_seconds:
            return "drip"
        if self.slow:
            return "slow"
        return None


def _transient_rule(rule: Any) -> dict[str, Any]:
    """A transient-error rule {"status", "count", "operations"?} checked and normalised."""
    if not isinstance(rule, Mapping):
        raise ValueError("a transient_errors rule must be an object {status, count, operations?}")
    unknown = set(rule) - {"status", "count", "operations"}
    if unknown:
        raise ValueError(f"unknown transient_errors field(s): {', '.join(sorted(unknown))}")
    if "status" not in rule or "count" not in rule:
        raise ValueError("a transient_errors rule needs status and count")
    status, count, operations = int(rule["status"]), int(rule["count"]), rule.get("operations")
    if status not in TRANSIENT_CODES:
        raise ValueError(f"transient_errors: status {status} must be one of {sorted(TRANSIENT_CODES)}")
    if count < 0:
        raise ValueError("transient_errors: count must not be negative")
    return {
        "status": status,
        "count": count,
        "operations": None if operations is None else [str(o) for o in operations],
    }


@dataclass
class Faults:
    """Mutable switches; change them with update() (or plain assignment) while the server runs.

    latency_ms: added to every API request. error_rate: fraction answered with an error
    drawn from error_mix (status -> weight). rate_limit_rps: token bucket across all API
    requests (burst rate_limit_burst, default max(1, rps)); above it 429 with Retry-After.
    race_412_next: the next N backup updates (of any kind) find the backup changed by another
    writer first, so their if-match is stale. drop_rate: close the connection with no response.
    slow_rate/slow_seconds: answer after a long sleep. operations: restrict error/drop/slow
    injection to these operation names (None: all). denied_operations: answered 404
    NotAuthorizedOrNotFound, as OCI answers a caller that lacks the permission.
    transient_errors: rules {"status": 400|401|404|409, "count": N, "operations"?: [...]}; each
    answers its next N matching requests with that status and OCI's code, then is spent.
    drip_seconds: answers of drip_operations (None: all) send their headers, then the body one
    byte every drip_seconds. stall_seconds: answers of stall_operations (None: all) send their
    headers and half the body, then hang for stall_seconds and close the connection.
    seed: makes the random draws repeatable.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_mix: dict[int, float] = field(default_factory=lambda: {429: 1.0, 500: 1.0, 503: 1.0})
    rate_limit_rps: float = 0.0
    rate_limit_burst: float | None = None
    retry_after_seconds: int = 1
    race_412_next: int = 0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    seed: int | None = None
    operations: list[str] | None = None
    # Operations the caller lacks the permission for: OCI answers those 404
    # NotAuthorizedOrNotFound (it does not say which), e.g. a policy without UPDATE.
    denied_operations: list[str] | None = None
    transient_errors: list[dict[str, Any]] = field(default_factory=list)
    drip_seconds: float = 0.0
    drip_operations: list[str] | None = None
    stall_seconds: float = 0.0
    stall_operations: list[str] | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _tokens: float = field(default=0.0, repr=False, compare=False)
    _last_refill: float | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.transient_errors = [_transient_rule(r) for r in self.transient_errors]
        self._validate()
        self._rng.seed(self.seed)

    def _validate(self) -> None:
        for name in ("error_rate", "drop_rate", "slow_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in (
            "latency_ms",
            "rate_limit_rps",
            "slow_seconds",
            "race_412_next",
            "drip_seconds",
            "stall_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for status, weight in self.error_mix.items():
            if status not in ERROR_CODES or weight < 0:
                raise ValueError(
                    f"error_mix: status {status} must be one of {sorted(ERROR_CODES)} with a weight >= 0"
                )
        if self.error_rate and not any(w > 0 for w in self.error_mix.values()):
            raise ValueError("error_mix needs at least one positive weight")

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a JSON-ish dict of changes (unknown keys: ValueError); reseed when seed is given."""
        unknown = set(changes) - set(_PUBLIC)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        with self._lock:
            old = {name: getattr(self, name) for name in _PUBLIC}
            try:
                for key, value in changes.items():
                    if key == "error_mix" and value is not None:
                        value = {int(k): float(v) for k, v in dict(value).items()}
                    if key in _OPERATION_LISTS and value is not None:
                        value = [str(v) for v in value]
                    if key == "transient_errors":
                        value = [_transient_rule(r) for r in value or []]
                    setattr(self, key, value)
                self._validate()
            except (TypeError, ValueError):
                for name, value in old.items():
                    setattr(self, name, value)
                raise
            if "seed" in changes:
                self._rng.seed(self.seed)
            if "rate_limit_rps" in changes or "rate_limit_burst" in changes:
                self._last_refill = None

    def reset(self) -> None:
        """All switches off."""
        self.update({name: getattr(Faults(), name) for name in _PUBLIC})

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            out = {name: getattr(self, name) for name in _PUBLIC}
        out["error_mix"] = {str(k): v for k, v in self.error_mix.items()}
        out["transient_errors"] = [dict(r) for r in self.transient_errors]
        return out

    def _take_transient(self, operation: str) -> int | None:
        for rule in self.transient_errors:
            if rule["count"] > 0 and (rule["operations"] is None or operation in rule["operations"]):
                rule["count"] -= 1
                return int(rule["status"])
        return None

    def _body_faults(self, operation: str) -> tuple[float, float]:
        """(drip_seconds, stall_seconds) for this operation's answer; 0 where off."""
        drip = self.drip_operations is None or operation in self.drip_operations
        stall = self.stall_operations is None or operation in self.stall_operations
        return (self.drip_seconds if drip else 0.0), (self.stall_seconds if stall else 0.0)

    def _take_token(self) -> bool:
        if self.rate_limit_rps <= 0:
            return True
        burst = self.rate_limit_burst or max(1.0, self.rate_limit_rps)
        now = self.clock()
        if self._last_refill is None:
            self._tokens = burst
        else:
            self._tokens = min(burst, self._tokens + (now - self._last_refill) * self.rate_limit_rps)
        self._last_refill = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def decide(self, operation: str) -> FaultDecision:
        """Draw this request's fate; call once per API request (admin requests never)."""
        with self._lock:
            delay = self.latency_ms / 1000.0
            if not self._take_token():
                return FaultDecision(
                    delay_seconds=delay,
                    status=429,
                    code=ERROR_CODES[429],
                    retry_after=self.retry_after_seconds,
                )
            if self.denied_operations and operation in self.denied_operations:
                return FaultDecision(delay_seconds=delay, status=404, code="NotAuthorizedOrNotFound")
            transient = self._take_transient(operation)
            if transient is not None:
                return FaultDecision(
                    delay_seconds=delay, status=transient, code=TRANSIENT_CODES[transient], transient=True
                )
            targeted = self.operations is None or operation in self.operations
            # Draw every random number on every request so a seed gives the same sequence
            # regardless of which switches are on.
            r_drop, r_slow, r_err, r_mix = (self._rng.random() for _ in range(4))
            slow = targeted and r_slow < self.slow_rate
            if slow:
                delay += self.slow_seconds
            if targeted and r_drop < self.drop_rate:
                return FaultDecision(delay_seconds=delay, drop=True, slow=slow)
            if targeted and r_err < self.error_rate:
                status = self._pick_status(r_mix)
                return FaultDecision(
                    delay_seconds=delay,
                    status=status,
                    code=ERROR_CODES[status],
                    retry_after=self.retry_after_seconds if status == 429 else None,
                    slow=slow,
                )
            race = False
            if operation in BACKUP_UPDATES and self.race_412_next > 0:
                self.race_412_next -= 1
                race = True
            drip, stall = self._body_faults(operation)
            return FaultDecision(
                delay_seconds=delay, race_412=race, slow=slow, drip_seconds=drip, stall_seconds=stall
            )

    def _pick_status(self, draw: float) -> int:
        items = [(s, w) for s, w in sorted(self.error_mix.items()) if w > 0]
        total = sum(w for _, w in items)
        point = draw * total
        for status, weight in items:
            if point < weight:
                return status
            point -= weight
        return items[-1][0]


_OPERATION_LISTS = ("operations", "denied_operations", "drip_operations", "stall_operations")

FAULT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Faults) if f.name in _PUBLIC)
