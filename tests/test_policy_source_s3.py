"""s3:// policy source against moto's S3 server over HTTP, with real boto3 on both sides."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sync.policy.loader import PolicyError
from sync.sources.remote import S3Source
from sync.sources.select import source_from_env
from tests.clock import Clock

DATA = Path(__file__).parent / "data" / "policies"
GOOD = (DATA / "good.yaml").read_bytes()
GOOD_V2 = (DATA / "good_v2.json").read_bytes()
INVALID = (DATA / "invalid.yaml").read_bytes()
BUNDLED = str(Path(__file__).parent.parent / "tag_policy.yaml")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials where boto3 looks for them; nothing reaches AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)


class Store:
    """A fresh bucket on the moto server, written with a separate boto3 client."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.bucket = f"policies-{uuid.uuid4().hex[:12]}"
        self.key = "team/tag_policy.yaml"
        self.s3 = boto3.client("s3", endpoint_url=url)
        self.s3.create_bucket(Bucket=self.bucket)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def put(self, body: bytes) -> str:
        return str(self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body)["ETag"])

    def delete(self) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.key)


@pytest.fixture
def store(moto_url: str, aws_env: None) -> Store:
    return Store(moto_url)


class Sent:
    """GetObject requests as botocore sends them (its before-send event), one per HTTP request."""

    def __init__(self, source: S3Source) -> None:
        self.headers: list[dict[str, str]] = []
        source.client().meta.events.register("before-send.s3.GetObject", self._record)

    def _record(self, request: Any, **_: Any) -> None:
        self.headers.append(
            {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )

    def __len__(self) -> int:
        return len(self.headers)


def make_source(store: Store, clock: Clock, refresh: float | None = 60) -> tuple[S3Source, Sent]:
    env = {"TAG_POLICY_URI": store.uri, "S3_ENDPOINT_URL": store.url}

    def no_oci() -> Any:
        raise AssertionError("an s3:// source must not build OCI clients")

    source = source_from_env(env, no_oci, BUNDLED, refresh, clock=clock)
    assert isinstance(source, S3Source)
    return source, Sent(source)


def errors(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["level"] == "error"]


def test_first_load_parses_once_and_logs_the_etag(store: Store, logs: Any) -> None:
    etag = store.put(GOOD)
    source, sent = make_source(store, Clock())
    policy = source.load()
    assert [r.name for r in policy.rules] == ["tag-kind"]
    assert policy.origin == store.uri
    assert source.parses == 1
    assert len(sent) == 1 and "if-none-match" not in sent.headers[0]
    loaded = [r for r in logs() if r["message"].startswith("policy loaded")]
    assert loaded[0]["etag"] == etag and loaded[0]["source"] == store.uri


def test_unchanged_object_costs_one_conditional_get_and_no_parse(store: Store, logs: Any) -> None:
    etag = store.put(GOOD)
    clock = Clock()
    source, sent = make_source(store, clock)
    first = source.load()
    clock.advance(60)
    assert source.load() is first
    assert source.parses == 1
    assert len(sent) == 2
    assert sent.headers[1]["if-none-match"] == etag
    unchanged = [r for r in logs() if r.get("status") == 304]
    assert len(unchanged) == 1 and unchanged[0]["s3_request_id"]


def test_changed_object_is_fetched_and_parsed_again(store: Store) -> None:
    store.put(GOOD)
    clock = Clock()
    source, sent = make_source(store, clock)
    source.load()
    new_etag = store.put(GOOD_V2)
    clock.advance(61)
    policy = source.load()
    assert [r.name for r in policy.rules] == ["tag-kind-v2", "tag-type"]
    assert policy.mode == "first"
    assert source.parses == 2
    clock.advance(61)
    assert source.load() is policy
    assert sent.headers[2]["if-none-match"] == new_etag
    assert source.parses == 2


def test_deleted_object_keeps_last_good_and_logs_the_request_id(store: Store, logs: Any) -> None:
    store.put(GOOD)
    clock = Clock()
    source, sent = make_source(store, clock)
    good = source.load()
    store.delete()
    clock.advance(60)
    assert source.load() is good
    [err] = errors(logs())
    assert err["status"] == 404 and err["code"] == "NoSuchKey"
    assert err["s3_request_id"] and err["source"] == store.uri
    assert "keeping the last good policy" in err["message"]
    # Within the interval the failure is not retried.
    clock.advance(30)
    assert source.load() is good and len(sent) == 2
    # Put back under the same name (same bytes, same ETag): fetched in full, not as a 304.
    store.put(GOOD)
    clock.advance(30)
    assert source.load() is not good
    assert "if-none-match" not in sent.headers[2]
    assert source.parses == 2


def test_invalid_new_version_keeps_last_good_and_is_parsed_once(store: Store, logs: Any) -> None:
    store.put(GOOD)
    clock = Clock()
    source, sent = make_source(store, clock)
    good = source.load()
    bad_etag = store.put(INVALID)
    clock.advance(60)
    assert source.load() is good
    [err] = errors(logs())
    assert err["errors"] == [
        "rule 'bad-filter' (rules[0]): display_name: unknown filter 'shout';"
        " known filters: lower, upper, date, default, truncate, slug"
    ]
    assert err["etag"] == bad_etag and err["s3_request_id"]
    assert source.parses == 2
    clock.advance(60)
    assert source.load() is good
    assert sent.headers[2]["if-none-match"] == bad_etag
    assert source.parses == 2 and len(errors(logs())) == 1


def test_invalid_with_no_last_good_raises_the_rule_and_field(store: Store) -> None:
    store.put(INVALID)
    clock = Clock()
    source, sent = make_source(store, clock)
    for _ in range(2):
        with pytest.raises(PolicyError) as info:
            source.load()
        assert info.value.origin == store.uri
        assert "rule 'bad-filter' (rules[0]): display_name: unknown filter 'shout'" in info.value.errors[0]
    assert len(sent) == 1 and source.parses == 1
    clock.advance(60)
    with pytest.raises(PolicyError):
        source.load()
    assert len(sent) == 2 and source.parses == 1
    store.put(GOOD)
    clock.advance(60)
    assert [r.name for r in source.load().rules] == ["tag-kind"]


def test_refresh_interval_is_respected(store: Store) -> None:
    store.put(GOOD)
    clock = Clock()
    source, sent = make_source(store, clock, refresh=None)  # TAG_POLICY_REFRESH_SECONDS unset: 60
    assert source.refresh_seconds == 60
    source.load()
    store.put(GOOD_V2)
    clock.advance(59.9)
    for _ in range(5):
        assert [r.name for r in source.load().rules] == ["tag-kind"]
    assert len(sent) == 1
    clock.advance(0.1)
    assert [r.name for r in source.load().rules] == ["tag-kind-v2", "tag-type"]
    assert len(sent) == 2


def test_zero_refresh_checks_on_every_load(store: Store) -> None:
    store.put(GOOD)
    source, sent = make_source(store, Clock(), refresh=0)
    for _ in range(3):
        source.load()
    assert len(sent) == 3 and source.parses == 1


def test_missing_object_with_no_last_good_raises_and_retries_next_load(store: Store) -> None:
    source, sent = make_source(store, Clock())
    for _ in range(2):
        with pytest.raises(PolicyError) as info:
            source.load()
        assert "404 NoSuchKey" in info.value.errors[0]
    assert len(sent) == 2  # nothing to serve, so nothing to wait for
    store.put(GOOD)
    assert source.load().rules[0].name == "tag-kind"


def test_concurrent_first_loads_make_one_request(store: Store) -> None:
    store.put(GOOD)
    source, sent = make_source(store, Clock())
    barrier = threading.Barrier(8)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(source.load())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert len(sent) == 1 and source.parses == 1


def test_credentials_and_region_come_from_the_env_mapping(moto_url: str, monkeypatch: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    setup = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    store = Store(moto_url)
    store.put(GOOD)
    for name in setup:
        monkeypatch.delenv(name)
    env = {
        "TAG_POLICY_URI": store.uri,
        "S3_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "from-mapping",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-frankfurt-1",
    }
    source = source_from_env(env, lambda: pytest.fail("no OCI"), BUNDLED)
    assert isinstance(source, S3Source)
    sent = Sent(source)
    assert source.load().rules[0].name == "tag-kind"
    assert source.client().meta.region_name == "eu-frankfurt-1"
    assert "Credential=from-mapping/" in sent.headers[0]["authorization"]
    assert "/eu-frankfurt-1/s3/" in sent.headers[0]["authorization"]
