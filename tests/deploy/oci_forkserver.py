"""A warm `oci` for the deploy tests: imports the real oci CLI once, then forks a child per call.

Run with the CLI's own interpreter (.venv-ocicli/bin/python oci_forkserver.py SOCKET). The test
shim sends {argv, env, cwd} and its stdin/stdout/stderr descriptors over the unix socket; the
child takes them as fds 0-2, the environment and the working directory, runs the CLI's own
entry point (`oci_cli.cli:cli`, what the `oci` executable runs) and reports its exit status.
Nothing of the CLI is replaced: this only saves the ~1 s (3 s on a loaded machine) that
importing it costs on every call. OCI_TEST_NO_FORKSERVER=1 makes the shim exec the CLI directly.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import signal
import socket
import sys

SERVICES = ("fn", "iam", "events", "logging", "resource-scheduler", "ons", "monitoring", "network", "os")


def serve(path: str) -> None:
    sys.argv = ["oci"]
    import oci_cli  # noqa: F401  (imports the CLI without loading a service)
    from oci_cli import dynamic_loader
    from oci_cli.cli import cli

    for s in SERVICES:
        dynamic_loader.load_service(s)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            run_one(conn, cli)
        conn.close()


def run_one(conn: socket.socket, cli: object) -> None:
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    req = json.loads(msg)
    for i, fd in enumerate(fds[:3]):
        os.dup2(fd, i)
        os.close(fd)
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    sys.argv = ["oci", *req["argv"]]
    code: object = 0
    try:
        cli(args=req["argv"], prog_name="oci")  # type: ignore[operator]
    except SystemExit as e:
        code = e.code
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the CLI may have closed it (`--file -`)
            stream.flush()
    conn.sendall(str(code).encode())
    conn.close()
    os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1])
