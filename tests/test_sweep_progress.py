"""A backup still CREATING neither holds a sweep nor makes its continuation chain loop (real FDK)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from sync.emulator import ApiKey, EmulatorServer
from sync.emulator.functions import forward_to_unix_socket
from sync.function.fnrunner import FdkProcess
from tests.test_function_schedule import FUNCTION_ID, env_for
from tests.test_sweep import COMP, OTHER, SEED, backup_id, populate, vg_id

CREATING = backup_id(COMP, 999)


@pytest.fixture
def server(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    # creating_seconds=None: a CREATING backup stays CREATING (and a PUT on it gets 409).
    server = make_emulator(seed=SEED, creating_seconds=None)
    populate(server.backend, 10, groups=2)
    server.backend.blockstorage.add_volume_group_backup(
        {
            "id": CREATING,
            "compartmentId": COMP,
            "volumeGroupId": vg_id(0),
            "displayName": "being-made",
            "type": "FULL",
            "sourceType": "SCHEDULED",
            "lifecycleState": "CREATING",
            "timeCreated": "2026-11-20T10:00:00Z",
            "freeformTags": {},
        }
    )
    return server


def chain(server: EmulatorServer, key: ApiKey, sweep: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """One scheduled sweep (8 s deadline: 4 s of sweeping) and the answers of the links it started; plus its log lines."""
    env = env_for(
        server, key, FUNCTION_ID=FUNCTION_ID, FUNCTION_INVOKE_ENDPOINT=server.url, SWEEP_MAX_CONTINUATIONS="4"
    )
    with FdkProcess(env) as fn:
        server.backend.functions.register_function(FUNCTION_ID, forward_to_unix_socket(fn.socket_path), 8.0)
        assert fn.call({"sweep": {"compartmentId": OTHER}}).json()["status"] == "swept"  # warm
        server.backend.log.reset()
        first = fn.call({"sweep": {"compartmentId": COMP, **sweep}}, deadline_seconds=8.0).json()
        assert server.backend.functions.wait_for_detached(timeout=120)
        links = [
            json.loads(i.forward_body or "{}") for i in server.backend.functions.invocations(FUNCTION_ID)
        ]
        logs = fn.log_lines()
    return first, [*links, logs]


def test_a_creating_backup_is_deferred_and_the_sweep_ends_in_one_invocation(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    first, rest = chain(server, api_key, {})
    assert len(rest) == 1, (first, rest[:-1])
    logs = rest[0]
    assert first["status"] == "swept", first
    assert first["counts"] == {"deferred": 1, "updated": 5, "unchanged": 5}
    assert "continuedAs" not in first and server.backend.log.count("InvokeFunction") == 0
    puts = [r.path for r in server.backend.log.requests("UpdateVolumeGroupBackup")]
    assert len(puts) == 5 and not any(p.endswith(CREATING) for p in puts)  # no PUT, no 409 retried
    assert server.backend.blockstorage.get_volume_group_backup(CREATING)[0]["lifecycleState"] == "CREATING"
    assert not [e for e in logs if e.get("level") == "error"]


def test_a_link_that_made_no_progress_ends_the_chain_and_says_why(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    # availableOnly false: the CREATING backup is tried, its 409 retried until the link's deadline.
    first, rest = chain(server, api_key, {"availableOnly": False})
    *links, logs = rest
    assert first["status"] == "partial" and first["continuation"] == 1, first
    # The second link resumed where the first stopped, met the same backup and updated nothing.
    assert len(links) == 1 and server.backend.log.count("InvokeFunction") == 1
    (last,) = links
    assert last["status"] == "partial" and "no progress" in last["continuationStopped"]
    assert "continuedAs" not in last
    stopped = [e for e in logs if "without progress" in str(e.get("message"))]
    assert len(stopped) == 1 and json.loads(stopped[0]["resume_body"])["sweep"]["availableOnly"] is False


def test_a_continuation_invoke_without_an_answer_is_outcome_unknown_not_resume_advice(
    server: EmulatorServer, api_key: ApiKey
) -> None:
    # The invoke reaches the Functions service, which starts the link only after 3 s: longer than
    # the invoke may wait (2 s at most), so the caller sees a read timeout on a request that ran.
    server.faults.update({"slow_rate": 1.0, "slow_seconds": 3.0, "operations": ["InvokeFunction"]})
    env = env_for(server, api_key, FUNCTION_ID=FUNCTION_ID, FUNCTION_INVOKE_ENDPOINT=server.url)
    with FdkProcess(env) as fn:
        server.backend.functions.register_function(FUNCTION_ID, forward_to_unix_socket(fn.socket_path), 8.0)
        assert fn.call({"sweep": {"compartmentId": OTHER}}).json()["status"] == "swept"  # warm
        sweep = {"compartmentId": COMP, "availableOnly": False}  # the CREATING backup holds it up
        first = fn.call({"sweep": sweep}, deadline_seconds=8.0).json()
        until = time.monotonic() + 30
        while not server.backend.functions.invocations(FUNCTION_ID) and time.monotonic() < until:
            time.sleep(0.1)
        assert server.backend.functions.wait_for_detached(timeout=120)
        logs = fn.log_lines()
    assert first["status"] == "partial" and "continuedAs" not in first
    assert (
        "outcome unknown" in first["continuationError"] and "may have started" in first["continuationError"]
    )
    (line,) = [e for e in logs if str(e.get("message", "")).startswith("InvokeFunction outcome unknown")]
    assert line["level"] == "error" and line["outcome"] == "unknown" and line["continuation"] == 1
    assert not [e for e in logs if "resume it from resumeToken" in str(e.get("message"))]
    # It did run: the link the caller could not confirm.
    (link,) = server.backend.functions.invocations(FUNCTION_ID)
    assert json.loads(link.body)["sweep"]["continuation"] == 1
