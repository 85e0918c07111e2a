"""Identity's tag namespaces and tag definitions: ListTagNamespaces, ListTags, GetTag, and lookups."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sync.emulator.errors import invalid, not_found
from sync.emulator.paging import Json, keyset_page

CREATED = "2024-01-01T00:00:00.000Z"
LIFECYCLE_STATES = ("ACTIVE", "INACTIVE", "DELETING", "DELETED")


def _ocid(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).lower().encode()).hexdigest()[:40]
    return f"ocid1.{kind}.oc1..aaaaaaaa{digest}"


def _fold(name: str) -> str:
    return name.lower()


def _validator(spec: Any) -> Json | None:
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or spec.get("validatorType") not in ("ENUM", "DEFAULT"):
        raise ValueError(
            "a tag validator is {validatorType: ENUM, values: [...]} or {validatorType: DEFAULT}"
        )
    if spec["validatorType"] == "DEFAULT":
        return {"validatorType": "DEFAULT"}
    values = spec.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError("an ENUM validator needs a non-empty list of string values")
    return {"validatorType": "ENUM", "values": list(values)}


class TagNamespaces:
    """Defined tag namespaces and their keys; names are unique ignoring case, as OCI documents."""

    def __init__(self, tenancy_id: Callable[[], str | None], *, lock: threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.RLock()
        self._tenancy_id = tenancy_id
        self._namespaces: dict[str, Json] = {}  # folded name -> namespace (with "_tags")

    # ---- seeding -------------------------------------------------------------------------

    def register(self, name: str, spec: Iterable[str] | Mapping[str, Any]) -> None:
        """Add a namespace from the seed: a list of key names, or {isRetired?, tags: {key: {...}}}."""
        if isinstance(spec, Mapping):
            tags: Mapping[str, Any] = spec.get("tags") or {}
            attrs = {k: spec[k] for k in ("description", "isRetired", "compartmentId", "id") if k in spec}
        else:
            tags = {str(k): {} for k in spec}
            attrs = {}
        with self._lock:
            ns = self._namespaces.get(_fold(name))
            if ns is None:
                ns = {
                    "id": attrs.get("id") or _ocid("tagnamespace", name),
                    "compartmentId": attrs.get("compartmentId") or self._tenancy_id() or "",
                    "name": name,
                    "description": attrs.get("description", f"{name} tags"),
                    "isRetired": bool(attrs.get("isRetired", False)),
                    "lifecycleState": "ACTIVE",
                    "timeCreated": CREATED,
                    "freeformTags": {},
                    "definedTags": {},
                    "_tags": {},
                }
                self._namespaces[_fold(name)] = ns
            else:
                ns.update({k: v for k, v in attrs.items() if k in ("description", "isRetired")})
            for key, key_spec in tags.items():
                self._add_tag(ns, str(key), key_spec if isinstance(key_spec, Mapping) else {})

    def _add_tag(self, ns: Json, name: str, spec: Mapping[str, Any]) -> None:
        existing = ns["_tags"].get(_fold(name))
        tag = existing or {
            "id": _ocid("tagdefinition", ns["name"], name),
            "compartmentId": ns["compartmentId"],
            "tagNamespaceId": ns["id"],
            "tagNamespaceName": ns["name"],
            "name": name,
            "description": f"{ns['name']}.{name}",
            "isRetired": False,
            "isCostTracking": False,
            "lifecycleState": "ACTIVE",
            "timeCreated": CREATED,
            "validator": None,
            "freeformTags": {},
            "definedTags": {},
        }
        for field_name in ("description", "isRetired", "isCostTracking"):
            if field_name in spec:
                tag[field_name] = spec[field_name]
        if "validator" in spec:
            tag["validator"] = _validator(spec["validator"])
        ns["_tags"][_fold(name)] = tag

    # ---- lookups for other services --------------------------------------------------------

    def lookup(self, namespace: str, key: str) -> tuple[Json | None, Json | None]:
        """(namespace, tag definition) matched ignoring case; copies, None where absent."""
        with self._lock:
            ns = self._namespaces.get(_fold(namespace))
            if ns is None:
                return None, None
            tag = ns["_tags"].get(_fold(key))
            public = {k: v for k, v in ns.items() if k != "_tags"}
            return copy.deepcopy(public), copy.deepcopy(tag)

    def key_names(self, namespace: str) -> set[str] | None:
        with self._lock:
            ns = self._namespaces.get(_fold(namespace))
            return None if ns is None else {t["name"] for t in ns["_tags"].values()}

    # ---- API operations --------------------------------------------------------------------

    def list_tag_namespaces(
        self,
        compartment_id: str,
        in_compartment: Callable[[str, str, bool], bool],
        include_subcompartments: bool = False,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListTagNamespaces: TagNamespaceSummary items of a compartment (and its subtree)."""
        if lifecycle_state is not None and lifecycle_state not in LIFECYCLE_STATES:
            raise invalid(f"lifecycleState must be one of {', '.join(LIFECYCLE_STATES)}")
        with self._lock:
            tenancy = self._tenancy_id() or ""
            for ns in self._namespaces.values():
                if not ns["compartmentId"]:  # seeded before the tenancy was known
                    ns["compartmentId"] = tenancy
                    for tag in ns["_tags"].values():
                        tag["compartmentId"] = tenancy
            items = [
                ((_fold(ns["name"]), ns["id"]), {k: v for k, v in ns.items() if k != "_tags"})
                for ns in self._namespaces.values()
                if in_compartment(ns["compartmentId"], compartment_id, include_subcompartments)
                and (lifecycle_state is None or ns["lifecycleState"] == lifecycle_state)
            ]
            return keyset_page(items, False, "NAME:ASC", limit, page)

    def _by_id(self, namespace_id: str) -> Json:
        for ns in self._namespaces.values():
            if ns["id"] == namespace_id:
                return ns
        raise not_found("tag namespace", namespace_id)

    def list_tags(
        self,
        namespace_id: str,
        lifecycle_state: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> tuple[list[Json], str | None]:
        """ListTags: TagSummary items (no validator, as OCI's TagSummary has none)."""
        summary_fields = (
            "id",
            "compartmentId",
            "name",
            "description",
            "freeformTags",
            "definedTags",
            "timeCreated",
            "lifecycleState",
            "isRetired",
            "isCostTracking",
        )
        with self._lock:
            ns = self._by_id(namespace_id)
            items = [
                ((_fold(t["name"]), t["id"]), {k: t[k] for k in summary_fields})
                for t in ns["_tags"].values()
                if lifecycle_state is None or t["lifecycleState"] == lifecycle_state
            ]
            return keyset_page(items, False, "NAME:ASC", limit, page)

    def get_tag(self, namespace_id: str, tag_name: str) -> Json:
        """GetTag: the full tag definition, validator included (name matched exactly: see README)."""
        with self._lock:
            ns = self._by_id(namespace_id)
            tag = ns["_tags"].get(_fold(tag_name))
            if tag is None or tag["name"] != tag_name:
                raise not_found("tag", f"{ns['name']}.{tag_name}")
            return copy.deepcopy(tag)

    # ---- snapshot --------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """The seed format: plain namespaces as key lists, richer ones as objects."""
        out: Json = {}
        with self._lock:
            for ns in sorted(self._namespaces.values(), key=lambda n: _fold(n["name"])):
                tags = sorted(ns["_tags"].values(), key=lambda t: _fold(t["name"]))
                plain = not ns["isRetired"] and all(
                    not t["isRetired"] and not t["isCostTracking"] and t["validator"] is None for t in tags
                )
                if plain:
                    out[ns["name"]] = [t["name"] for t in tags]
                    continue
                out[ns["name"]] = {
                    "isRetired": ns["isRetired"],
                    "tags": {
                        t["name"]: {
                            k: t[k]
                            for k in ("isRetired", "isCostTracking", "validator")
                            if t[k] not in (None, False)
                        }
                        for t in tags
                    },
                }
        return out
