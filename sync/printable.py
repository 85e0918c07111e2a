"""Text that is safe to quote in a message or print on a terminal: clipped, controls escaped."""

from __future__ import annotations

import re
from typing import Any

QUOTE_MAX = 200
# C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): the characters that drive a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def first_control(text: str) -> str | None:
    """The first C0, DEL or C1 control character in `text` as `U+001B`, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def escape_controls(text: str) -> str:
    """`text` with every unprintable character (controls, bidi overrides) as a \\x/\\u escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def clip(text: str, limit: int = QUOTE_MAX) -> str:
    """At most about `limit` characters, saying how long the whole was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def quote(value: Any, limit: int = QUOTE_MAX) -> str:
    """`repr(value)` for a message, at most about `limit` characters even for huge values."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool):
        # repr of a huge int is slow (and limited to 4300 digits): say how big it is instead.
        bits = value.bit_length()
        return repr(value) if bits < 600 else f"<an integer of about {int(bits * 0.30103)} digits>"
    if isinstance(value, dict | list | tuple | set):
        return f"<a {type(value).__name__} of {len(value)} item(s)>"
    try:
        return clip(repr(value), limit)
    except Exception:  # an odd value must not turn a clear error into a crash
        return f"<{type(value).__name__}>"


def shown_key(key: Any) -> str:
    """A mapping key as it appears in an error's path: itself when short and printable."""
    text = key if isinstance(key, str) else quote(key, 100)
    return text if len(text) <= 100 and text.isprintable() else quote(text, 100)
