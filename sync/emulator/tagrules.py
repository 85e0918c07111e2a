"""Tag checks OCI applies on update: tag shapes, counts, byte budget, and the tag namespaces' rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.emulator.errors import EmulatorError, invalid
from sync.emulator.ocilimits import OciLimits, is_valid_tag_name
from sync.emulator.paging import Json

# (namespace, key) -> (namespace, tag definition) matched ignoring case; None where absent.
TagLookup = Callable[[str, str], "tuple[Json | None, Json | None]"]


@dataclass
class TagChecks:
    """Switches for the defined-tag checks on update (README, "Defined tags on update").

    validate_all_defined: check every defined tag in the body, values already on the resource
    included (by default only the values the update changes are checked). unusable_namespaces:
    namespaces the caller may not `use` (matched ignoring case), refused as OCI refuses a
    namespace it cannot find or may not use.
    """

    validate_all_defined: bool = False
    unusable_namespaces: list[str] = field(default_factory=list)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply {"validateAllDefinedTags"?: bool, "unusableTagNamespaces"?: [str]}."""
        unknown = set(changes) - {"validateAllDefinedTags", "unusableTagNamespaces"}
        if unknown:
            raise ValueError(f"unknown tag-check field(s): {', '.join(sorted(unknown))}")
        strict = changes.get("validateAllDefinedTags", self.validate_all_defined)
        names = changes.get("unusableTagNamespaces", self.unusable_namespaces)
        if not isinstance(strict, bool):
            raise ValueError("validateAllDefinedTags must be true or false")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("unusableTagNamespaces must be a list of namespace names")
        self.validate_all_defined = strict
        self.unusable_namespaces = list(names)

    def to_dict(self) -> Json:
        return {
            "validateAllDefinedTags": self.validate_all_defined,
            "unusableTagNamespaces": list(self.unusable_namespaces),
        }

    def unusable(self, namespace: str) -> bool:
        return namespace.lower() in {n.lower() for n in self.unusable_namespaces}


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def check_tag_budget(current: Mapping[str, Any], changes: Mapping[str, Any], lim: OciLimits) -> None:
    """The total size of both tag maps after the change must fit OCI's byte budget."""
    freeform = changes.get("freeformTags", current.get("freeformTags") or {})
    defined = changes.get("definedTags", current.get("definedTags") or {})
    total = _json_size(freeform) + _json_size(defined)
    if total > lim.total_tags_bytes_max:
        raise invalid(
            f"Total size of freeformTags and definedTags is {total} bytes, "
            f"more than the limit of {lim.total_tags_bytes_max}"
        )


def validate_freeform(tags: Any, lim: OciLimits) -> None:
    """freeformTags: string keys and values within OCI's count and length limits."""
    if not isinstance(tags, dict):
        raise invalid("freeformTags must be an object of string keys and values")
    if len(tags) > lim.freeform_tags_max:
        raise invalid(f"freeformTags has {len(tags)} tags, more than the limit of {lim.freeform_tags_max}")
    for key, value in tags.items():
        if not is_valid_tag_name(key, lim.tag_name_max):
            raise invalid(
                f"Invalid freeform tag key {key!r}: 1 to {lim.tag_name_max} printable "
                "ASCII characters without '.' or space"
            )
        if not isinstance(value, str):
            raise invalid(f"Freeform tag {key!r} must have a string value")
        if len(value) > lim.tag_value_max:
            raise invalid(
                f"Freeform tag {key!r} value is {len(value)} characters, more than the "
                f"limit of {lim.tag_value_max}"
            )


def _not_found(message: str) -> EmulatorError:
    # Status, code and message as OCI answers a tag it cannot find or may not use (emulator README).
    return EmulatorError(
        400,
        "RelatedResourceNotAuthorizedOrNotFound",
        f"The following tag namespaces / keys are not authorized or not found: {message}",
    )


def validate_defined(
    tags: Any,
    lim: OciLimits,
    lookup: TagLookup,
    current: Mapping[str, Any] | None = None,
    checks: TagChecks | None = None,
) -> Json:
    """definedTags: existing namespaces and keys, matched ignoring case; the map in their own casing.

    Tags whose value changes must not be retired, must be allowed by a list-of-values key and
    must be in a namespace the caller may use; values already on the resource are kept as they
    are (see the README's "Not confirmed"), unless checks.validate_all_defined.
    """
    checks = checks if checks is not None else TagChecks()
    if not isinstance(tags, dict) or not all(isinstance(v, dict) for v in tags.values()):
        raise invalid("definedTags must be an object of namespaces to objects of tags")
    count = sum(len(v) for v in tags.values())
    if count > lim.defined_tags_max:
        raise invalid(f"definedTags has {count} tags, more than the limit of {lim.defined_tags_max}")
    stored = {
        ns.lower(): {k.lower(): v for k, v in keys.items()}
        for ns, keys in (current or {}).items()
        if isinstance(keys, dict)
    }
    out: Json = {}
    missing: list[str] = []
    for ns, keys in tags.items():
        for key, value in keys.items():
            if isinstance(value, dict | list) or value is None:
                raise invalid(f"Defined tag {ns}.{key} must have a scalar value")
            if len(str(value)) > lim.tag_value_max:
                raise invalid(
                    f"Defined tag {ns}.{key} value is {len(str(value))} characters, more "
                    f"than the limit of {lim.tag_value_max}"
                )
            namespace, tag = lookup(ns, key)
            if namespace is None:
                if f"'{ns}'" not in missing:
                    missing.append(f"'{ns}'")
                continue
            if tag is None:
                missing.append(f"TagDefinition {key} in TagNamespace {namespace['name']} does not exists.\n")
                continue
            target = out.setdefault(namespace["name"], {})
            if tag["name"] in target:
                raise invalid(f"Defined tag {namespace['name']}.{tag['name']} is given more than once")
            target[tag["name"]] = value
            unchanged = stored.get(ns.lower(), {}).get(key.lower()) == value
            if unchanged and not checks.validate_all_defined:
                continue  # already on the resource: sent back unchanged
            if checks.unusable(namespace["name"]):
                if f"'{namespace['name']}'" not in missing:
                    missing.append(f"'{namespace['name']}'")
                continue
            if namespace.get("isRetired") or tag.get("isRetired"):
                raise invalid(f"Tag {namespace['name']}.{tag['name']} is retired and cannot be applied")
            validator = tag.get("validator") or {}
            allowed = [str(v) for v in validator.get("values") or []]
            if validator.get("validatorType") == "ENUM" and str(value) not in allowed:
                raise invalid(
                    f"The value '{value}' is not allowed for tag {namespace['name']}.{tag['name']};"
                    f" allowed values: {', '.join(allowed)}"
                )
    if missing:
        raise _not_found(" ".join(missing) if missing[0].startswith("'") else "".join(missing))
    return out
