"""oci:// policy source through the real SDK against the project's emulator (signatures checked)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sync.cloud.clients import Clients, OciSettings
from sync.emulator import ApiKey, EmulatorServer, generate_api_key
from sync.policy.loader import PolicyError
from sync.sources.remote import ObjectStorageSource
from sync.sources.select import load_policy_from, source_from_env, source_from_uri
from tests.clock import Clock

DATA = Path(__file__).parent / "data" / "policies"
GOOD = (DATA / "good.yaml").read_bytes()
GOOD_V2 = (DATA / "good_v2.json").read_bytes()
INVALID = (DATA / "invalid.yaml").read_bytes()
BUNDLED = str(Path(__file__).parent.parent / "tag_policy.yaml")

NAMESPACE, BUCKET, NAME = "examplens", "tag-policies", "teams/storage/policy.yaml"
URI = f"oci://{BUCKET}@{NAMESPACE}/{NAME}"


@pytest.fixture
def env(emulator: EmulatorServer, api_key: ApiKey) -> dict[str, str]:
    return {
        "TAG_POLICY_URI": URI,
        "OCI_AUTH": "config_file",
        "OCI_CONFIG_FILE": str(api_key.config_path),
        "OCI_OBJECTSTORAGE_ENDPOINT": emulator.url,
    }


class Harness:
    def __init__(self, emulator: EmulatorServer, env: dict[str, str], clock: Clock) -> None:
        self.emulator = emulator
        self.clock = clock
        self.built = 0

        def factory() -> Clients:
            self.built += 1
            return Clients(OciSettings.from_env(env))

        source = source_from_env(env, factory, BUNDLED, 60, clock=clock)
        assert isinstance(source, ObjectStorageSource)
        self.source = source

    def put(self, body: bytes) -> str:
        return self.emulator.backend.objectstorage.put_object(
            NAMESPACE, BUCKET, NAME, body, "application/x-yaml"
        ).etag

    def delete(self) -> None:
        self.emulator.backend.objectstorage.delete_object(NAMESPACE, BUCKET, NAME)

    def gets(self, status: int | None = None) -> list[Any]:
        return [
            r for r in self.emulator.backend.log.requests("GetObject") if status is None or r.status == status
        ]


@pytest.fixture
def h(emulator: EmulatorServer, env: dict[str, str]) -> Harness:
    return Harness(emulator, env, Clock())


def errors(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["level"] == "error"]


def test_first_load_goes_through_the_sdk(h: Harness, logs: Any) -> None:
    etag = h.put(GOOD)
    policy = h.source.load()
    assert [r.name for r in policy.rules] == ["tag-kind"]
    assert policy.origin == URI
    assert h.source.parses == 1
    [get] = h.gets()
    assert get.status == 200
    assert get.path.startswith(f"/n/{NAMESPACE}/b/{BUCKET}/o/")
    loaded = [r for r in logs() if r["message"].startswith("policy loaded")]
    assert loaded[0]["etag"] == etag


def test_unchanged_object_is_a_304_and_no_parse(h: Harness, logs: Any) -> None:
    h.put(GOOD)
    first = h.source.load()
    h.clock.advance(60)
    assert h.source.load() is first
    h.clock.advance(60)
    assert h.source.load() is first
    assert h.source.parses == 1
    # The emulator answers 304 only when if-none-match carried the current ETag.
    assert [g.status for g in h.gets()] == [200, 304, 304]
    unchanged = [r for r in logs() if r.get("status") == 304]
    assert [r["opc_request_id"] for r in unchanged] == [g.opc_request_id for g in h.gets(304)]
    assert h.built == 1  # the Clients are built once, not per request


def test_changed_object_is_parsed_again(h: Harness) -> None:
    h.put(GOOD)
    h.source.load()
    h.put(GOOD_V2)
    h.clock.advance(60)
    policy = h.source.load()
    assert [r.name for r in policy.rules] == ["tag-kind-v2", "tag-type"]
    assert h.source.parses == 2
    h.clock.advance(60)
    assert h.source.load() is policy
    assert [g.status for g in h.gets()] == [200, 200, 304]


def test_deleted_object_keeps_last_good_and_logs_opc_request_id(h: Harness, logs: Any) -> None:
    h.put(GOOD)
    good = h.source.load()
    h.delete()
    h.clock.advance(60)
    assert h.source.load() is good
    [err] = errors(logs())
    [missing] = h.gets(404)
    assert err["status"] == 404 and err["code"] == "ObjectNotFound"
    assert err["operation"] == "GetObject" and err["source"] == URI
    assert err["opc_request_id"] == missing.opc_request_id
    assert "was not found" in err["error_message"]
    h.put(GOOD)
    h.clock.advance(60)
    assert h.source.load() is not good
    assert [g.status for g in h.gets()] == [200, 404, 200]


def test_invalid_new_version_keeps_last_good(h: Harness, logs: Any) -> None:
    h.put(GOOD)
    good = h.source.load()
    bad_etag = h.put(INVALID)
    h.clock.advance(60)
    assert h.source.load() is good
    [err] = errors(logs())
    assert err["etag"] == bad_etag
    assert err["opc_request_id"] == h.gets()[-1].opc_request_id
    assert "rule 'bad-filter' (rules[0]): display_name: unknown filter 'shout'" in err["errors"][0]
    h.clock.advance(60)
    assert h.source.load() is good
    assert h.source.parses == 2  # the bad version was parsed once
    assert [g.status for g in h.gets()] == [200, 200, 304]


def test_invalid_with_no_last_good_raises_policy_error(h: Harness) -> None:
    h.put(INVALID)
    with pytest.raises(PolicyError) as info:
        h.source.load()
    assert info.value.origin == URI
    assert info.value.errors[0].startswith("rule 'bad-filter' (rules[0]): display_name: unknown filter")
    with pytest.raises(PolicyError):
        h.source.load()
    assert len(h.gets()) == 1 and h.source.parses == 1


def test_refresh_interval_is_respected(h: Harness) -> None:
    h.put(GOOD)
    h.source.load()
    h.put(GOOD_V2)
    h.clock.advance(59.5)
    assert h.source.load().rules[0].name == "tag-kind"
    assert len(h.gets()) == 1
    h.clock.advance(0.5)
    assert h.source.load().rules[0].name == "tag-kind-v2"
    assert len(h.gets()) == 2


def test_service_error_keeps_last_good_and_waits_for_the_next_interval(h: Harness, logs: Any) -> None:
    h.put(GOOD)
    good = h.source.load()
    h.emulator.faults.update({"error_rate": 1.0, "error_mix": {503: 1.0}, "operations": ["GetObject"]})
    h.clock.advance(60)
    assert h.source.load() is good
    [err] = errors(logs())
    assert err["status"] == 503 and err["code"] == "ServiceUnavailable"
    assert err["opc_request_id"] == h.gets(503)[0].opc_request_id
    h.clock.advance(30)
    assert h.source.load() is good
    assert len(h.gets()) == 2


def test_service_error_with_no_last_good_raises(h: Harness) -> None:
    h.put(GOOD)
    h.emulator.faults.update({"error_rate": 1.0, "error_mix": {500: 1.0}, "operations": ["GetObject"]})
    with pytest.raises(PolicyError) as info:
        h.source.load()
    assert "GetObject returned 500 InternalServerError" in info.value.errors[0]
    assert h.gets(500)[0].opc_request_id in info.value.errors[0]
    h.emulator.faults.reset()
    assert h.source.load().rules[0].name == "tag-kind"  # retried at once: nothing to serve meanwhile


def test_unregistered_key_is_a_401_policy_error(emulator: EmulatorServer, tmp_path: Path) -> None:
    stranger = generate_api_key(tmp_path)
    env = {"OCI_AUTH": "config_file", "OCI_CONFIG_FILE": str(stranger.config_path)}
    env["OCI_OBJECTSTORAGE_ENDPOINT"] = emulator.url
    with pytest.raises(PolicyError) as info:
        load_policy_from(f"oci://{BUCKET}@{NAMESPACE}/tag_policy.yaml", env)
    assert "401 NotAuthenticated" in info.value.errors[0]


def test_auth_setup_failure_is_a_policy_error(emulator: EmulatorServer, tmp_path: Path) -> None:
    env = {"OCI_AUTH": "config_file", "OCI_CONFIG_FILE": str(tmp_path / "missing")}
    env["OCI_OBJECTSTORAGE_ENDPOINT"] = emulator.url
    source = source_from_uri(URI, env)
    with pytest.raises(PolicyError) as info:
        source.load()
    assert "config_file authentication failed" in info.value.errors[0]


def test_load_policy_from_reads_the_seeded_object(env: dict[str, str]) -> None:
    policy = load_policy_from(f"oci://{BUCKET}@{NAMESPACE}/tag_policy.yaml", env)
    assert [r.name for r in policy.rules] == ["scheduled-prod"]


def test_concurrent_first_loads_share_one_request(h: Harness) -> None:
    h.put(GOOD)
    barrier = threading.Barrier(6)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(h.source.load())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(h.gets()) == 1 and h.source.parses == 1
    assert all(r is results[0] for r in results)


def test_other_threads_get_last_good_while_one_refreshes(h: Harness) -> None:
    h.put(GOOD)
    good = h.source.load()
    h.put(GOOD_V2)
    h.emulator.faults.update({"slow_rate": 1.0, "slow_seconds": 0.3, "operations": ["GetObject"]})
    h.clock.advance(60)
    refreshed: list[object] = []
    refresher = threading.Thread(target=lambda: refreshed.append(h.source.load()))
    refresher.start()
    while not h.source._lock.locked() and refresher.is_alive():
        pass
    started = time.monotonic()
    assert h.source.load() is good  # did not wait for the slow GET
    assert time.monotonic() - started < 0.2
    refresher.join()
    assert refreshed[0] is not good and refreshed[0] is h.source.load()
    assert len(h.gets()) == 2


def test_unchanged_object_is_parsed_once_under_its_uri(emulator: EmulatorServer, env: dict[str, str]) -> None:
    emulator.backend.objectstorage.put_object(NAMESPACE, BUCKET, NAME, GOOD)
    clock = Clock()
    source = source_from_env(env, lambda: Clients(OciSettings.from_env(env)), BUNDLED, 60, clock=clock)
    first = source.load()
    clock.advance(60)
    assert source.load() is first  # 304: nothing parsed again
    assert source.parses == 1 and first.origin == URI


# ---- loading bounded by the caller's deadline (the function passes its invocation's) ----


def no_time_left() -> float:
    return 0.0


def test_a_load_out_of_time_is_not_cached_the_next_load_reads_it_again(h: Harness, logs: Any) -> None:
    from sync.policy.errors import PolicyTimeout

    h.put(GOOD)
    with pytest.raises(PolicyTimeout):
        h.source.load(time_left=no_time_left)
    # Not a verdict: no 304 may stand for the version that was never parsed, no error is kept.
    policy = h.source.load()
    assert [r.name for r in policy.rules] == ["tag-kind"]
    assert [g.status for g in h.gets()] == [200, 200] and h.source.parses == 2
    assert errors(logs()) == []  # out of time is not "invalid"
    assert any("stopped at the caller's deadline" in r["message"] for r in logs() if r["level"] == "warning")


def test_a_new_version_out_of_time_serves_the_last_good_one_then_adopts_it(h: Harness) -> None:
    h.put(GOOD)
    good = h.source.load()
    h.put(GOOD_V2)
    h.clock.advance(60)
    assert h.source.load(time_left=no_time_left) is good
    newer = h.source.load()  # read again at once, not after the refresh interval
    assert [r.name for r in newer.rules] == ["tag-kind-v2", "tag-type"]
    assert [g.status for g in h.gets()] == [200, 200, 200]
