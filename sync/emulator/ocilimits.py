"""OCI's limits on names and tags as the emulator enforces them, each with its source.

The emulator keeps its own numbers (not the product's) so that a wrong limit in the product
shows in a test instead of agreeing with the emulator by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Oracle, "Tagging Overview", section "Limits on Tags"
# (https://docs.oracle.com/en-us/iaas/Content/Tagging/Concepts/taggingoverview.htm):
# "Maximum number of free-form tags per resource: 10"; "Maximum number of defined tags per
# resource: 64"; total tag data "5 K" as JSON ("sizing is per UTF-8"); tag namespace and key
# names up to 100 characters, printable ASCII without period or space; values up to 256
# Unicode characters.
TAGS_SOURCE = "https://docs.oracle.com/en-us/iaas/Content/Tagging/Concepts/taggingoverview.htm"

_TAG_NAME = re.compile(r"[!-\-/-~]+")  # printable ASCII (33-126) but '.' (46)


@dataclass(frozen=True)
class OciLimits:
    """The limits an update is checked against (defaults: Oracle's published numbers)."""

    freeform_tags_max: int = 10
    defined_tags_max: int = 64
    # "5 K": read as 5 × 1024 bytes of UTF-8 JSON for both maps together; what Oracle counts
    # exactly (separators, the maps' braces) is not documented (see the README's "Not confirmed").
    total_tags_bytes_max: int = 5 * 1024
    tag_name_max: int = 100
    tag_value_max: int = 256  # Unicode characters (code points)
    # Not in "Limits on Tags": the API reference gives displayName no length; 255 is the
    # emulator's assumption (README, "Not confirmed").
    display_name_max: int = 255


OCI_LIMITS = OciLimits()


def is_valid_tag_name(name: object, max_len: int) -> bool:
    """A free-form key, tag namespace or defined key: 1..max_len printable ASCII, no '.' or space."""
    return isinstance(name, str) and 1 <= len(name) <= max_len and _TAG_NAME.fullmatch(name) is not None
