"""HTTP plumbing shared by the routes: the parsed request, the reply, JSON and query helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.emulator.errors import EmulatorError, NotModified

if TYPE_CHECKING:
    from sync.emulator.backend import Backend


@dataclass
class Request:
    """One API request after routing: url-decoded path parameters, query, headers and body."""

    params: list[str]
    query: dict[str, str]
    headers: Any
    body: bytes


@dataclass
class Reply:
    """What goes back on the wire: status, body and headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["Backend", Request], Reply]


@dataclass(frozen=True)
class Route:
    """An HTTP method and path template → operation name and handler.

    In the template `{name}` matches one path segment and `{name+}` the rest of the path
    (an object name with slashes); each becomes a url-decoded entry of Request.params.
    """

    method: str
    path: str
    operation: str
    handler: Handler
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\{\w+\\\+\\}", "(.+)", re.escape(self.path))
        pattern = re.sub(r"\\{\w+\\}", "([^/]+)", pattern)
        object.__setattr__(self, "regex", re.compile(f"^{pattern}$"))

    def match(self, method: str, path: str) -> re.Match[str] | None:
        return self.regex.match(path) if method == self.method else None


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Reply(status, body, {"Content-Type": "application/json", **(headers or {})})


def list_reply(items: list[Any], next_page: str | None) -> Reply:
    """A list answer: 200 with the items and opc-next-page when there is a next page."""
    return json_reply(200, items, {"opc-next-page": next_page} if next_page else None)


def error_reply(err: EmulatorError) -> Reply:
    if isinstance(err, NotModified):
        return Reply(304, b"", {"etag": err.etag})
    return json_reply(err.status, {"code": err.code, "message": err.message})


def json_body(body: bytes) -> Any:
    """The request body as JSON ({} when empty); 400 CannotParseRequest when it is not JSON.

    Oracle's API errors page: 400 CannotParseRequest, "The request is incorrectly formatted."
    """
    try:
        return json.loads(body) if body else {}
    except ValueError as exc:  # UnicodeDecodeError included
        raise EmulatorError(400, "CannotParseRequest", "The request is incorrectly formatted.") from exc


def int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise EmulatorError(400, "InvalidParameter", f"{name} must be an integer") from exc


def bool_param(query: dict[str, str], name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise EmulatorError(400, "InvalidParameter", f"{name} must be true or false")
    return raw == "true"


def required(query: dict[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise EmulatorError(400, "MissingParameter", f"Missing required parameter {name}")
    return value
