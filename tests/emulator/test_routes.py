"""The emulator's routing table: path templates, url-decoded parameters, unknown routes."""

from __future__ import annotations

from sync.emulator.routes import BY_OPERATION, ROUTES, route
from sync.emulator.wire import Reply, Request, Route


def test_templates_match_one_segment_or_the_rest_of_the_path() -> None:
    assert route("GET", "/20160918/volumeGroupBackups/ocid1.vgb%3Ax") == (
        "GetVolumeGroupBackup",
        ["ocid1.vgb:x"],
    )
    assert route("PUT", "/20160918/volumeGroupBackups/b1") == ("UpdateVolumeGroupBackup", ["b1"])
    assert route("GET", "/20160918/volumeGroupBackups") == ("ListVolumeGroupBackups", [])
    assert route("GET", "/20160918/volumeGroupBackups/b1/extra") == ("Unknown", [])
    assert route("HEAD", "/n/ns/b/bkt/o/dir/sub%20x.yaml") == ("HeadObject", ["ns", "bkt", "dir/sub x.yaml"])


def test_method_must_match_and_unknown_paths_route_nowhere() -> None:
    assert route("DELETE", "/20160918/volumeGroupBackups/b1") == ("Unknown", [])
    assert route("GET", "/20160918/compartmentsX") == ("Unknown", [])
    assert route("GET", "/other/20160918/compartments") == ("Unknown", [])


def test_operation_names_are_unique_so_faults_and_logs_name_one_route() -> None:
    assert len(BY_OPERATION) == len(ROUTES)


def test_template_characters_are_literal_outside_placeholders() -> None:
    def handler(backend: object, req: Request) -> Reply:
        return Reply(200)

    r = Route("POST", "/20181201/functions/{id}/actions/invoke", "InvokeFunction", handler)
    assert r.match("POST", "/20181201/functions/f1/actions/invoke") is not None
    assert r.match("POST", "/20181201/functions/f1/actionsXinvoke") is None
    assert r.match("GET", "/20181201/functions/f1/actions/invoke") is None
    dotted = Route("GET", "/a.b/{x}", "Dotted", handler)
    assert dotted.match("GET", "/aXb/1") is None


def test_the_readme_documents_every_route_fault_and_switch() -> None:
    import re
    from pathlib import Path

    from sync.emulator.cli import build_parser
    from sync.emulator.faults import FAULT_FIELDS

    text = (Path(__file__).resolve().parents[2] / "sync" / "emulator" / "README.md").read_text(
        encoding="utf-8"
    )

    def norm(path: str) -> str:  # placeholders and API versions compare as one
        return re.sub(r"^/\d{8}/", "/{}/", re.sub(r"\{[^}]*\}", "{}", path))

    documented = {norm(p) for p in re.findall(r"`(/[^`?]*)", text)}
    assert [r.path for r in ROUTES if norm(r.path) not in documented] == []
    assert [f for f in FAULT_FIELDS if f"`{f}`" not in text] == []
    options = [o for a in build_parser()._actions for o in a.option_strings if o.startswith("--")]
    assert [o for o in options if o not in text and o != "--help"] == []
