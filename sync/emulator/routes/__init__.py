"""The routing table: every service's routes, and the lookup from method and path to a route."""

from __future__ import annotations

import urllib.parse

from sync.emulator.routes import blockstorage, functions, identity, monitoring, objectstorage, regions
from sync.emulator.wire import Route

# A new service adds its module's ROUTES here; operation names must be unique.
ROUTES: list[Route] = [
    *blockstorage.ROUTES,
    *identity.ROUTES,
    *objectstorage.ROUTES,
    *regions.ROUTES,
    *monitoring.ROUTES,
    *functions.ROUTES,
]

BY_OPERATION: dict[str, Route] = {r.operation: r for r in ROUTES}


def route(method: str, path: str) -> tuple[str, list[str]]:
    """Map a method and raw path to an OCI operation name and its url-decoded path parameters."""
    for r in ROUTES:
        match = r.match(method, path)
        if match:
            return r.operation, [urllib.parse.unquote(g) for g in match.groups()]
    return "Unknown", []
