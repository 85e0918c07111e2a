"""Identity region subscription routes (API 20160918)."""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, json_reply


def list_region_subscriptions(backend: Backend, req: Request) -> Reply:
    return json_reply(200, backend.regions.list_region_subscriptions(req.params[0]))


ROUTES = [
    Route(
        "GET",
        "/20160918/tenancies/{tenancyId}/regionSubscriptions",
        "ListRegionSubscriptions",
        list_region_subscriptions,
    ),
]
