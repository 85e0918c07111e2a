"""What a sweep lists: its compartments (Identity) and their backups page by page (Block Storage)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sync.cloud.clients import AuthError
from sync.cloud.engine import CallFailed, Engine
from sync.cloud.retry import Deadline
from sync.policy.fields import from_api_json
from sync.requests.bodies import ocid_kind
from sync.sweep.options import SweepOptions
from sync.sweep.tokens import Position

log = logging.getLogger("sync.sweep.listing")

# (position, backups in range, None) per page; (position, [], error or Stop) ends a compartment.
PageItem = tuple[Position, list[dict[str, Any]], "CallFailed | AuthError | Stop | None"]


class Stop:
    """The deadline (or the sweep's own stop) is near: stop listing here."""


def plain(item: Any) -> dict[str, Any]:
    """A resource as a snake_case dict, from an SDK model or a plain dict (either key style)."""
    if isinstance(item, dict):
        return from_api_json(item) if any(k != k.lower() for k in item) else item
    from oci.util import to_dict

    data = to_dict(item)
    return data if isinstance(data, dict) else {}


def compartment_ids(found: list[dict[str, Any]]) -> list[str]:
    """Ids of listed compartments that are compartment OCIDs (others never become a path)."""
    ids = [str(c.get("id")) for c in found]
    for bad in (i for i in ids if ocid_kind(i) != "compartment"):
        log.warning(f"skipped a listed compartment whose id {bad[:80]!r} is not a compartment OCID")
    return [i for i in ids if ocid_kind(i) == "compartment"]


def created(backup: dict[str, Any]) -> datetime | None:
    value = backup.get("time_created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
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
    """Listing calls for one sweep, counted in `calls`; `deadline()` bounds each call."""

    def __init__(
        self,
        engine: Engine,
        options: SweepOptions,
        deadline: Callable[[], Deadline],
        should_stop: Callable[[], bool],
    ) -> None:
        self.engine = engine
        self.options = options
        self.deadline = deadline
        self.should_stop = should_stop
        self.calls: Counter[str] = Counter()

    def _list_all(self, fn: Callable[..., Any], operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page: str | None = None
        while True:
            resp = self.engine.call(operation, fn, None, self.deadline(), page=page, **kwargs)
            self.calls[operation] += 1
            items.extend(plain(c) for c in resp.data or [])
            page = resp.next_page
            if not page:
                return items

    def compartments(self) -> list[str]:
        """The root, then (recursive) its ACTIVE descendants, in a stable order."""
        root = self.options.compartment_id
        if not self.options.recursive:
            return [root]
        identity = self.engine.clients.identity()
        if ocid_kind(root) == "tenancy":
            found = self._list_all(
                identity.list_compartments,
                "ListCompartments",
                compartment_id=root,
                compartment_id_in_subtree=True,
                access_level="ACCESSIBLE",
                lifecycle_state="ACTIVE",
            )
            return [root, *sorted(i for i in compartment_ids(found) if i != root)]
        ordered = [root]
        seen = {root}
        queue = [root]
        while queue:
            parent = queue.pop(0)
            children = self._list_all(
                identity.list_compartments,
                "ListCompartments",
                compartment_id=parent,
                lifecycle_state="ACTIVE",
            )
            for child in sorted(compartment_ids(children)):
                if child not in seen:
                    seen.add(child)
                    ordered.append(child)
                    queue.append(child)
        return ordered

    def pages(self, compartment_id: str, page_token: str | None) -> Iterator[PageItem]:
        """(position, backups in range, None) per page; (position, [], error or Stop) ends it."""
        client = None
        since = self.options.since
        while True:
            position = Position(compartment_id, page_token)
            if self.should_stop():
                yield position, [], Stop()
                return
            try:
                client = client or self.engine.clients.blockstorage()
                resp = self.engine.call(
                    "ListVolumeGroupBackups",
                    client.list_volume_group_backups,
                    None,
                    self.deadline(),
                    compartment_id=compartment_id,
                    limit=self.options.page_size,
                    page=page_token,
                    sort_by="TIMECREATED",
                    sort_order="DESC",
                )
            except CallFailed as exc:
                # The limiter refused the call for lack of time: a stop, not a failure.
                yield position, [], Stop() if exc.code == "DeadlineExceeded" else exc
                return
            except AuthError as exc:
                yield position, [], exc
                return
            self.calls["ListVolumeGroupBackups"] += 1
            items: list[dict[str, Any]] = []
            for model in resp.data or []:
                backup = plain(model)
                when = created(backup)
                if since is not None and when is not None and when < since:
                    continue
                items.append(backup)
            yield position, items, None
            page_token = resp.next_page
            if not page_token:
                return
