"""OCIDs: the resource type an OCID names, and a check that a value is an OCID of the expected type."""

from __future__ import annotations

import re

from sync.printable import quote

MAX_OCID_LENGTH = 255
_OCID = re.compile(r"ocid1\.([a-z0-9]+)\.[a-z0-9-]+\.[a-z0-9-]*(\.[a-z0-9-]+)*\.[a-z0-9_-]+")


def ocid_kind(value: str) -> str | None:
    """The resource type of an OCID (`volumegroupbackup`), or None if it is not an OCID."""
    if len(value) > MAX_OCID_LENGTH:
        return None
    m = _OCID.fullmatch(value)
    return m.group(1) if m else None


def check_ocid(value: str, *kinds: str) -> str:
    """`value` when it is an OCID of one of `kinds`; else ValueError saying what it is."""
    kind = ocid_kind(value)
    if kind is None:
        raise ValueError(f"{quote(value, 80)} is not an OCID")
    if kind not in kinds:
        raise ValueError(f"expected an ocid1.{' or ocid1.'.join(kinds)} OCID, got an ocid1.{kind}")
    return value


def tenancy_of(tenancy_id: str | None) -> str:
    """The credentials' tenancy OCID (Clients.tenancy_id()), checked; ValueError when unknown or not one."""
    if not tenancy_id:
        raise ValueError("the tenancy OCID is unknown")
    return check_ocid(tenancy_id, "tenancy")
