"""Policy regexes on RE2: matching time linear in the input, and refused before compiling when large."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import re2

from sync.printable import clip, escape_controls

# A compiled RE2 program above this many instructions is refused: matching is linear in the
# input but proportional to the program, and counted repetitions ({n}) of wide classes build
# programs of tens of thousands of instructions (tests/bench/bench_hostile.py has the figures).
MAX_PROGRAM_SIZE = 2000
# Compiling costs time in proportion to the program (about 1 ms per 1000 instructions, and up to
# 45 ms for a pattern RE2 gives up on), so a pattern whose estimated program is well above the
# limit is refused before RE2 sees it. Estimates are within a few percent for the usual shapes.
MAX_ESTIMATE = 2 * MAX_PROGRAM_SIZE
# Memory RE2 may use for one pattern (its compiled program and lazily built DFA); past it RE2
# falls back to a slower, still linear, matcher rather than growing.
MAX_MEM = 2 * 1024 * 1024
# What one policy's regexes may add up to: each compiled pattern costs memory for as long as the
# policy is loaded, and every plan runs each of them over its field.
MAX_REGEXES = 1000
MAX_TOTAL_PROGRAM_SIZE = 50_000
# RE2 work one policy may cause, refused patterns included: this bounds the time a policy can
# take to load (or to be refused), whatever it holds.
MAX_COMPILE_WORK = 2 * MAX_TOTAL_PROGRAM_SIZE
MAX_PATTERN_LENGTH = 4096
MAX_TOTAL_PATTERN_LENGTH = 64 * 1024
# Where RE2 gives up on a program ("pattern too large"): what a refused compile is charged.
GIVE_UP_COST = 50_000


class RegexError(ValueError):
    """A pattern RE2 cannot run (or that is too large); the message says why."""

    def __init__(self, message: str, work: int = 0) -> None:
        super().__init__(message)
        self.work = work  # RE2 work it took to find out (charged to the policy's budget)


class RegexDeadline(RegexError):
    """The caller's time ran out before this pattern could be compiled."""


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
_TOO_LARGE_HINT = " (use smaller {n} counts on wide classes such as . or \\p{L})"


def _explain(message: str) -> str:
    for prefix, hint in _HINTS.items():
        if message.startswith(prefix):
            return f"{message} ({hint})"
    return message


class RegexBudget:
    """The regexes one policy may still compile: a count, RE2 instructions, and compile work.

    `time_left` (seconds, None: no limit) is asked before each compile: loading stops when the
    caller's deadline is near rather than answering after it.
    """

    def __init__(
        self,
        count: int = MAX_REGEXES,
        size: int = MAX_TOTAL_PROGRAM_SIZE,
        *,
        work: int = MAX_COMPILE_WORK,
        text: int = MAX_TOTAL_PATTERN_LENGTH,
        time_left: Callable[[], float] | None = None,
    ) -> None:
        self.count_left = count
        self.size_left = size
        self.work_left = work
        self.text_left = text
        self.time_left = time_left

    def compile_search(self, pattern: str) -> Callable[[str], bool]:
        if self.count_left <= 0:
            raise RegexError(f"a policy may hold at most {MAX_REGEXES} regex conditions")
        self.count_left -= 1
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise RegexError(f"pattern is {len(pattern)} characters; the limit is {MAX_PATTERN_LENGTH}")
        self.text_left -= len(pattern)
        if self.text_left < 0:
            raise RegexError(
                f"the policy's regexes add up to more than {MAX_TOTAL_PATTERN_LENGTH} characters"
            )
        estimate = estimate_program_size(pattern)
        _refuse_estimate(estimate)
        if estimate > self.size_left:
            raise RegexError(
                f"the policy's regexes add up to more than {MAX_TOTAL_PROGRAM_SIZE} RE2 instructions"
            )
        if estimate > self.work_left:
            raise RegexError(
                "not compiled: the regexes refused above used up the policy's compile budget (fix them first)"
            )
        if self.time_left is not None and self.time_left() <= 0:
            raise RegexDeadline("not compiled: the time allowed for loading the policy ran out")
        try:
            test, size = _compile(pattern)
        except RegexError as exc:
            self.work_left -= max(exc.work, estimate)
            raise
        self.work_left -= max(size, estimate)
        self.size_left -= size
        if self.size_left < 0:
            raise RegexError(
                f"the policy's regexes add up to more than {MAX_TOTAL_PROGRAM_SIZE} RE2 instructions"
            )
        return test


def compile_search(pattern: str) -> Callable[[str], bool]:
    """A test that says whether `pattern` occurs anywhere in a text (re.search semantics)."""
    _refuse_estimate(estimate_program_size(pattern))
    return _compile(pattern)[0]


def _refuse_estimate(estimate: int) -> None:
    if estimate > MAX_ESTIMATE:
        shown = f"{estimate}" if estimate < 10**7 else "more than 10000000"
        raise RegexError(
            f"pattern is too large: about {shown} RE2 instructions, the limit is {MAX_PROGRAM_SIZE}"
            + _TOO_LARGE_HINT
        )


def _compile(pattern: str) -> tuple[Callable[[str], bool], int]:
    try:
        compiled = re2.compile(pattern, _options())
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        work = 0
        if message.startswith("pattern too large"):
            message = "pattern is too large (use smaller {n} counts)"
            work = GIVE_UP_COST
        raise RegexError(
            f"invalid regular expression (RE2 syntax): {clip(escape_controls(_explain(message)))}", work
        ) from None
    size = int(compiled.programsize)
    if size > MAX_PROGRAM_SIZE:
        raise RegexError(
            f"pattern is too large: {size} RE2 instructions, the limit is {MAX_PROGRAM_SIZE}"
            + _TOO_LARGE_HINT
        )
    search = compiled.search
    return (lambda text: search(text) is not None), size


