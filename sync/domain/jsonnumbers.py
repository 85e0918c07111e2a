"""JSON from untrusted text: numbers only finite and of at most 100 digits (request bodies, policies)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sync.printable import clip

# No field of a request or a policy takes a number this long: one is an attack (int() of a
# huge digit string costs quadratic time).
MAX_DIGITS = 100

JSONDecodeError = json.JSONDecodeError  # what loads raises for text that is not JSON


class JsonNumberError(ValueError):
    """A JSON number no field can hold: NaN, Infinity, too many digits, or beyond a float's range."""


def loads(text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """json.loads that raises JsonNumberError for a number no field can hold."""
    return json.loads(
        text,
        parse_constant=_no_constant,
        parse_int=_int,
        parse_float=_float,
        object_pairs_hook=object_pairs_hook,
    )


def _no_constant(name: str) -> Any:
    raise JsonNumberError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise JsonNumberError(f"an integer of {len(text)} digits (the limit is {MAX_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonNumberError(f"the number {clip(text, 40)} is too large")
    return value
