"""Tag checks OCI applies on update: freeform and defined tag shapes, counts and byte budget."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sync.emulator.errors import invalid
from sync.policy.limits import Limits, is_valid_tag_key

# Tag keys defined in a namespace, or None when the namespace does not exist.
TagKeysOf = Callable[[str], "set[str] | None"]


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def check_tag_budget(current: Mapping[str, Any], changes: Mapping[str, Any], lim: Limits) -> None:
    """The total size of both tag maps after the change must fit OCI's byte budget."""
    freeform = changes.get("freeformTags", current.get("freeformTags") or {})
    defined = changes.get("definedTags", current.get("definedTags") or {})
    total = _json_size(freeform) + _json_size(defined)
    if total > lim.total_tags_bytes_max:
        raise invalid(
            f"Total size of freeformTags and definedTags is {total} bytes, "
            f"more than the limit of {lim.total_tags_bytes_max}"
        )


def validate_freeform(tags: Any, lim: Limits) -> None:
    """freeformTags: string keys and values within OCI's count and length limits."""
    if not isinstance(tags, dict):
        raise invalid("freeformTags must be an object of string keys and values")
    if len(tags) > lim.freeform_tags_max:
        raise invalid(f"freeformTags has {len(tags)} tags, more than the limit of {lim.freeform_tags_max}")
    for key, value in tags.items():
        if not is_valid_tag_key(key, lim.freeform_key_max):
            raise invalid(
                f"Invalid freeform tag key {key!r}: 1 to {lim.freeform_key_max} printable "
                "ASCII characters without '.' or space"
            )
        if not isinstance(value, str):
            raise invalid(f"Freeform tag {key!r} must have a string value")
        if len(value) > lim.tag_value_max:
            raise invalid(
                f"Freeform tag {key!r} value is {len(value)} characters, more than the "
                f"limit of {lim.tag_value_max}"
            )


def validate_defined(tags: Any, lim: Limits, keys_of: TagKeysOf) -> None:
    """definedTags: only namespaces and keys that exist, scalar values within the limits."""
    if not isinstance(tags, dict) or not all(isinstance(v, dict) for v in tags.values()):
        raise invalid("definedTags must be an object of namespaces to objects of tags")
    count = sum(len(v) for v in tags.values())
    if count > lim.defined_tags_max:
        raise invalid(f"definedTags has {count} tags, more than the limit of {lim.defined_tags_max}")
    for ns, keys in tags.items():
        known = keys_of(ns)
        if known is None:
            raise invalid(f"Tag namespace {ns!r} does not exist")
        for key, value in keys.items():
            if key not in known:
                raise invalid(f"Tag key {key!r} does not exist in tag namespace {ns!r}")
            if isinstance(value, dict | list) or value is None:
                raise invalid(f"Defined tag {ns}.{key} must have a scalar value")
            if len(str(value)) > lim.tag_value_max:
                raise invalid(
                    f"Defined tag {ns}.{key} value is {len(str(value))} characters, more "
                    f"than the limit of {lim.tag_value_max}"
                )
