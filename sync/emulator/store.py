"""One kind of Block Storage resource: its records by id and by compartment, etags, lifecycle, lists."""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.emulator.errors import invalid, not_found
from sync.emulator.paging import Json, keyset_page, time_key


@dataclass
class Resource:
    """A stored resource: its JSON (camelCase, as the API returns it), version and lifecycle timer."""

    data: Json
    version: int = 1
    available_at: float | None = None
    gets_left: int | None = None

    @property
    def etag(self) -> str:
        raw = f"{self.data['id']}:{self.version}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass
class Lifecycle:
    """When a resource in a transitional state becomes AVAILABLE: after seconds and/or GETs."""

    creating_seconds: float | None = 2.0
    creating_gets: int | None = None
    clock: Callable[[], float] = time.monotonic


class ResourceStore:
    """Resources of one kind (e.g. volume backups); callers hold the backend's lock."""

    def __init__(
        self,
        kind: str,
        lifecycle: Lifecycle,
        transitional: Iterable[str],
        defaults: Mapping[str, Any],
    ) -> None:
        self.kind = kind  # in messages: "volume backup"
        self.lifecycle = lifecycle
        self.transitional = frozenset(transitional)
        self._defaults = dict(defaults)
        self._by_id: dict[str, Resource] = {}
        # compartment -> its resources, so a list costs its compartment's size, not the region's.
        self._by_compartment: dict[str, dict[str, Resource]] = {}

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def has_compartment(self, compartment_id: str) -> bool:
        return bool(self._by_compartment.get(compartment_id))

    def add(
        self,
        resource: Mapping[str, Any],
        *,
        available_after_seconds: float | None = None,
        available_after_gets: int | None = None,
    ) -> Resource:
        """Add (or replace) a resource; its defaults fill what the seed leaves out."""
        data: Json = {**copy.deepcopy(self._defaults), **copy.deepcopy(dict(resource))}
        data.pop("etag", None)
        res = Resource(data)
        self.arm(res, available_after_seconds, available_after_gets)
        old = self._by_id.get(data["id"])
        if old is not None:
            self._by_compartment.get(str(old.data.get("compartmentId")), {}).pop(data["id"], None)
        self._by_id[data["id"]] = res
        self._by_compartment.setdefault(str(data.get("compartmentId")), {})[data["id"]] = res
        return res

    def arm(self, res: Resource, seconds: float | None, gets: int | None) -> None:
        """Start (or clear) the timer that makes a transitional resource AVAILABLE."""
        if res.data["lifecycleState"] not in self.transitional:
            res.available_at = None
            res.gets_left = None
            return
        life = self.lifecycle
        seconds = life.creating_seconds if seconds is None and gets is None else seconds
        gets = life.creating_gets if gets is None else gets
        res.available_at = None if seconds is None else life.clock() + seconds
        res.gets_left = gets

    def advance(self, res: Resource, counts_as_get: bool) -> None:
        """Move a transitional resource to AVAILABLE when its time (or its GETs) has come."""
        if res.data["lifecycleState"] not in self.transitional:
            return
        done = res.available_at is not None and self.lifecycle.clock() >= res.available_at
        if res.gets_left is not None and counts_as_get:
            if res.gets_left <= 0:
                done = True
            else:
                res.gets_left -= 1
        if done:
            res.data["lifecycleState"] = "AVAILABLE"
            res.available_at = None
            res.gets_left = None
            res.version += 1

    def find(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id)

    def resource(self, resource_id: str) -> Resource:
        """The resource, or OCI's 404 NotAuthorizedOrNotFound."""
        res = self._by_id.get(resource_id)
        if res is None:
            raise not_found(self.kind, resource_id)
        return res

    def get(self, resource_id: str) -> tuple[Json, str]:
        """A GET: a copy of the resource (advanced in its lifecycle) and its etag."""
        res = self.resource(resource_id)
        self.advance(res, counts_as_get=True)
        return copy.deepcopy(res.data), res.etag

    def list_page(
        self,
        compartment_id: str,
        filters: Mapping[str, str | None],
        *,
        sort_by: str | None,
        sort_order: str | None,
        limit: int | None,
        page: str | None,
        lifecycle_state: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """A Block Storage list: exact-match filters on fields, TIMECREATED (DESC) or DISPLAYNAME (ASC)."""
        sort_by = sort_by or "TIMECREATED"
        if sort_by not in ("TIMECREATED", "DISPLAYNAME"):
            raise invalid("sortBy must be TIMECREATED or DISPLAYNAME")
        if sort_order is None:
            sort_order = "DESC" if sort_by == "TIMECREATED" else "ASC"
        if sort_order not in ("ASC", "DESC"):
            raise invalid("sortOrder must be ASC or DESC")
        wanted = {field: value for field, value in filters.items() if value is not None}
        items: list[tuple[tuple[str, str], Json]] = []
        for res in list(self._by_compartment.get(compartment_id, {}).values()):
            self.advance(res, counts_as_get=False)
            data = res.data
            if any(data.get(field) != value for field, value in wanted.items()):
                continue
            if lifecycle_state is not None and data.get("lifecycleState") != lifecycle_state:
                continue
            if sort_by == "TIMECREATED":
                sort_value = time_key(data.get("timeCreated"))
            else:
                sort_value = str(data.get("displayName", ""))
            items.append(((sort_value, data["id"]), data))
        tag = f"{self.kind}:{sort_by}:{sort_order}"
        return keyset_page(items, sort_order == "DESC", tag, limit, page)

    def snapshot(self) -> list[Json]:
        """Every resource in the seed format, with its current etag."""
        return [{**copy.deepcopy(r.data), "etag": r.etag} for r in self._by_id.values()]
