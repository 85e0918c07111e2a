"""The emulator's bounded log of the requests it answered (credentials are never recorded)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    """One request as the emulator saw it (credentials are never recorded)."""

    operation: str
    method: str
    path: str
    status: int
    opc_request_id: str
    if_match: str | None = None
    body: str | None = None
    time: float = field(default_factory=time.time)
    fault: str | None = None
    client_request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Request records, oldest dropped first past max_log; safe to share between threads."""

    def __init__(self, max_log: int | None = 100_000) -> None:
        self._lock = threading.Lock()
        # bounded so a long-running emulator does not grow without limit; oldest entries go first
        self._log: deque[RequestRecord] = deque(maxlen=max_log)

    def record(self, rec: RequestRecord) -> None:
        with self._lock:
            self._log.append(rec)

    def requests(self, operation: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._log if operation is None or r.operation == operation]

    def count(self, operation: str, status: int | None = None) -> int:
        return sum(1 for r in self.requests(operation) if status is None or r.status == status)

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
