"""The schema reader reads the port's answers (snake_case, as the lean clients shape them), and pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.cloud.port import Page
from sync.cloud.retry import Deadline
from sync.cloud.tagschema import Reader, read_schema

NS_ID = "ocid1.tagnamespace.oc1..aaaaaaaaops"


class PagedTagReads:
    """The port's three tag reads, two namespaces a page, in the lean clients' snake_case shape."""

    def __init__(self) -> None:
        self.namespaces: list[Mapping[str, Any]] = [
            {"id": f"ocid1.tagnamespace.oc1..aaaaaaaa{i}", "name": f"Ns{i}"} for i in range(5)
        ]
        self.namespaces.append(
            {"id": NS_ID, "name": "Operations", "is_retired": False, "lifecycle_state": "ACTIVE"}
        )

    def tenancy_id(self) -> str | None:
        return "ocid1.tenancy.oc1..aaaaaaaat"

    def list_tag_namespaces(
        self, tenancy_id: str, deadline: Deadline, page: str | None
    ) -> Page[Mapping[str, Any]]:
        start = int(page or 0)
        more = start + 2 < len(self.namespaces)
        return Page(self.namespaces[start : start + 2], str(start + 2) if more else None)

    def list_tags(self, namespace_id: str, deadline: Deadline, page: str | None) -> Page[Mapping[str, Any]]:
        assert namespace_id == NS_ID
        return Page(
            [{"name": "Environment", "is_cost_tracking": False}, {"name": "Old", "is_retired": True}], None
        )

    def get_tag(self, namespace_id: str, name: str, deadline: Deadline) -> Mapping[str, Any]:
        assert (namespace_id, name) == (NS_ID, "Environment")
        return {"name": "Environment", "validator": {"validator_type": "ENUM", "values": ["a", "b"]}}


def test_plain_dict_answers_are_read_and_paged() -> None:
    reader = Reader(PagedTagReads(), "ocid1.tenancy.oc1..aaaaaaaat", Deadline.after(10))
    schema = read_schema(reader, {"operations": {"environment", "old", "missing"}})
    assert reader.operations == ["ListTagNamespaces"] * 3 + ["ListTags", "GetTag"]
    assert schema.key("OPERATIONS", "environment").allowed == ("a", "b")  # type: ignore[union-attr]
    assert schema.key("Operations", "Old").is_retired  # type: ignore[union-attr]
    assert schema.key("Operations", "missing") is None
    assert schema.namespace("ns4") is not None
