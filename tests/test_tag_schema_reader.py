"""The schema reader takes SDK models or plain dicts (the lean clients' answers), and pages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sync.cloud.tagschema import Reader, read_schema

NS_ID = "ocid1.tagnamespace.oc1..aaaaaaaaops"


class PlainDictIdentity:
    """Answers as OCI's JSON, camelCase plain dicts, two namespaces a page: what a lean client returns."""

    def __init__(self) -> None:
        self.namespaces = [{"id": f"ocid1.tagnamespace.oc1..aaaaaaaa{i}", "name": f"Ns{i}"} for i in range(5)]
        self.namespaces.append(
            {"id": NS_ID, "name": "Operations", "isRetired": False, "lifecycleState": "ACTIVE"}
        )

    def list_tag_namespaces(
        self, compartment_id: str, include_subcompartments: bool, limit: int, page: str | None = None
    ) -> Any:
        start = int(page or 0)
        chunk = self.namespaces[start : start + 2]
        more = start + 2 < len(self.namespaces)
        return SimpleNamespace(data=chunk, headers={"opc-next-page": str(start + 2)} if more else {})

    def list_tags(self, tag_namespace_id: str, limit: int, page: str | None = None) -> Any:
        assert tag_namespace_id == NS_ID
        tags = [{"name": "Environment", "isCostTracking": False}, {"name": "Old", "isRetired": True}]
        return SimpleNamespace(data=tags, headers={})

    def get_tag(self, tag_namespace_id: str, tag_name: str) -> Any:
        assert (tag_namespace_id, tag_name) == (NS_ID, "Environment")
        return SimpleNamespace(
            data={"name": "Environment", "validator": {"validatorType": "ENUM", "values": ["a", "b"]}}
        )


def test_plain_dict_answers_are_read_and_paged() -> None:
    reader = Reader(PlainDictIdentity(), "ocid1.tenancy.oc1..aaaaaaaat")
    schema = read_schema(reader, {"operations": {"environment", "old", "missing"}})
    assert reader.operations == ["ListTagNamespaces"] * 3 + ["ListTags", "GetTag"]
    assert schema.key("OPERATIONS", "environment").allowed == ("a", "b")  # type: ignore[union-attr]
    assert schema.key("Operations", "Old").is_retired  # type: ignore[union-attr]
    assert schema.key("Operations", "missing") is None
    assert schema.namespace("ns4") is not None
