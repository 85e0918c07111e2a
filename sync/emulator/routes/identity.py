"""Identity routes (API 20160918): compartments, tag namespaces and tag definitions."""

from __future__ import annotations

from sync.emulator.backend import Backend
from sync.emulator.wire import Reply, Request, Route, bool_param, int_param, json_reply, list_reply, required


def list_compartments(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.identity.list_compartments(
        required(query, "compartmentId"),
        compartment_id_in_subtree=bool_param(query, "compartmentIdInSubtree"),
        access_level=query.get("accessLevel"),
        limit=int_param(query, "limit"),
        page=query.get("page"),
        name=query.get("name"),
        lifecycle_state=query.get("lifecycleState"),
        sort_by=query.get("sortBy"),
        sort_order=query.get("sortOrder"),
    )
    return list_reply(items, next_page)


def list_tag_namespaces(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.identity.list_tag_namespaces(
        required(query, "compartmentId"),
        include_subcompartments=bool_param(query, "includeSubcompartments"),
        lifecycle_state=query.get("lifecycleState"),
        limit=int_param(query, "limit"),
        page=query.get("page"),
    )
    return list_reply(items, next_page)


def list_tags(backend: Backend, req: Request) -> Reply:
    query = req.query
    items, next_page = backend.identity.list_tags(
        req.params[0],
        lifecycle_state=query.get("lifecycleState"),
        limit=int_param(query, "limit"),
        page=query.get("page"),
    )
    return list_reply(items, next_page)


def get_tag(backend: Backend, req: Request) -> Reply:
    return json_reply(200, backend.identity.get_tag(req.params[0], req.params[1]))


ROUTES = [
    Route("GET", "/20160918/compartments", "ListCompartments", list_compartments),
    Route("GET", "/20160918/tagNamespaces", "ListTagNamespaces", list_tag_namespaces),
    Route("GET", "/20160918/tagNamespaces/{id}/tags", "ListTags", list_tags),
    Route("GET", "/20160918/tagNamespaces/{id}/tags/{name}", "GetTag", get_tag),
]
