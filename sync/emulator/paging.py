"""Keyset paging shared by the list operations: limits, opaque page tokens, sort keys."""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
from datetime import UTC, datetime
from typing import Any

from sync.emulator.errors import invalid

MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100

Json = dict[str, Any]


def time_key(value: Any) -> str:
    """A fixed-width UTC string, so that string order is time order."""
    if not isinstance(value, str) or not value:
        return "0000-00-00T00:00:00.000000"
    return _time_key(value)


@functools.lru_cache(maxsize=1 << 18)  # lists re-sort every backup per page: parse each time once
def _time_key(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def sort_settings(
    sort_by: str | None, sort_order: str | None, name_field: str, default: str
) -> tuple[str, str]:
    """OCI's list sorting: TIMECREATED (newest first by default) or a name field (A-Z by default)."""
    sort_by = sort_by or default
    if sort_by not in ("TIMECREATED", name_field):
        raise invalid(f"sortBy must be TIMECREATED or {name_field}")
    if sort_order is None:
        sort_order = "DESC" if sort_by == "TIMECREATED" else "ASC"
    if sort_order not in ("ASC", "DESC"):
        raise invalid("sortOrder must be ASC or DESC")
    return sort_by, sort_order


def _encode_token(payload: list[str]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, expected_len: int) -> list[str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise invalid("The page token is invalid") from exc
    if (
        not isinstance(value, list)
        or len(value) != expected_len
        or not all(isinstance(v, str) for v in value)
    ):
        raise invalid("The page token is invalid")
    return value


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIST_LIMIT
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    return limit


def keyset_page(
    items: list[tuple[tuple[str, str], Json]],
    descending: bool,
    tag: str,
    limit: int | None,
    page: str | None,
) -> tuple[list[Json], str | None]:
    """Keyset paging: the token names the last key served, so updates never shift a page."""
    size = _check_limit(limit)
    ordered = sorted(items, key=lambda kv: kv[0], reverse=descending)
    if page is not None:
        token_tag, sort_value, last_id = _decode_token(page, 3)
        if token_tag != tag:
            raise invalid("The page token does not belong to this sort order")
        last = (sort_value, last_id)
        ordered = [kv for kv in ordered if (kv[0] < last if descending else kv[0] > last)]
    chunk = ordered[:size]
    next_page = None
    if len(ordered) > size:
        last_key = chunk[-1][0]
        next_page = _encode_token([tag, last_key[0], last_key[1]])
    return [copy.deepcopy(v) for _, v in chunk], next_page
