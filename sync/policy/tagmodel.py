"""The tenancy's tag schema as data: namespaces, keys, validators; read from the seed format or the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.policy.fields import from_api_json
from sync.policy.tagnames import fold

ACTIVE = "ACTIVE"
SHOWN_VALUES = 20  # a list-of-values key may hold hundreds: name the first few


@dataclass(frozen=True)
class TagKey:
    """One defined tag key (tag definition) as Identity describes it."""

    name: str
    is_retired: bool = False
    lifecycle_state: str = ACTIVE
    is_cost_tracking: bool = False
    allowed: tuple[str, ...] | None = None  # a list-of-values (ENUM) key's values; None: any value

    @property
    def usable(self) -> bool:
        return not self.is_retired and self.lifecycle_state == ACTIVE

    def allows(self, value: str) -> bool:
        # Values are compared as given: Oracle documents list values as case sensitive.
        return self.allowed is None or value in self.allowed

    def validator_text(self) -> str:
        return "any value" if self.allowed is None else "list: " + shown(self.allowed)


@dataclass(frozen=True)
class TagNamespace:
    name: str
    id: str = ""
    is_retired: bool = False
    lifecycle_state: str = ACTIVE
    keys: Mapping[str, TagKey] = field(default_factory=dict)  # folded name -> key
    keys_complete: bool = True  # False: only some keys were read, an absent one is unknown

    @property
    def usable(self) -> bool:
        return not self.is_retired and self.lifecycle_state == ACTIVE

    def key(self, name: str) -> TagKey | None:
        found: TagKey | None = self.keys.get(fold(name))
        return found


@dataclass(frozen=True)
class TagSchema:
    """What is known of the tenancy's defined tags; names are matched case-insensitively."""

    namespaces: Mapping[str, TagNamespace] = field(default_factory=dict)  # folded name -> namespace

    def namespace(self, name: str) -> TagNamespace | None:
        found: TagNamespace | None = self.namespaces.get(fold(name))
        return found

    def key(self, namespace: str, key: str) -> TagKey | None:
        ns = self.namespace(namespace)
        return None if ns is None else ns.key(key)


def shown(values: Iterable[str]) -> str:
    items = list(values)
    text = ", ".join(items[:SHOWN_VALUES])
    return text + (f" (and {len(items) - SHOWN_VALUES} more)" if len(items) > SHOWN_VALUES else "")


# -- reading a schema ---------------------------------------------------------------------


def validator_values(validator: Any) -> tuple[str, ...] | None:
    """The allowed values of an ENUM validator; None for DEFAULT or no validator."""
    if not isinstance(validator, Mapping):
        return None
    kind = validator.get("validator_type")
    if str(kind).upper() != "ENUM":
        return None
    values = validator.get("values") or []
    return tuple(str(v) for v in values)


def key_from_api(data: Mapping[str, Any]) -> TagKey:
    """A Tag or TagSummary in oci.util.to_dict's snake_case shape (what the lean clients return)."""
    return TagKey(
        name=str(data.get("name", "")),
        is_retired=bool(data.get("is_retired", False)),
        lifecycle_state=str(data.get("lifecycle_state", ACTIVE) or ACTIVE),
        is_cost_tracking=bool(data.get("is_cost_tracking", False)),
        allowed=validator_values(data.get("validator")),
    )


def schema_from_seed(data: Any) -> TagSchema:
    """A schema from the seed format's `tagNamespaces` (a whole seed file, or that map alone).

    Each namespace is a list of key names, or {"isRetired", "lifecycleState", "tags": {key:
    {"isRetired", "isCostTracking", "validator"}}}. Raises ValueError with a message on bad input.
    """
    if isinstance(data, Mapping) and "tagNamespaces" in data:
        data = data["tagNamespaces"]
    if not isinstance(data, Mapping):
        raise ValueError("a tag schema is an object of namespaces (or a seed with tagNamespaces)")
    namespaces: dict[str, TagNamespace] = {}
    for ns_name, spec in data.items():
        if isinstance(spec, list):
            keys = {fold(str(k)): TagKey(str(k)) for k in spec}
            namespaces[fold(str(ns_name))] = TagNamespace(str(ns_name), keys=keys)
            continue
        if not isinstance(spec, Mapping):
            raise ValueError(f"tag namespace {ns_name!r}: expected a list of keys or an object")
        tags = spec.get("tags", {})
        if not isinstance(tags, Mapping):
            raise ValueError(f"tag namespace {ns_name!r}: tags must be an object of key names")
        keys = {}
        for key_name, key_spec in tags.items():
            if not isinstance(key_spec, Mapping):
                raise ValueError(f"tag {ns_name}.{key_name}: expected an object")
            # The seed is the API's JSON (camelCase): read it in the SDK's shape, as the API's answers.
            spec_fields = from_api_json(key_spec)
            validator = spec_fields.get("validator")
            if isinstance(validator, Mapping):
                validator = spec_fields["validator"] = from_api_json(validator)
            if validator is not None and validator_values(validator) == ():
                raise ValueError(f"tag {ns_name}.{key_name}: an ENUM validator needs its values")
            keys[fold(str(key_name))] = key_from_api({**spec_fields, "name": str(key_name)})
        namespaces[fold(str(ns_name))] = TagNamespace(
            str(ns_name),
            str(spec.get("id", "")),
            bool(spec.get("isRetired", False)),
            str(spec.get("lifecycleState", ACTIVE)),
            keys,
        )
    return TagSchema(namespaces)
