"""Answers that are not what OCI sends (an HTML page with 200) and option values that are not numbers."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sync.emulator import ApiKey, EmulatorServer
from sync.function.fnrunner import FdkProcess
from tests.test_function import CREATE_EVENT, function_env
from tests.test_sweep import COMP

ROOT = Path(__file__).resolve().parents[1]
PAGE = b"<!DOCTYPE html><html><body>Please sign in to the network</body></html>"


class _Portal(BaseHTTPRequestHandler):
    """Every request: 200 text/html, as a captive portal or a misrouted proxy answers."""

    def _page(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = do_PUT = _page

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    server.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def not_json_warnings(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in lines if e.get("level") == "warning" and "not JSON" in str(e.get("message"))]


def test_a_monitoring_html_page_is_warned_once_not_taken_for_a_post(
    emulator: EmulatorServer, api_key: ApiKey, portal: str
) -> None:
    env = function_env(
        emulator,
        api_key,
        METRICS_COMPARTMENT_ID="ocid1.compartment.oc1..aaaametrics",
        OCI_MONITORING_ENDPOINT=portal,
    )
    with FdkProcess(env) as fn:
        answers = [fn.call(CREATE_EVENT).json()["status"] for _ in range(3)]
        lines = fn.log_lines()
    assert answers == ["updated", "unchanged", "unchanged"]  # the answers never depend on Monitoring
    (warning,) = not_json_warnings(lines)
    assert "text/html" in warning["message"] and warning["operation"] == "post_metric_data"
    failed = [e for e in lines if str(e.get("message")).startswith("PostMetricData failed")]
    assert len(failed) == 3 and all(e["code"] == "NotJson" for e in failed)


def test_an_identity_html_page_fails_a_recursive_sweep_instead_of_sweeping_the_root_alone(
    emulator: EmulatorServer, api_key: ApiKey, portal: str
) -> None:
    with FdkProcess(function_env(emulator, api_key, OCI_IDENTITY_ENDPOINT=portal)) as fn:
        sweep = {"sweep": {"compartmentId": COMP, "recursive": True, "dryRun": True}}
        answers = [fn.call(sweep).json() for _ in range(2)]
        lines = fn.log_lines()
    for answer in answers:
        assert answer["status"] != "swept", answer
        assert "NotJson" in str(answer) or "not JSON" in str(answer)
    assert len(not_json_warnings(lines)) == 1


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_call_budget_must_be_a_positive_number(value: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sync", "sweep", "--compartment", COMP, "--dry-run", "--call-budget", value],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--call-budget" in proc.stderr and "Traceback" not in proc.stderr
