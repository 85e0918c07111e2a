"""Identity region subscriptions (ListRegionSubscriptions): which regions the tenancy may use.

RegionSubscription (Identity API 20160918): `regionKey`, `regionName`, `status` (READY or
IN_PROGRESS), `isHomeRegion`; GET /20160918/tenancies/{tenancyId}/regionSubscriptions
answers the whole list (the operation takes no paging parameters).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sync.emulator.errors import invalid, not_found
from sync.emulator.identity import IdentityBackend
from sync.emulator.paging import Json

STATUSES = ("READY", "IN_PROGRESS")


class RegionSubscriptionsBackend:
    """The tenancy's region subscriptions; the tenancy id comes from the Identity backend."""

    def __init__(self, identity: IdentityBackend, *, lock: threading.RLock | None = None) -> None:
        self._identity = identity
        self._lock = lock if lock is not None else threading.RLock()
        self._subscriptions: dict[str, Json] = {}

    def add_region_subscription(self, item: Mapping[str, Any]) -> None:
        name = item.get("regionName")
        if not isinstance(name, str) or not name:
            raise invalid("a region subscription needs a regionName")
        status = item.get("status", "READY")
        if status not in STATUSES:
            raise invalid(f"region subscription status must be one of {', '.join(STATUSES)}")
        sub: Json = {
            "regionKey": str(item.get("regionKey") or name.split("-")[1][:3].upper()),
            "regionName": name,
            "status": status,
            "isHomeRegion": bool(item.get("isHomeRegion", False)),
        }
        with self._lock:
            self._subscriptions[name] = sub

    def load(self, items: Iterable[Mapping[str, Any]]) -> None:
        for item in items:
            self.add_region_subscription(item)

    def list_region_subscriptions(self, tenancy_id: str) -> list[Json]:
        """ListRegionSubscriptions: every subscription of the tenancy (404 for another tenancy)."""
        with self._lock:
            if self._identity.tenancy_id is not None and tenancy_id != self._identity.tenancy_id:
                raise not_found("tenancy", tenancy_id)
            return copy.deepcopy(list(self._subscriptions.values()))

    def snapshot(self) -> Json:
        with self._lock:
            return {"regionSubscriptions": copy.deepcopy(list(self._subscriptions.values()))}
