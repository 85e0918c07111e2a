"""JSON log lines on a stream: one object per line, each call's correlation ids, credentials scrubbed."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

# Third-party loggers that must stay quiet whatever LOG_LEVEL says: the FDK sets the root
# logger to DEBUG, and urllib3/oci debug lines carry URLs and headers.
NOISY = ("oci", "urllib3", "fdk", "asyncio", "botocore", "boto3", "s3transfer", "httpx", "httpcore")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# Things that look like credentials, whatever field they arrive in.
_SECRET_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    # An Authorization header's value runs to the end of the line (or of a quoted string).
    re.compile(r"(?i)(authorization|x-security-token|opc-obo-token)([\"']?\s*[:=]\s*)(\"[^\"]*\"|[^\n]*)"),
    re.compile(r"(?i)\b(Signature|Bearer)\s+([A-Za-z]+=\"[^\"]*\",?\s*)+"),
    re.compile(r"(?i)\bsignature=\"[^\"]*\""),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWT (e.g. an RPST)
    re.compile(r"\bST\$[A-Za-z0-9_.\-]+"),  # resource principal keyId
)
_SECRET_KEYS = {"authorization", "token", "rpst", "private_key", "key_content", "pass_phrase", "signature"}


def scrub(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: _redacted(m), text)
    return text


def _redacted(m: re.Match[str]) -> str:
    if m.re.pattern.startswith("(?i)(authorization"):
        return f"{m.group(1)}{m.group(2)}[redacted]"
    return "[redacted]"


def _clean(value: Any, key: str = "") -> Any:
    if key.lower() in _SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


# Correlation fields (the Fn call id) added to every line of the current call. A context
# variable, so each call (and each thread or task it hands work to with its context) carries
# its own, and nothing leaks between concurrent calls.
_CONTEXT: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "sync_log_context", default=None
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; `extra={...}` fields become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_CONTEXT.get() or {})
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
            # The whole stack, scrubbed like every other value (_clean below).
            entry["traceback"] = self.formatException(record.exc_info)
        # json.dumps escapes newlines and control characters, so values from OCI cannot
        # start a forged line of their own.
        return json.dumps(_clean(entry), ensure_ascii=True, default=str)


_HANDLER_NAME = "backup-tag-sync"


def setup(level: str = "info", stream: TextIO | None = None) -> logging.Logger:
    """Route the `sync` logger to one JSON handler on `stream` (stderr); quiet the rest."""
    logger = logging.getLogger("sync")
    numeric = LEVELS.get(level.strip().lower(), logging.INFO)
    logger.setLevel(numeric)
    logger.propagate = False
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Anything else reaching the root logger (the FDK adds a plain-text stderr handler there)
    # stays at warning, and is written as JSON too, so every stderr line parses.
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    for other in root.handlers:
        other.setFormatter(JsonFormatter())
    return logger


def set_context(**fields: Any) -> None:
    """The correlation fields of the current call (replacing any before)."""
    _CONTEXT.set({k: v for k, v in fields.items() if v is not None})
