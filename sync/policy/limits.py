"""OCI's limits on names and tags, kept in one place, with their source."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TAG_KEY = re.compile(r"[!-\-/-~]+")  # printable ASCII (33-126) but '.' (46)

# Oracle, Tagging overview, "Limits on Tags":
# https://docs.oracle.com/en-us/iaas/Content/Tagging/Concepts/taggingoverview.htm
# 10 free-form tags and 64 defined tags per resource; all tag data of a resource at most 5 K as
# JSON, sized in UTF-8 bytes; namespace and key names up to 100 printable ASCII characters
# without '.' or space; values up to 256 characters. OCI's own tags on a resource (Oracle-Tags
# CreatedBy/CreatedOn) are tags of that resource and count like any other.
FREEFORM_TAGS_PER_RESOURCE = 10
DEFINED_TAGS_PER_RESOURCE = 64
TAG_DATA_BYTES = 5 * 1024
TAG_NAME_CHARACTERS = 100
TAG_VALUE_CHARACTERS = 256
# Display names: 1-255 characters as commonly cited; Oracle's API reference gives no maximum for
# a backup's name, so this one is kept as the safe side.
DISPLAY_NAME_CHARACTERS = 255


@dataclass(frozen=True)
class Limits:
    """Limits checked before every PUT (a policy's `limits:` may only lower them)."""

    display_name_max: int = DISPLAY_NAME_CHARACTERS
    freeform_key_max: int = TAG_NAME_CHARACTERS
    tag_value_max: int = TAG_VALUE_CHARACTERS
    defined_tags_max: int = DEFINED_TAGS_PER_RESOURCE
    freeform_tags_max: int = FREEFORM_TAGS_PER_RESOURCE
    total_tags_bytes_max: int = TAG_DATA_BYTES


OCI_LIMITS = Limits()


def is_valid_tag_key(key: str, max_len: int) -> bool:
    """Freeform keys, namespaces and defined keys: printable ASCII, no '.' or space."""
    return 1 <= len(key) <= max_len and _TAG_KEY.fullmatch(key) is not None


def tag_data_bytes(freeform: Mapping[str, Any], defined: Mapping[str, Any]) -> int:
    """The size OCI counts against the 5 K budget: the tags as JSON, in UTF-8 bytes."""
    text = json.dumps([freeform, defined], separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass"))
