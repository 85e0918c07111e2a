"""What a sweep lists: its compartments (Identity) and their backups page by page (Block Storage)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sync.cloud.calls import Limiter
from sync.cloud.clients import AuthError
from sync.cloud.outcome import CallFailed
from sync.cloud.port import Compartment, OciPort
from sync.cloud.retry import Deadline
from sync.domain.ocid import ocid_kind
from sync.domain.resources import Backup, Kind
from sync.sweep.options import SweepOptions
from sync.sweep.tokens import Position

log = logging.getLogger("sync.sweep.listing")

# (position, backups in range, None) per page; (position, [], error or Stop) ends a compartment.
PageItem = tuple[Position, list[Backup], "CallFailed | AuthError | Stop | None"]


# The list operation of each kind, as the answer's `calls` counts it (Oracle's operation names).
LIST_OPERATIONS = {
    Kind.VOLUME_GROUP_BACKUP: "ListVolumeGroupBackups",
    Kind.VOLUME_BACKUP: "ListVolumeBackups",
    Kind.BOOT_VOLUME_BACKUP: "ListBootVolumeBackups",
}


class Stop:
    """The deadline (or the sweep's own stop) is near: stop listing here."""


def compartment_ids(found: list[Compartment]) -> list[str]:
    """Ids of listed compartments that are compartment OCIDs (others never become a path)."""
    ids = [c.id for c in found]
    for bad in (i for i in ids if ocid_kind(i) != "compartment"):
        log.warning(f"skipped a listed compartment whose id {bad[:80]!r} is not a compartment OCID")
    return [i for i in ids if ocid_kind(i) == "compartment"]


def created(backup: Backup) -> datetime | None:
    value = backup.time_created
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def listing_failure(failure: CallFailed | AuthError, compartment_id: str) -> dict[str, Any]:
    """A failed listing call as a `failures` item of the answer."""
    if isinstance(failure, AuthError):
        return {"operation": "authentication", "compartmentId": compartment_id, "error": str(failure)}
    return {
        "operation": failure.operation,
        "compartmentId": compartment_id,
        "status": failure.status,
        "error": str(failure),
        "opcRequestId": failure.opc_request_id,
        "transient": failure.transient,
    }


class Lister:
    """Listing calls for one sweep, counted in `calls`; `deadline()` bounds each call, `limiter` paces it."""

    def __init__(
        self,
        port: OciPort,
        options: SweepOptions,
        deadline: Callable[[], Deadline],
        should_stop: Callable[[], bool],
        limiter: Limiter | None = None,
    ) -> None:
        self.port = port
        self.options = options
        self.deadline = deadline
        self.should_stop = should_stop
        self.limiter = limiter
        self.calls: Counter[str] = Counter()

    def _children(self, parent: str, subtree: bool) -> list[str]:
        found: list[Compartment] = []
        page: str | None = None
        while True:
            got = self.port.list_compartments(
                parent, self.deadline(), subtree=subtree, page=page, limiter=self.limiter
            )
            self.calls["ListCompartments"] += 1
            found.extend(got.items)
            page = got.next_page
            if not page:
                return compartment_ids(found)

    def compartments(self) -> list[str]:
        """The root, then (recursive) its ACTIVE descendants, in a stable order."""
        root = self.options.compartment_id
        if not self.options.recursive:
            return [root]
        if ocid_kind(root) == "tenancy":
            return [root, *sorted(i for i in self._children(root, subtree=True) if i != root)]
        ordered = [root]
        seen = {root}
        queue = [root]
        while queue:
            parent = queue.pop(0)
            for child in sorted(self._children(parent, subtree=False)):
                if child not in seen:
                    seen.add(child)
                    ordered.append(child)
                    queue.append(child)
        return ordered

    def pages(self, kind: Kind, compartment_id: str, page_token: str | None) -> Iterator[PageItem]:
        """(position, backups of `kind` in range, None) per page; (position, [], error or Stop) ends it."""
        since = self.options.since
        while True:
            position = Position(compartment_id, page_token, kind)
            if self.should_stop():
                yield position, [], Stop()
                return
            try:
                got = self.port.list_backups(
                    kind,
                    compartment_id,
                    self.deadline(),
                    page=page_token,
                    limit=self.options.page_size,
                    limiter=self.limiter,
                )
            except CallFailed as exc:
                # The limiter refused the call for lack of time: a stop, not a failure.
                yield position, [], Stop() if exc.code == "DeadlineExceeded" else exc
                return
            except AuthError as exc:
                yield position, [], exc
                return
            self.calls[LIST_OPERATIONS[kind]] += 1
            items: list[Backup] = []
            for backup in got.items:
                when = created(backup)
                if since is not None and when is not None and when < since:
                    continue
                items.append(backup)
            yield position, items, None
            page_token = got.next_page
            if not page_token:
                return
