"""opc-request-id values as the emulator answers them."""

from __future__ import annotations

import uuid


def _new_id() -> str:
    return uuid.uuid4().hex.upper()


def response_request_id(client_id: str | None) -> str:
    """OCI-style id: the client's opc-request-id (if sent) followed by server-made segments."""
    first = client_id.strip() if client_id and client_id.strip() else _new_id()
    return f"{first}/{_new_id()}/{_new_id()}"
