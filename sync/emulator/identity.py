"""Identity service: the tenancy, compartments (ListCompartments) and the tag namespace registry."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sync.emulator.errors import invalid, not_found
from sync.emulator.paging import Json, keyset_page


class IdentityBackend:
    """Compartments and defined tag namespaces; operations are methods raising EmulatorError."""

    def __init__(self, *, lock: threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.RLock()
        self.tenancy_id: str | None = None
        self._compartments: dict[str, Json] = {}
        self._tag_namespaces: dict[str, set[str]] = {}

    # ---- seeding -------------------------------------------------------------------------

    def register_tag_namespace(self, namespace: str, keys: Iterable[str]) -> None:
        with self._lock:
            self._tag_namespaces.setdefault(namespace, set()).update(keys)

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
        """The keys defined in a tag namespace, or None when it does not exist."""
        with self._lock:
            return self._tag_namespaces.get(namespace)

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
    ) -> tuple[list[Json], str | None]:
        """ListCompartments: children, or with compartmentIdInSubtree (tenancy only) all descendants."""
        if access_level not in (None, "ANY", "ACCESSIBLE"):
            raise invalid("accessLevel must be ANY or ACCESSIBLE")
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
                ((str(c.get("name", "")), c["id"]), c)
                for c in self._compartments.values()
                if c.get("compartmentId") in parents
                and c["id"] != compartment_id
                and (name is None or c.get("name") == name)
                and (lifecycle_state is None or c.get("lifecycleState") == lifecycle_state)
            ]
            return keyset_page(items, False, "NAME:ASC", limit, page)

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """This service's part of the seed format."""
        with self._lock:
            return {
                "tenancyId": self.tenancy_id,
                "tagNamespaces": {ns: sorted(k) for ns, k in sorted(self._tag_namespaces.items())},
                "compartments": copy.deepcopy(list(self._compartments.values())),
            }
