"""Identity service: the tenancy, compartments (ListCompartments) and tag namespaces (tagnamespaces.py)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sync.emulator.errors import invalid, not_found
from sync.emulator.paging import Json, keyset_page, time_key
from sync.emulator.tagnamespaces import TagNamespaces


class IdentityBackend:
    """Compartments and defined tag namespaces; operations are methods raising EmulatorError."""

    def __init__(self, *, lock: threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.RLock()
        self.tenancy_id: str | None = None
        self._compartments: dict[str, Json] = {}
        self.tags = TagNamespaces(lambda: self.tenancy_id, lock=self._lock)

    # ---- seeding -------------------------------------------------------------------------

    def register_tag_namespace(self, namespace: str, keys: Iterable[str] | Mapping[str, Any]) -> None:
        """A namespace from the seed: a list of key names or {isRetired?, tags: {key: {...}}}."""
        self.tags.register(namespace, keys)

    def add_compartment(self, compartment: Mapping[str, Any]) -> None:
        comp: Json = {
            "description": "",
            "lifecycleState": "ACTIVE",
            "timeCreated": "2024-01-01T00:00:00.000Z",
            "freeformTags": {},
            "definedTags": {},
            "isAccessible": True,
            **copy.deepcopy(dict(compartment)),
        }
        with self._lock:
            self._compartments[comp["id"]] = comp

    # ---- queries for the other services ---------------------------------------------------

    def tag_keys(self, namespace: str) -> set[str] | None:
        """The keys defined in a tag namespace (matched ignoring case), or None when it does not exist."""
        return self.tags.key_names(namespace)

    def tag_definition(self, namespace: str, key: str) -> tuple[Json | None, Json | None]:
        """(namespace, tag definition) matched ignoring case, None where absent."""
        return self.tags.lookup(namespace, key)

    def in_compartment(self, resource_compartment: str, compartment_id: str, subtree: bool) -> bool:
        """Whether a resource in resource_compartment is listed by a list on compartment_id."""
        with self._lock:
            current: str | None = resource_compartment
            seen: set[str] = set()
            while current is not None and current not in seen:
                if current == compartment_id:
                    return True
                if not subtree:
                    return False
                seen.add(current)
                parent = self._compartments.get(current)
                current = parent.get("compartmentId") if parent else None
            return False

    def has_compartments(self) -> bool:
        with self._lock:
            return bool(self._compartments)

    def is_compartment(self, compartment_id: str) -> bool:
        """A seeded compartment or the tenancy (the root compartment)."""
        with self._lock:
            return compartment_id in self._compartments or compartment_id == self.tenancy_id

    # ---- API operations --------------------------------------------------------------------

    def list_compartments(
        self,
        compartment_id: str,
        compartment_id_in_subtree: bool = False,
        access_level: str | None = None,
        limit: int | None = None,
        page: str | None = None,
        name: str | None = None,
        lifecycle_state: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListCompartments: children, or with compartmentIdInSubtree (tenancy only) all descendants.

        As oci 2.189.0's list_compartments documents: sortBy TIMECREATED (default DESC) or NAME
        (default ASC, case sensitive); lifecycleState "is case-insensitive". Without sortBy: NAME
        ascending (a guess: Oracle documents no default).
        """
        if access_level not in (None, "ANY", "ACCESSIBLE"):
            raise invalid("accessLevel must be ANY or ACCESSIBLE")
        sort_by = sort_by or "NAME"
        if sort_by not in ("TIMECREATED", "NAME"):
            raise invalid("sortBy must be TIMECREATED or NAME")
        if sort_order is None:
            sort_order = "DESC" if sort_by == "TIMECREATED" else "ASC"
        if sort_order not in ("ASC", "DESC"):
            raise invalid("sortOrder must be ASC or DESC")
        state = None if lifecycle_state is None else lifecycle_state.upper()
        with self._lock:
            if compartment_id != self.tenancy_id and compartment_id not in self._compartments:
                raise not_found("compartment", compartment_id)
            if compartment_id_in_subtree and compartment_id != self.tenancy_id:
                raise invalid("compartmentIdInSubtree can only be true on the tenancy")
            parents = {compartment_id}
            if compartment_id_in_subtree:
                changed = True
                while changed:
                    before = len(parents)
                    parents |= {
                        c["id"] for c in self._compartments.values() if c.get("compartmentId") in parents
                    }
                    changed = len(parents) != before
            items = [
                ((self._sort_value(c, sort_by), c["id"]), c)
                for c in self._compartments.values()
                if c.get("compartmentId") in parents
                and c["id"] != compartment_id
                and (name is None or c.get("name") == name)
                and (state is None or str(c.get("lifecycleState", "")).upper() == state)
            ]
            return keyset_page(items, sort_order == "DESC", f"{sort_by}:{sort_order}", limit, page)

    @staticmethod
    def _sort_value(compartment: Json, sort_by: str) -> str:
        if sort_by == "TIMECREATED":
            return time_key(compartment.get("timeCreated"))
        return str(compartment.get("name", ""))

    def list_tag_namespaces(
        self,
        compartment_id: str,
        include_subcompartments: bool = False,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListTagNamespaces on a compartment (the tenancy holds them; subcompartments on request)."""
        with self._lock:
            if compartment_id != self.tenancy_id and compartment_id not in self._compartments:
                raise not_found("compartment", compartment_id)
            return self.tags.list_tag_namespaces(
                compartment_id, self.in_compartment, include_subcompartments, lifecycle_state, limit, page
            )

    def list_tags(
        self,
        tag_namespace_id: str,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> tuple[list[Json], str | None]:
        return self.tags.list_tags(tag_namespace_id, lifecycle_state, limit, page)

    def get_tag(self, tag_namespace_id: str, tag_name: str) -> Json:
        return self.tags.get_tag(tag_namespace_id, tag_name)

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """This service's part of the seed format."""
        with self._lock:
            return {
                "tenancyId": self.tenancy_id,
                "tagNamespaces": self.tags.snapshot(),
                "compartments": copy.deepcopy(list(self._compartments.values())),
            }
