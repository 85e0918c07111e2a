"""Plain-text tables for the command line (no colour codes, so they paste into tickets)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync.policy.planner import Plan
from sync.printable import escape_controls

CELL_MAX = 80


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    # Values come from OCI: show control characters instead of letting them move the cursor.
    text = escape_controls(text)
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "…"


# A sweep's status (the answer's `status` field) as the first words of its summary.
SWEEP_HEADLINE = {"swept": "Sweep done", "partial": "Sweep stopped early", "failed": "Sweep failed"}


def headline(status: str) -> str:
    return SWEEP_HEADLINE.get(status, f"Sweep {status}")


def counted(n: int, noun: str) -> str:
    """`1 backup`, `5 backups`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def error_text(failure: dict[str, Any]) -> str:
    """A sweep failure's error; a call that got no HTTP status does not say `None` for it."""
    return str(failure.get("error")).replace(": None ", ": ", 1)


def render_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def plan_rows(plan: Plan) -> list[tuple[str, str, Any, Any]]:
    return change_rows(plan.changes())


def change_rows(changes: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """Rows (field, key, old, new) of a `changes` object as the function answers it."""
    rows: list[tuple[str, str, Any, Any]] = []
    if "displayName" in changes:
        rows.append(("displayName", "", changes["displayName"]["old"], changes["displayName"]["new"]))
    for key, diff in changes.get("freeformTags", {}).items():
        rows.append(("freeformTags", key, diff["old"], diff["new"]))
    for ns, keys in changes.get("definedTags", {}).items():
        for key, diff in keys.items():
            rows.append(("definedTags", f"{ns}.{key}", diff["old"], diff["new"]))
    return rows


def render_plan(plan: Plan) -> str:
    rules = ", ".join(plan.matched_rules) or "none"
    lines = [f"Backup {escape_controls(plan.backup_id or '(no id)')}", f"Matched rules: {rules}"]
    rows = plan_rows(plan)
    if plan.error:
        lines.append(f"Rejected: {escape_controls(plan.error)}. Nothing would be sent.")
    elif rows:
        lines.append(render_table(("FIELD", "KEY", "CURRENT", "PLANNED"), rows))
        lines.append(f"{len(rows)} change(s): one update would be sent (if-match on the etag read).")
    else:
        lines.append("No change: already compliant, no update would be sent.")
    lines += [f"warning: {escape_controls(w)}" for w in plan.warnings]
    return "\n".join(lines)
