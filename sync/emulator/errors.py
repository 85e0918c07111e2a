"""Typed API errors of the emulator: HTTP status plus OCI's JSON {code, message}."""

from __future__ import annotations


class EmulatorError(Exception):
    """An API error as OCI reports it: HTTP status plus a JSON {code, message}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NotModified(EmulatorError):
    """Object Storage's 304: the client's if-none-match matched the current etag."""

    def __init__(self, etag: str) -> None:
        super().__init__(304, "NotModified", "The object has not been modified")
        self.etag = etag


def not_found(kind: str, ident: str) -> EmulatorError:
    """OCI's 404 for a resource that does not exist or that the caller may not see."""
    return EmulatorError(
        404,
        "NotAuthorizedOrNotFound",
        f"Authorization failed or requested resource not found: {kind} {ident}",
    )


def invalid(message: str) -> EmulatorError:
    """OCI's 400 InvalidParameter."""
    return EmulatorError(400, "InvalidParameter", message)
