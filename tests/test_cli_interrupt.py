"""Ctrl-C (SIGINT) or SIGTERM mid-sweep: the writes in flight finish, the summary and the resume
command are printed, exit 130; the resume command, run as printed, finishes with no backup written twice.

The sweep runs as a real process (`python -m sync`, so the hint is that command) against the emulator,
whose latency keeps the sweep running long enough to be interrupted halfway.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.emulator import ApiKey, EmulatorServer, Faults
from tests.test_sweep import COMP, POLICY_TEXT, SEED, populate, stale_ids

ROOT = Path(__file__).resolve().parents[1]
BACKUPS = 200  # half need an update: at 20 ms a call and 3 at once, a second or two of work


def sweep_env(server: EmulatorServer, key: ApiKey) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        **server.client_env(key),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TAG_POLICY": POLICY_TEXT,
    }


def wait_for_updates(server: EmulatorServer, proc: subprocess.Popen[str], count: int) -> None:
    end = time.monotonic() + 120
    while server.backend.log.count("UpdateVolumeGroupBackup") < count:
        assert proc.poll() is None, f"the sweep ended before it was interrupted: {proc.communicate()}"
        assert time.monotonic() < end, "the sweep made no progress"
        time.sleep(0.05)


def read_all(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    return out, err


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_sweep_prints_summary_and_a_resume_command_that_finishes(
    make_emulator: Callable[..., EmulatorServer], api_key: ApiKey, tmp_path: Path, sig: signal.Signals
) -> None:
    server = make_emulator(seed=SEED, creating_seconds=None, faults=Faults(latency_ms=20))
    populate(server.backend, BACKUPS)
    env = sweep_env(server, api_key)
    argv = [
        sys.executable,
        "-m",
        "sync",
        "sweep",
        "--compartment",
        COMP,
        "--concurrency",
        "3",
        "--page-size",
        "20",
    ]
    proc = subprocess.Popen(
        [*argv, "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_updates(server, proc, 10)
    proc.send_signal(sig)
    out, err = read_all(proc)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert f"{sig.name}: finishing the writes in flight" in err
    updated_then = server.backend.log.count("UpdateVolumeGroupBackup")
    assert updated_then < BACKUPS // 2, "the sweep ran to the end: nothing to resume"
    # The summary so far: the counts, and the command to resume, as invoked (python -m sync).
    assert out.startswith("Sweep stopped early: "), out
    # The summary's rows are KIND STATUS COUNT (one per kind listed, plus `all` with several kinds).
    rows = re.findall(r"^(\w+)\s+updated\s+(\d+)$", out, re.M)
    counted = sum(int(n) for kind, n in rows if kind not in ("all", "members"))
    assert rows, out
    assert counted == updated_then, "every write the emulator saw is in the summary"
    assert "Interrupted: the writes in flight finished, nothing else was started. Resume with:" in out
    resume = out.rstrip().splitlines()[-1].strip()
    # The venv's bin leads PATH, so `python` there is the interpreter that ran: the hint says `python`.
    assert resume.startswith(f"python -m sync sweep --compartment {COMP} --concurrency 3 --page-size 20 ")
    assert " --resume " in resume

    # Nothing more is written once the process has exited.
    assert server.backend.log.count("UpdateVolumeGroupBackup") == updated_then
    if sig == signal.SIGTERM:
        return  # the resume is the same as after SIGINT: run it once

    # The resume command exactly as printed, through a shell, from the same directory.
    done = subprocess.run(
        ["bash", "-c", resume + " --no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Sweep done: ")
    assert stale_ids(server.backend) == []
    writes = Counter(
        r.path for r in server.backend.log.requests("UpdateVolumeGroupBackup") if r.status == 200
    )
    assert len(writes) == BACKUPS // 2 and max(writes.values()) == 1, "a backup was written twice"


def test_a_second_signal_exits_at_once(make_emulator: Callable[..., EmulatorServer], api_key: ApiKey) -> None:
    server = make_emulator(seed=SEED, creating_seconds=None, faults=Faults(latency_ms=300))
    populate(server.backend, 100)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "sweep", "--compartment", COMP, "--no-progress", "--concurrency", "8"],
        cwd=ROOT, env=sweep_env(server, api_key), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_updates(server, proc, 1)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = read_all(proc, timeout=30)
    assert proc.returncode == 130 and "SIGINT again: exiting now" in err, out + err
    assert out == ""  # no summary: it did not wait
