"""PolicyError: every way a policy fails to load ends in one, listing clipped lines."""

from __future__ import annotations

from sync.printable import clip

MAX_ERROR_LINE = 600  # a last cap: every quoted value is already clipped to about 200 characters
MAX_ERRORS = 50


class PolicyError(ValueError):
    """A policy that does not load; `errors` has one line per problem."""

    def __init__(self, errors: list[str], origin: str = "policy") -> None:
        more = len(errors) - MAX_ERRORS
        errors = [clip(line, MAX_ERROR_LINE) for line in errors[:MAX_ERRORS]]
        if more > 0:
            errors.append(f"... and {more} more error(s)")
        self.errors = errors
        self.origin = origin
        super().__init__(f"{origin}: " + "; ".join(errors))


class PolicyTimeout(PolicyError):
    """Loading stopped at the caller's deadline: no verdict on the policy, so never cache it."""