# -- estimating a program's size without compiling it ---------------------------------------
#
# RE2 expands x{n} into n copies of x, so a program's size is about the sum of its atoms' sizes,
# each times the counts it sits under. Atom sizes were measured with RE2 (program size minus the
# 4 instructions of an empty pattern); a Unicode class (\p{L}: 1196) is measured once per name.

_TOKEN = re.compile(
    r"""
    (?P<quoted>\\Q.*?(?:\\E|\Z))
  | (?P<uclass>\\[pP](?:\{[^}]*\}|.))
  | (?P<hex>\\x(?:\{[^}]*\}|[0-9A-Fa-f]{0,2}))
  | (?P<escape>\\.)
  | (?P<cls>\[\^?\]?(?:\[:\^?[A-Za-z]+:\]|\\[pP]\{[^}]*\}|\\.|[^\]\\])*\])
  | (?P<repeat>\{(?P<lo>[0-9]+)(?P<comma>,(?P<hi>[0-9]*))?\}\??)
  | (?P<quant>[*+?]\??)
  | (?P<flags>\(\?[A-Za-z-]*\))
  | (?P<open>\((?:\?(?:P?<[^>]*>|[A-Za-z-]*:))?)
  | (?P<close>\))
  | (?P<alt>\|)
  | (?P<dot>\.)
  | (?P<char>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CLASS_ITEM = re.compile(
    r"(?P<uclass>\\[pP](?:\{[^}]*\}|.))|(?P<posix>\[:\^?[A-Za-z]+:\])|(?P<range>(?:\\.|[^\\])-(?:\\.|[^\\\]]))"
    r"|(?P<one>\\.|.)",
    re.DOTALL,
)
_CAP = 10**9
_DOT, _NEGATED, _WIDE_RANGE, _PERL_CLASS, _NEGATED_PERL_CLASS = 8, 8, 8, 3, 11


@functools.lru_cache(maxsize=1024)  # valid names are a finite set; invalid ones fail at once
def _unicode_class_size(token: str) -> int:
    try:
        return max(1, int(re2.compile(token, _options()).programsize) - 4)
    except re2.error:
        return 1  # RE2 reports the bad name when the pattern itself is compiled


def _char_size(text: str, fold_case: bool) -> int:
    if fold_case and text.isalpha():
        return 4  # the case variants, e.g. k K and the Kelvin sign
    return len(text.encode("utf-8", "surrogatepass")) or 1


def _class_size(body: str) -> int:
    negated = body.startswith("[^")
    inner = body[2 if negated else 1 : -1]
    total = 0
    for m in _CLASS_ITEM.finditer(inner):
        if m.group("uclass"):
            total += _unicode_class_size(m.group("uclass"))
        elif m.group("range"):
            total += 1 if m.group("range").isascii() else _WIDE_RANGE
        else:
            total += 1 if m.group(0).isascii() else 2
    return total + (_NEGATED if negated else 0)


def _atom_size(kind: str, text: str, fold_case: bool) -> int:
    if kind == "uclass":
        return _unicode_class_size(text)
    if kind == "cls":
        return _class_size(text)
    if kind == "dot":
        return _DOT
    if kind == "quoted":
        body = text[2:-2] if text.endswith("\\E") else text[2:]
        return sum(_char_size(c, fold_case) for c in body)
    if kind == "escape":
        letter = text[1]
        if letter in "dsw":
            return _PERL_CLASS
        if letter in "DSW":
            return _NEGATED_PERL_CLASS
        return _char_size(letter, fold_case)
    if kind == "hex":
        return 4
    return _char_size(text, fold_case)


def _repeated(size: int, m: re.Match[str]) -> int:
    lo = int(m.group("lo")[:5])
    if not m.group("comma"):
        return min(_CAP, size * lo)
    hi = m.group("hi")
    if not hi:
        return min(_CAP, size * (lo + 1) + 1)
    top = max(lo, int(hi[:5]))
    return min(_CAP, size * top + top)


def estimate_program_size(pattern: str) -> int:
    """About how many instructions RE2 will compile `pattern` to (no compiling, linear time)."""
    fold_case = "(?" in pattern and re.search(r"\(\?[A-Za-z]*i", pattern) is not None
    # One frame per open group: [size of the closed alternatives, sequence so far, last atom].
    stack: list[list[int]] = [[0, 0, 0]]
    for m in _TOKEN.finditer(pattern):
        kind = m.lastgroup or "char"
        frame = stack[-1]
        if kind == "repeat":
            frame[2] = _repeated(frame[2], m)
        elif kind == "quant":
            frame[2] = min(_CAP, frame[2] + 1)
        elif kind == "flags":
            continue
        elif kind == "open":
            stack.append([0, 0, 0])
        elif kind == "close" and len(stack) > 1:
            done = stack.pop()
            parent = stack[-1]
            parent[1] = min(_CAP, parent[1] + parent[2])
            parent[2] = min(_CAP, done[0] + done[1] + done[2])
        elif kind == "alt":
            frame[0] = min(_CAP, frame[0] + frame[1] + frame[2] + 1)
            frame[1] = frame[2] = 0
        else:
            frame[1] = min(_CAP, frame[1] + frame[2])
            frame[2] = _atom_size(kind, m.group(0), fold_case)
    total = 0
    while stack:
        frame = stack.pop()
        total = min(_CAP, total + frame[0] + frame[1] + frame[2])
    return total
