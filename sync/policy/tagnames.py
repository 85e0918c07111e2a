"""Defined tag names as OCI compares them: namespaces and keys match whatever their case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

V = TypeVar("V")


def fold(name: str) -> str:
    """The comparison form of a namespace or key name (OCI allows printable ASCII only)."""
    return name.lower()


def find_name(mapping: Mapping[str, Any], name: str) -> str | None:
    """The key of mapping that names the same namespace or key as name (exact match first)."""
    if name in mapping:
        return name
    folded = fold(name)
    for key in mapping:
        if isinstance(key, str) and fold(key) == folded:
            return key
    return None


def ci_get(mapping: Any, name: str) -> Any:
    """mapping[name] matched case-insensitively; None when absent or mapping is not a dict."""
    if not isinstance(mapping, dict):
        return None
    found = find_name(mapping, name)
    return None if found is None else mapping[found]


def folded_defined(defined: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A defined-tag map with folded names, so that two maps differing only in case compare equal."""
    out: dict[str, dict[str, Any]] = {}
    for ns, keys in defined.items():
        target = out.setdefault(fold(ns), {})
        if isinstance(keys, Mapping):
            for key, value in keys.items():
                target[fold(key)] = value
    return out
