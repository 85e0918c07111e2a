"""Identity routes (API 20160918): compartments."""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, bool_param, int_param, list_reply, required


def list_compartments(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.list_compartments(
        required(query, "compartmentId"),
        compartment_id_in_subtree=bool_param(query, "compartmentIdInSubtree"),
        access_level=query.get("accessLevel"),
        limit=int_param(query, "limit"),
        page=query.get("page"),
        name=query.get("name"),
        lifecycle_state=query.get("lifecycleState"),
    )
    return list_reply(items, next_page)


ROUTES = [
    Route("GET", "/20160918/compartments", "ListCompartments", list_compartments),
]
