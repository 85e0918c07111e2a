"""Several regions from one configuration: each region's settings (endpoints) and the subscribed list.

A region's endpoints, for each of Block Storage (`OCI_CORE_ENDPOINT`) and Identity
(`OCI_IDENTITY_ENDPOINT`):
1. `OCI_CORE_ENDPOINT_<REGION>` (the region upper-cased, `-` as `_`: `OCI_CORE_ENDPOINT_US_ASHBURN_1`);
2. else `OCI_CORE_ENDPOINT` when it holds `{region}` (e.g. `https://proxy.example/{region}/core`);
3. else, when `OCI_CORE_ENDPOINT` names one fixed endpoint: an error (every region would reach
   the same endpoint, which is never what several regions mean);
4. else none: the SDK resolves the region's endpoint itself (its realm and service templates).
Identity's data (compartments) is global, so one fixed `OCI_IDENTITY_ENDPOINT` may serve every
region; with no Identity setting at all it follows Block Storage's override, as with one region
(the local emulator serves both on one port).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from sync.cloud.clients import OciSettings
from sync.cloud.port import OciPort
from sync.cloud.retry import Deadline

REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+-\d+$")
PLACEHOLDER = "{region}"
SUBSCRIBED = "subscribed"


class RegionError(Exception):
    """A region list or endpoint setting that cannot work; the message says which setting to fix."""


def env_suffix(region: str) -> str:
    return region.upper().replace("-", "_")


def parse_regions(text: str) -> list[str] | None:
    """`r1,r2` -> the names (deduplicated, in order); `subscribed` -> None (ask Identity)."""
    value = text.strip()
    if value.lower() == SUBSCRIBED:
        return None
    names: list[str] = []
    for part in value.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if not REGION_RE.match(name):
            raise RegionError(f"{part.strip()!r} is not a region name (e.g. us-ashburn-1), nor 'subscribed'")
        if name not in names:
            names.append(name)
    if not names:
        raise RegionError("--regions needs region names (r1,r2) or 'subscribed'")
    return names


def _endpoint(env: Mapping[str, str], name: str, region: str, fixed_ok: bool) -> tuple[str | None, bool]:
    """(endpoint or None, whether an override gave it) for one service setting."""
    own = env.get(f"{name}_{env_suffix(region)}")
    if own:
        return own, True
    shared = env.get(name)
    if not shared:
        return None, False
    if PLACEHOLDER in shared:
        return shared.replace(PLACEHOLDER, region), True
    if fixed_ok:
        return shared, True
    raise RegionError(
        f"{name} names one endpoint ({shared}) for every region; set {name}_{env_suffix(region)} "
        f"per region or put {PLACEHOLDER} in {name}, or unset it so each region's own endpoint is used"
    )


def region_settings(base: OciSettings, env: Mapping[str, str], region: str) -> OciSettings:
    """The settings to reach one region (RegionError when an endpoint setting cannot)."""
    core, core_overridden = _endpoint(env, "OCI_CORE_ENDPOINT", region, fixed_ok=False)
    identity, identity_overridden = _endpoint(env, "OCI_IDENTITY_ENDPOINT", region, fixed_ok=True)
    if not identity_overridden and core_overridden:
        identity = core
    return dataclasses.replace(base, region=region, core_endpoint=core, identity_endpoint=identity)


def subscribed_regions(port: OciPort, tenancy_id: str, deadline: Deadline) -> list[str]:
    """ListRegionSubscriptions: the tenancy's READY regions, home region first."""
    ready = [
        (not sub.is_home_region, sub.region_name)
        for sub in port.list_region_subscriptions(tenancy_id, deadline)
        if REGION_RE.match(sub.region_name) and sub.status == "READY"
    ]
    return [name for _, name in sorted(ready)]
