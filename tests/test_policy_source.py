"""Policy sources without a network: inline, files, precedence, URI parsing, configuration errors."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.policy.loader import PolicyError
from sync.sources.base import ErrorSource, FileSource, InlineSource
from sync.sources.remote import BOTO3_PIN, ObjectStorageSource, S3Source
from sync.sources.select import load_policy_from, refresh_seconds_from_env, source_from_env, source_from_uri

DATA = Path(__file__).parent / "data" / "policies"
REPO = Path(__file__).parent.parent
BUNDLED = str(REPO / "tag_policy.yaml")
GOOD_TEXT = (DATA / "good.yaml").read_text()
GOOD_V2_TEXT = (DATA / "good_v2.json").read_text()
INVALID_TEXT = (DATA / "invalid.yaml").read_text()
BAD_FILTER = "rule 'bad-filter' (rules[0]): display_name: unknown filter 'shout'"


def no_oci() -> Any:
    raise AssertionError("this source must not build OCI clients")


def at(records: list[dict[str, Any]], level: str) -> list[dict[str, Any]]:
    return [r for r in records if r["level"] == level]


# ---- inline -------------------------------------------------------------------------------


def test_inline_yaml_is_parsed_once() -> None:
    source = source_from_env({"TAG_POLICY": GOOD_TEXT}, no_oci, BUNDLED)
    assert isinstance(source, InlineSource)
    first = source.load()
    assert [r.name for r in first.rules] == ["tag-kind"]
    assert first.origin == "TAG_POLICY"
    for _ in range(5):
        assert source.load() is first
    assert source.parses == 1


def test_inline_json_is_accepted() -> None:
    policy = source_from_env({"TAG_POLICY": GOOD_V2_TEXT}, no_oci, BUNDLED).load()
    assert [r.name for r in policy.rules] == ["tag-kind-v2", "tag-type"]


def test_invalid_inline_raises_every_time_parses_once_logs_once(logs: Any) -> None:
    source = source_from_env({"TAG_POLICY": INVALID_TEXT}, no_oci, BUNDLED)
    for _ in range(3):
        with pytest.raises(PolicyError) as info:
            source.load()
        assert info.value.origin == "TAG_POLICY"
        assert info.value.errors[0].startswith(BAD_FILTER)
    assert source.parses == 1
    [err] = at(logs(), "error")
    assert err["source"] == "TAG_POLICY" and err["errors"][0].startswith(BAD_FILTER)


def test_inline_policy_is_parsed_once_under_its_origin() -> None:
    source = source_from_env({"TAG_POLICY": GOOD_TEXT}, no_oci, BUNDLED)
    first = source.load()
    assert source.load() is first
    assert source.parses == 1 and first.origin == "TAG_POLICY"


# ---- files --------------------------------------------------------------------------------


def test_bundled_file_is_the_default() -> None:
    source = source_from_env({}, no_oci, BUNDLED)
    assert isinstance(source, FileSource)
    policy = source.load()
    assert policy.origin == BUNDLED
    assert [r.name for r in policy.rules] == [
        "rename-scheduled",
        "provenance",
        "volume-backups",
        "boot-volume-backups",
    ]


def _write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_file_is_reread_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, GOOD_TEXT, 1_700_000_000_000_000_000)
    source = source_from_env({}, no_oci, str(path))
    first = source.load()
    assert source.load() is first and source.parses == 1
    _write(path, GOOD_V2_TEXT, 1_700_000_001_000_000_000)
    second = source.load()
    assert [r.name for r in second.rules] == ["tag-kind-v2", "tag-type"]
    assert source.load() is second and source.parses == 2


def test_invalid_or_deleted_file_keeps_last_good(tmp_path: Path, logs: Any) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, GOOD_TEXT, 1_700_000_000_000_000_000)
    source = FileSource(str(path))
    good = source.load()
    _write(path, INVALID_TEXT, 1_700_000_002_000_000_000)
    assert source.load() is good
    assert source.load() is good
    assert source.parses == 2  # the invalid version was parsed once
    path.unlink()
    assert source.load() is good
    assert source.load() is good
    first, second = at(logs(), "error")
    assert first["errors"][0].startswith(BAD_FILTER)
    assert "No such file or directory" in second["message"]
    assert "keeping the last good policy" in second["message"]
    _write(path, GOOD_V2_TEXT, 1_700_000_003_000_000_000)
    assert source.load().rules[0].name == "tag-kind-v2"


def test_missing_file_with_no_last_good_raises(tmp_path: Path) -> None:
    source = FileSource(str(tmp_path / "nope.yaml"))
    with pytest.raises(PolicyError) as info:
        source.load()
    assert info.value.errors == ["cannot read policy file: No such file or directory"]
    assert info.value.origin == str(tmp_path / "nope.yaml")


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (1024 * 1024) + "\n" + GOOD_TEXT)
    source = FileSource(str(path))
    with pytest.raises(PolicyError, match="larger than the 1 MiB limit"):
        source.load()
    assert source.parses == 0


def test_file_uri_forms(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD_TEXT)
    for uri in (f"file://{path}", f"file://localhost{path}"):
        source = source_from_uri(uri, {})
        assert isinstance(source, FileSource) and source.path == str(path)
        assert source.load().origin == uri


def test_relative_uri_path_is_taken_beside_the_bundled_file(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    shutil.copy(DATA / "good_v2.json", tmp_path / "policies" / "prod.json")
    env = {"TAG_POLICY_URI": "policies/prod.json"}
    source = source_from_env(env, no_oci, str(tmp_path / "tag_policy.yaml"))
    assert isinstance(source, FileSource)
    assert source.path == str(tmp_path / "policies" / "prod.json")
    assert source.load().rules[0].name == "tag-kind-v2"


# ---- precedence ---------------------------------------------------------------------------


def test_inline_wins_over_uri_and_the_ignored_one_is_named(logs: Any) -> None:
    env = {"TAG_POLICY": GOOD_TEXT, "TAG_POLICY_URI": "oci://b@ns/policy.yaml"}
    source = source_from_env(env, no_oci, BUNDLED)
    assert isinstance(source, InlineSource)
    assert source.load().rules[0].name == "tag-kind"
    [warning] = at(logs(), "warning")
    assert warning["ignored"] == "TAG_POLICY_URI"
    assert warning["ignored_value"] == "oci://b@ns/policy.yaml"
    assert "ignoring TAG_POLICY_URI" in warning["message"]


def test_uri_wins_over_the_bundled_file(logs: Any) -> None:
    env = {"TAG_POLICY_URI": f"file://{DATA / 'good.yaml'}"}
    source = source_from_env(env, no_oci, BUNDLED)
    assert source.load().rules[0].name == "tag-kind"
    assert at(logs(), "warning") == []


def test_blank_settings_count_as_unset() -> None:
    source = source_from_env({"TAG_POLICY": "  \n", "TAG_POLICY_URI": " "}, no_oci, BUNDLED)
    assert isinstance(source, FileSource) and source.path == BUNDLED


@pytest.mark.parametrize(
    ("uri", "kind", "parts"),
    [
        (
            "oci://tag-policies@examplens/a/b/policy.yaml",
            ObjectStorageSource,
            ("examplens", "tag-policies", "a/b/policy.yaml"),
        ),
        ("  oci://b@ns/p%20q.yaml ", ObjectStorageSource, ("ns", "b", "p%20q.yaml")),
        ("s3://my-bucket/dir/policy.json", S3Source, ("my-bucket", "dir/policy.json")),
    ],
)
def test_remote_uris(uri: str, kind: type, parts: tuple[str, ...]) -> None:
    source = source_from_uri(uri, {}, no_oci)
    assert isinstance(source, kind)
    if isinstance(source, ObjectStorageSource):
        assert (source.namespace, source.bucket, source.name) == parts
    else:
        assert isinstance(source, S3Source)
        assert (source.bucket, source.key) == parts
    assert source.origin == uri.strip()


@pytest.mark.parametrize(
    "uri",
    [
        "oci://bucket/object",
        "oci://bucket@/object",
        "oci://@ns/object",
        "oci://bucket@ns/",
        "oci://bucket@ns",
        "s3://bucket",
        "s3:///key",
        "file:relative.yaml",
        "file://host/etc/policy.yaml",
        "https://example.com/policy.yaml",
        "",
    ],
)
def test_malformed_uris_are_policy_errors(uri: str) -> None:
    with pytest.raises(PolicyError, match="not a policy location; use file:///abs/path, oci://"):
        source_from_uri(uri, {}, no_oci)


def test_malformed_uri_in_env_rejects_every_load(logs: Any) -> None:
    source = source_from_env({"TAG_POLICY_URI": "oci://no-namespace/p.yaml"}, no_oci, BUNDLED)
    assert isinstance(source, ErrorSource)
    for _ in range(2):
        with pytest.raises(PolicyError) as info:
            source.load()
        assert info.value.origin == "oci://no-namespace/p.yaml"
    assert len(at(logs(), "error")) == 1


def test_refresh_seconds_setting() -> None:
    uri = "s3://bucket/key"
    assert refresh_seconds_from_env({}) == 60
    assert refresh_seconds_from_env({"TAG_POLICY_REFRESH_SECONDS": "0"}) == 0
    source = source_from_env({"TAG_POLICY_URI": uri, "TAG_POLICY_REFRESH_SECONDS": "5"}, no_oci, BUNDLED)
    assert isinstance(source, S3Source) and source.refresh_seconds == 5
    override = source_from_env({"TAG_POLICY_URI": uri, "TAG_POLICY_REFRESH_SECONDS": "5"}, no_oci, BUNDLED, 9)
    assert isinstance(override, S3Source) and override.refresh_seconds == 9
    for bad in ("-1", "soon", "inf", "nan"):
        broken = source_from_env({"TAG_POLICY_URI": uri, "TAG_POLICY_REFRESH_SECONDS": bad}, no_oci, BUNDLED)
        with pytest.raises(PolicyError, match="TAG_POLICY_REFRESH_SECONDS"):
            broken.load()


def test_missing_boto3_says_how_to_add_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what `import boto3` sees when it is not installed
    source = source_from_uri("s3://bucket/policy.yaml", {})
    with pytest.raises(PolicyError) as info:
        source.load()
    message = info.value.errors[0]
    assert BOTO3_PIN == "boto3==1.44.5"
    assert f"add `{BOTO3_PIN}` to requirements.txt before `fn deploy`" in message
    assert "backup-tag-sync[s3]" in message


def test_pinned_boto3_matches_the_projects_extra() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f's3 = ["{BOTO3_PIN}"]' in pyproject


# ---- command line helper ------------------------------------------------------------------


def test_load_policy_from_path_and_file_uri() -> None:
    path = str(DATA / "good.yaml")
    assert load_policy_from(path, {}).rules[0].name == "tag-kind"
    assert load_policy_from(f"file://{path}", {}).origin == f"file://{path}"


def test_load_policy_from_reports_validation_errors() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_from(str(DATA / "invalid.yaml"), {})
    assert info.value.errors[0].startswith(BAD_FILTER)


def _no_time_left() -> float:
    return 0.0


@pytest.mark.parametrize("where", ["inline", "file"])
def test_a_load_out_of_time_is_not_cached(tmp_path: Path, where: str) -> None:
    from sync.policy.errors import PolicyTimeout

    path = tmp_path / "policy.yaml"
    path.write_text(GOOD_TEXT)
    env = {"TAG_POLICY": GOOD_TEXT} if where == "inline" else {"TAG_POLICY_URI": str(path)}
    source = source_from_env(env, no_oci, BUNDLED)
    for _ in range(2):
        with pytest.raises(PolicyTimeout):
            source.load(time_left=_no_time_left)
    policy = source.load()  # parsed again: the timeouts were no verdict
    assert policy.rules and source.parses == 3
    assert source.load(time_left=_no_time_left) is policy  # a loaded policy needs no time
