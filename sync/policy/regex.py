"""Policy regexes on RE2: matching time linear in the input, whatever the pattern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2

from sync.printable import clip, escape_controls

# A compiled RE2 program above this many instructions is refused: matching is linear in the
# input but proportional to the program, and counted repetitions ({n}) of wide classes build
# programs of tens of thousands of instructions (tests/bench/bench_hostile.py has the figures).
MAX_PROGRAM_SIZE = 2000
# Memory RE2 may use for one pattern (its compiled program and lazily built DFA); past it RE2
# falls back to a slower, still linear, matcher rather than growing.
MAX_MEM = 2 * 1024 * 1024
# What one policy's regexes may add up to: each compiled pattern costs memory for as long as the
# policy is loaded, and every plan runs each of them over its field.
MAX_REGEXES = 1000
MAX_TOTAL_PROGRAM_SIZE = 50_000


class RegexError(ValueError):
    """A pattern RE2 cannot run (or that is too large); the message says why."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each refused pattern on stderr
    options.max_mem = MAX_MEM
    options.never_capture = True  # only "does it match" is asked: groups cost time
    return options


_HINTS = {
    "invalid escape sequence: \\": "backreferences (\\1) and \\Z are not supported (use \\z)",
    "invalid perl operator: (?=": "lookahead (?=...) is not supported",
    "invalid perl operator: (?!": "lookahead (?!...) is not supported",
    "invalid perl operator: (?<": "lookbehind is not supported",
    "invalid perl operator: (?>": "atomic groups are not supported (RE2 never backtracks)",
    "bad repetition operator: ": "possessive quantifiers are not supported (RE2 never backtracks)",
}


def _explain(message: str) -> str:
    for prefix, hint in _HINTS.items():
        if message.startswith(prefix):
            return f"{message} ({hint})"
    return message


class RegexBudget:
    """The regexes one policy may still compile: a count, and RE2 instructions in all."""

    def __init__(self, count: int = MAX_REGEXES, size: int = MAX_TOTAL_PROGRAM_SIZE) -> None:
        self.count_left = count
        self.size_left = size

    def compile_search(self, pattern: str) -> Callable[[str], bool]:
        if self.count_left <= 0:
            raise RegexError(f"a policy may hold at most {MAX_REGEXES} regex conditions")
        self.count_left -= 1
        test, size = _compile(pattern)
        self.size_left -= size
        if self.size_left < 0:
            raise RegexError(
                f"the policy's regexes add up to more than {MAX_TOTAL_PROGRAM_SIZE} RE2 instructions"
            )
        return test


def compile_search(pattern: str) -> Callable[[str], bool]:
    """A test that says whether `pattern` occurs anywhere in a text (re.search semantics)."""
    return _compile(pattern)[0]


def _compile(pattern: str) -> tuple[Callable[[str], bool], int]:
    try:
        compiled = re2.compile(pattern, _options())
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if message.startswith("pattern too large"):
            message = "pattern is too large (use smaller {n} counts)"
        raise RegexError(
            f"invalid regular expression (RE2 syntax): {clip(escape_controls(_explain(message)))}"
        ) from None
    size = int(compiled.programsize)
    if size > MAX_PROGRAM_SIZE:
        raise RegexError(
            f"pattern is too large: {size} RE2 instructions, the limit is {MAX_PROGRAM_SIZE}"
            " (use smaller {n} counts on wide classes such as . or \\p{L})"
        )
    search = compiled.search
    return (lambda text: search(text) is not None), size
