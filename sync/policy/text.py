"""Policy text to plain data: size, UTF-8, then JSON or (safe, plain) YAML; failures as PolicyError."""

from __future__ import annotations

import re
from typing import Any

import yaml

from sync.domain import jsonnumbers
from sync.policy.errors import PolicyError
from sync.policy.safe_yaml import YamlError
from sync.policy.safe_yaml import load as load_yaml
from sync.printable import quote

MAX_POLICY_BYTES = 1024 * 1024
# A JSON \uD800-\uDFFF escape, or such a code point in the text itself (a str from the
# environment): only then is the parsed policy searched for a lone surrogate.
_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def parse_text(text: str | bytes, origin: str) -> Any:
    """The policy as dicts, lists and scalars; PolicyError naming the line for bad text."""
    if isinstance(text, bytes):
        if len(text) > MAX_POLICY_BYTES:
            raise PolicyError([f"policy is {len(text)} bytes; the limit is 1 MiB"], origin)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError([f"policy is not UTF-8 text (byte {exc.start})"], origin) from None
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError([f"policy is {len(text)} characters; the limit is 1 MiB"], origin)
    if not text.strip():
        raise PolicyError(["policy is empty"], origin)
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            data = jsonnumbers.loads(text, object_pairs_hook=_json_object)
            if _SURROGATE_HINT.search(text):
                _no_lone_surrogate(data, "")
            return data
        # Plain dicts, lists and scalars only: no anchors, aliases, tags or Python objects.
        return load_yaml(text)
    except jsonnumbers.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PolicyError([f"invalid JSON at {where}: {exc.msg}"], origin) from None
    except YamlError as exc:
        raise PolicyError([f"invalid YAML at {exc}"], origin) from None
    except (_JsonValueError, jsonnumbers.JsonNumberError) as exc:
        raise PolicyError([f"invalid JSON: {exc}"], origin) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError([f"invalid YAML{where}: {problem}"], origin) from None
    except RecursionError:
        raise PolicyError(["policy is nested too deeply"], origin) from None


class _JsonValueError(ValueError):
    """A key given twice, or a lone surrogate."""


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # as in YAML: the first value would be dropped silently
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonValueError(f"duplicate key {quote(key, 60)}")
            seen.add(key)
    return out


def _no_lone_surrogate(data: Any, path: str) -> None:
    """YAML refuses a lone UTF-16 surrogate; JSON's \\uD800 lets one through, and OCI would refuse it."""
    if isinstance(data, str):
        if any("\ud800" <= c <= "\udfff" for c in data):
            where = f" at {path}" if path else ""
            raise _JsonValueError(f"a lone UTF-16 surrogate (\\uD800-\\uDFFF) in a text{where}")
    elif isinstance(data, dict):
        for key, value in data.items():
            _no_lone_surrogate(key, path)
            shown = key if isinstance(key, str) and key.isprintable() and key.isascii() else "?"
            _no_lone_surrogate(value, f"{path}.{shown}" if path else shown)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _no_lone_surrogate(value, f"{path}[{i}]")
