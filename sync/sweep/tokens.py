"""Resume tokens: where a sweep stopped (region, kind, compartment, OCI page), and a token per region set.

A token is base64url (no padding) of compact JSON, so it is self-describing and stable:
- one sweep: `{"v": 1, "root": <root compartment>, "r": <recursive>, "k": <backup kind being
  listed>, "c": <compartment to resume>, "p": <that kind's list page token or null>, "g": <region
  or absent>}`. A token without "k" (issued before the sweep covered every kind, when it listed
  volume group backups only) resumes in volume group backups, then goes on with the other kinds;
- several regions: `{"v": 1, "regions": {<region>: <one-sweep token or null>}}`, naming only
  the regions that did not finish (null: start that region from its beginning).
OCI page tokens inside are used as OCI issued them; how long OCI honours one is not documented
(a stale one gives 400, and starting again without a token is always safe, only slower).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from sync.domain.resources import Kind
from sync.sweep.options import SweepError, SweepOptions

TOKEN_VERSION = 1
NOT_OURS = "the resume token is not one this tool issued"


@dataclass(frozen=True)
class Position:
    """Where a sweep (re)starts: a compartment, its page token (None: first page), the kind listed."""

    compartment_id: str
    page: str | None
    kind: Kind = Kind.VOLUME_GROUP_BACKUP


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    text = token.strip()
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise SweepError(NOT_OURS) from None
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        raise SweepError(NOT_OURS)
    return payload


def encode_token(options: SweepOptions, position: Position) -> str:
    payload: dict[str, Any] = {
        "v": TOKEN_VERSION,
        "root": options.compartment_id,
        "r": options.recursive,
        "k": position.kind.value,
        "c": position.compartment_id,
        "p": position.page,
    }
    if options.region:
        payload["g"] = options.region
    return _encode(payload)


def decode_token(token: str, options: SweepOptions) -> Position:
    payload = _decode(token)
    comp, page, region = payload.get("c"), payload.get("p"), payload.get("g")
    kind_name = payload.get("k", Kind.VOLUME_GROUP_BACKUP.value)
    if (
        not isinstance(comp, str)
        or kind_name not in {k.value for k in Kind}
        or not (page is None or isinstance(page, str))
        or not (region is None or isinstance(region, str))
    ):
        raise SweepError(NOT_OURS)
    if payload.get("root") != options.compartment_id or bool(payload.get("r")) != options.recursive:
        raise SweepError(
            "the resume token belongs to another sweep (compartment "
            f"{payload.get('root')}, recursive={bool(payload.get('r'))})"
        )
    if region is not None and options.region is not None and region != options.region:
        raise SweepError(f"the resume token belongs to region {region}, not {options.region}")
    return Position(comp, page, Kind(kind_name))


def token_region(token: str) -> str | None:
    """The region a one-sweep token names (None: a token from a sweep of the configured region)."""
    region = _decode(token).get("g")
    return region if isinstance(region, str) else None


def encode_regions_token(unfinished: dict[str, str | None]) -> str:
    """One token for the regions that did not finish: region -> its own token (None: from the start)."""
    return _encode({"v": TOKEN_VERSION, "regions": dict(sorted(unfinished.items()))})


def decode_regions_token(token: str) -> dict[str, str | None] | None:
    """region -> token from a several-regions token; None when the token is a one-sweep token."""
    payload = _decode(token)
    regions = payload.get("regions")
    if regions is None:
        return None
    if not isinstance(regions, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in regions.items()
    ):
        raise SweepError(NOT_OURS)
    return dict(regions)
