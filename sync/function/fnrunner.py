"""Run func.py under the real Fn FDK on a unix socket and call it as Fn would (no Docker, no fn CLI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sync.clock import CLOCK_FILE_ENV, FileClock
from sync.unixhttp import UnixHTTPConnection

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FnReply:
    status: int
    headers: dict[str, str]
    body: bytes
    call_id: str

    def json(self) -> Any:
        return json.loads(self.body)


class FdkProcess:
    """`fdk func.py handler` with FN_FORMAT=http-stream on a unix socket, as the Fn agent runs it."""

    def __init__(
        self,
        env: Mapping[str, str],
        func_path: Path = ROOT / "func.py",
        python: str = sys.executable,
        stderr_path: Path | None = None,
    ) -> None:
        self.env = dict(env)
        self.func_path = func_path
        self.python = python
        # AF_UNIX paths are limited to 107 bytes: keep the directory short.
        self._dir = tempfile.mkdtemp(prefix="fn-", dir="/tmp")
        self.socket_path = os.path.join(self._dir, "lsnr.sock")
        self.stderr_path = stderr_path or Path(self._dir) / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self, timeout: float = 30.0) -> FdkProcess:
        env = {
            **self.env,
            "FN_FORMAT": "http-stream",
            "FN_LISTENER": f"unix:{self.socket_path}",
            "PYTHONPATH": str(self.func_path.parent),
            "PYTHONUNBUFFERED": "1",
        }
        code = "import sys; from fdk.scripts.fdk import main; sys.argv[0] = 'fdk'; sys.exit(main())"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [self.python, "-c", code, str(self.func_path), "handler"],
            env=env,
            cwd=str(self.func_path.parent),
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        end = time.monotonic() + timeout
        while not os.path.exists(self.socket_path):
            if self.proc.poll() is not None:
                raise RuntimeError(f"fdk exited with {self.proc.returncode}: {self.stderr_text()[-2000:]}")
            if time.monotonic() > end:
                raise TimeoutError("fdk did not open its socket in time")
            time.sleep(0.01)
        return self

    def call(
        self,
        body: bytes | str | Mapping[str, Any],
        *,
        deadline_seconds: float = 30.0,
        call_id: str | None = None,
        timeout: float = 120.0,
    ) -> FnReply:
        """POST /call with the headers the Fn agent sends."""
        if isinstance(body, Mapping):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        call_id = call_id or uuid.uuid4().hex.upper()[:26]
        # With a test clock (sync/clock.py) the deadline is in its time, as the function reads it.
        clock_file = self.env.get(CLOCK_FILE_ENV)
        now = datetime.fromtimestamp(FileClock(clock_file).time(), UTC) if clock_file else datetime.now(UTC)
        deadline = now + timedelta(seconds=deadline_seconds)
        headers = {
            "Fn-Call-Id": call_id,
            "Fn-Deadline": deadline.isoformat().replace("+00:00", "Z"),
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }
        conn = UnixHTTPConnection(self.socket_path, timeout)
        try:
            conn.request("POST", "/call", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return FnReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, call_id)
        finally:
            conn.close()

    def stderr_text(self) -> str:
        try:
            return Path(self.stderr_path).read_text(errors="replace")
        except OSError:
            return ""

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines the function wrote on stderr (other lines are skipped)."""
        out = []
        for line in self.stderr_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> FdkProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
