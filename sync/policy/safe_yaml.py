"""Policy YAML read as plain data, event by event: no anchors, no tags, no node tree to blow up."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from sync.printable import quote

MAX_DEPTH = 64

# libyaml (C) when PyYAML was built with it (the wheels are); the pure-Python parser otherwise.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "!",  # the non-specific tag: plain text
}


class YamlError(ValueError):
    """Text that is not a policy's plain YAML; the message names the line."""


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types, less timestamps: `2026-11-01` in a policy is text."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_RESOLVER = _Resolver()
# First characters of implicitly typed plain scalars (numbers, booleans, null, <<, =).
_TYPED_FIRST = frozenset(k for k in _Resolver.yaml_implicit_resolvers if k)
assert None not in _Resolver.yaml_implicit_resolvers  # no resolver that looks at every scalar
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# Plain scalars common in policies, resolved once here rather than on every occurrence.
_COMMON: dict[str, Any] = {
    **{word: True for word in ("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON")},
    **{word: False for word in ("false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF")},
    **{word: None for word in ("", "~", "null", "Null", "NULL")},
}
_BUILD = {
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
}


def _resolve(value: str) -> str:
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _line(event: Any) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def _scalar(event: ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        plain = event.implicit[0] and tag is None
        tag = _resolve(event.value) if plain else _STR
    if tag == _STR:
        return event.value
    build = _BUILD.get(tag)
    if tag == "tag:yaml.org,2002:merge":
        raise YamlError(f"line {_line(event)}: merge keys (<<) are not allowed in a policy")
    if build is None:
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlError(f"line {_line(event)}: {quote(event.value, 60)} reads as YAML type {shown}: quote it")
    try:
        value = build(ScalarNode(tag, event.value))
    except (ValueError, OverflowError) as exc:  # 4,300+ digit integers, odd bases
        reason = str(exc).split(";")[0]
        raise YamlError(
            f"line {_line(event)}: {quote(event.value, 60)} is not a usable number ({reason})"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise YamlError(f"line {_line(event)}: {quote(event.value, 60)} is not a finite number")
    return value


def _check_node(event: NodeEvent) -> None:
    if isinstance(event, AliasEvent) or event.anchor is not None:
        raise YamlError(f"line {_line(event)}: anchors (&) and aliases (*) are not allowed in a policy")
    tag = getattr(event, "tag", None)
    if tag is not None and tag not in _ALLOWED_TAGS:
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlError(f"line {_line(event)}: the YAML tag {quote(shown, 60)} is not allowed in a policy")


def load(text: str) -> Any:
    """The one document in `text` as dicts, lists, text, numbers, booleans and None.

    Raises YamlError (naming the line) for anchors and aliases, explicit tags, timestamps
    written as tags, non-finite or oversized numbers, duplicate or complex keys, nesting deeper
    than MAX_DEPTH and more than one document; yaml.YAMLError for text that is not YAML.
    """
    # Each frame: [container, pending key (mappings), key expected next (mappings)].
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    events: Iterator[Any] = yaml.parse(text, Loader=_LOADER)
    for event in events:
        kind = event.__class__
        if kind is ScalarEvent:
            raw = event.value
            # Fast paths first: most scalars are quoted text, plain text whose first character
            # no implicit type starts with, a common word, or a plain decimal integer.
            if event.anchor is not None or event.tag is not None:
                _check_node(event)
                value: Any = _scalar(event)
            elif not event.implicit[0]:
                value = raw
            elif raw in _COMMON:
                value = _COMMON[raw]
            elif raw[0] not in _TYPED_FIRST:
                value = raw
            elif raw.isdigit() and raw.isascii() and raw[0] != "0" and len(raw) <= 100:
                value = int(raw)
            else:
                value = _scalar(event)
            if not stack:
                root = value
                continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value = stack.pop()[0]
            if not stack:
                root = value
                continue
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                _check_node(event)
            if len(stack) >= MAX_DEPTH:
                raise YamlError(f"line {_line(event)}: nested more than {MAX_DEPTH} levels deep")
            stack.append([{} if kind is MappingStartEvent else [], None, True])
            continue
        elif kind is AliasEvent:
            _check_node(event)
            continue  # pragma: no cover (_check_node raises)
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise YamlError(f"line {_line(event)}: a policy is one YAML document (found a second)")
            continue
        else:
            continue
        frame = stack[-1]
        container = frame[0]
        if container.__class__ is list:
            container.append(value)
        elif frame[2]:
            if value.__class__ is dict or value.__class__ is list:
                raise YamlError(f"line {_line(event)}: a mapping key must be text or a number")
            if value in container:
                raise YamlError(f"line {_line(event)}: duplicate key {quote(value, 60)}")
            frame[1], frame[2] = value, False
        else:
            container[frame[1]] = value
            frame[1], frame[2] = None, True
    return root
