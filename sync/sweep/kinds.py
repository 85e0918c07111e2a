"""Which backup kinds a sweep lists: those the policy can match, narrowed by the caller's `kinds`."""

from __future__ import annotations

from collections.abc import Iterable

from sync.domain.resources import Kind
from sync.policy.loader import Policy
from sync.sweep.options import SweepError

# The order a sweep lists kinds in: group backups first, so a member that `members: tags`
# reaches through its group is already handled when its own kind is listed (see runner.py).
SWEEP_ORDER = (Kind.VOLUME_GROUP_BACKUP, Kind.VOLUME_BACKUP, Kind.BOOT_VOLUME_BACKUP)
VALID = ", ".join(k.value for k in SWEEP_ORDER)


def policy_kinds(policy: Policy) -> tuple[Kind, ...]:
    """The kinds at least one rule can match (a rule without `kind` matches every kind), in sweep order."""
    wanted: set[str] = set()
    for rule in policy.rules:
        if rule.match.kinds is None:
            return SWEEP_ORDER
        wanted |= rule.match.kinds
    return tuple(k for k in SWEEP_ORDER if k.value in wanted)


def parse_kinds(values: Iterable[str]) -> tuple[Kind, ...]:
    """Kinds by their policy names (duplicates ignored), in sweep order; SweepError names the valid ones."""
    names = [v.strip() for v in values]
    bad = [n for n in names if n not in {k.value for k in SWEEP_ORDER}]
    if bad:
        shown = repr(bad[0][:60])
        raise SweepError(f"unknown backup kind {shown}; kinds: {VALID}")
    if not names:
        raise SweepError(f"kinds is empty; kinds: {VALID}")
    return tuple(k for k in SWEEP_ORDER if k.value in names)


def sweep_kinds(policy: Policy, asked: tuple[Kind, ...] | None) -> tuple[Kind, ...]:
    """The kinds a sweep lists: the policy's, or (asked) those of them the caller asked for.

    A kind the policy cannot match is never listed: every backup of it would be `unchanged`.
    """
    matched = policy_kinds(policy)
    if asked is None:
        return matched
    return tuple(k for k in matched if k in asked)
