"""OCI's limits on names and tags, kept in one place (several are not confirmed by Oracle)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG_KEY = re.compile(r"[!-\-/-~]+")  # printable ASCII (33-126) but '.' (46)


@dataclass(frozen=True)
class Limits:
    """Limits checked before every PUT; the emulator enforces the same numbers."""

    display_name_max: int = 255
    freeform_key_max: int = 100
    tag_value_max: int = 256
    defined_tags_max: int = 64  # commonly cited; unconfirmed by a primary source
    freeform_tags_max: int = 64  # unconfirmed: OCI documents no separate figure we could find
    total_tags_bytes_max: int = 5120  # "about 5 KB" in docs; unconfirmed exact accounting


OCI_LIMITS = Limits()


def is_valid_tag_key(key: str, max_len: int) -> bool:
    """Freeform keys, namespaces and defined keys: printable ASCII, no '.' or space."""
    return 1 <= len(key) <= max_len and _TAG_KEY.fullmatch(key) is not None
