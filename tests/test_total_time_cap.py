"""Every OCI call has a total time cap, reads included: answers that drip end at the deadline (real FDK)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from sync.cloud.retry import Deadline
from sync.cloud.transport import bounded
from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from sync.policy.loader import PolicyError
from sync.sources.remote import S3Source
from tests.test_deadline import warm
from tests.test_function import CREATE_EVENT, function_env
from tests.test_function_metrics import metrics_env

# One body byte every DRIP seconds: no read ever waits long enough for a read timeout to trip.
DRIP = 0.5
# The whole answer would take minutes; a test waiting this long for it has already failed.
GIVE_UP = 30.0


def test_a_dripping_block_storage_answer_ends_before_fn_deadline(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    with FdkProcess(function_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        emulator.faults.update({"drip_seconds": DRIP, "drip_operations": ["GetVolumeGroupBackup"]})
        start = time.monotonic()
        reply = fn.call(CREATE_EVENT, deadline_seconds=4, timeout=GIVE_UP)
        elapsed = time.monotonic() - start
    # Generous: the function stops 2 s before Fn-Deadline; without a total cap it took minutes.
    assert elapsed < 10.0
    assert reply.status == 502  # transient: the platform may deliver the event again
    answer = reply.json()
    assert answer["status"] == "failed" and "no answer in time" in answer["error"]
    assert [r.fault for r in emulator.backend.log.requests("GetVolumeGroupBackup")] == ["drip"]
    assert emulator.backend.log.count("UpdateVolumeGroupBackup") == 0


def test_a_dripping_monitoring_answer_holds_the_answer_one_second_at_most(
    emulator: EmulatorServer, api_key: ApiKey
) -> None:
    with FdkProcess(metrics_env(emulator, api_key)) as fn:
        warm(fn, emulator)
        baseline = time.monotonic()
        assert fn.call(CREATE_EVENT, timeout=GIVE_UP).json()["status"] == "updated"
        quick = time.monotonic() - baseline
        emulator.faults.update({"drip_seconds": DRIP, "drip_operations": ["PostMetricData"]})
        start = time.monotonic()
        reply = fn.call(CREATE_EVENT, timeout=GIVE_UP)
        elapsed = time.monotonic() - start
        lines = fn.log_lines()
    assert reply.status == 200 and reply.json()["status"] == "unchanged"
    # The post's budget is 1 s in total; its ~40-byte answer dripped would take ~20 s.
    assert elapsed < quick + 1.0 + 3.0
    failed = [e for e in lines if e.get("message", "").startswith("PostMetricData failed")]
    assert len(failed) == 1 and "no answer in time" in failed[0]["error"]


class DrippingServer:
    """Any request: 200 with headers at once, then the body one byte every DRIP seconds (a hostile peer)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopping = threading.Event()
        self.served = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        body = b"version: 1\nrules: []\n" + b"#" * 40  # 60 bytes: 30 s dripped
        with conn:
            try:
                conn.recv(65536)
                self.served += 1
                head = f'HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nETag: "x"\r\n\r\n'
                conn.sendall(head.encode())
                for i in range(len(body)):
                    conn.sendall(body[i : i + 1])
                    if self.stopping.wait(DRIP):
                        return
            except OSError:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    server = DrippingServer()
    yield server
    server.stop()


def test_a_dripping_s3_policy_source_ends_by_the_callers_deadline(dripping: DrippingServer) -> None:
    env = {
        "S3_ENDPOINT_URL": dripping.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    source = S3Source("policies", "tag_policy.yaml", env)
    start = time.monotonic()
    with bounded(Deadline.after(2.0).remaining), pytest.raises(PolicyError) as info:
        source.load()
    elapsed = time.monotonic() - start
    assert dripping.served == 1
    assert elapsed < 8.0  # 2 s asked; botocore's 20 s read timeout never trips on a drip (30 s)
    assert "could not be read" in str(info.value) or "timed out" in str(info.value).lower()
