"""A total time cap on every HTTP call, in the transport: each socket read ends by the call's deadline.

Why: connect and read timeouts bound one socket operation each. An answer that sends its headers
and then one body byte every 0.5 s never trips a 20 s read timeout and can hold a call for
minutes. Here every send and receive on a connection recomputes the socket's timeout from the
call's absolute deadline (the deadline bound to the calling thread by `bounded()` when the request
starts), so a call ends at its deadline whatever the peer does, on the thread that made it.

Used by the lean OCI clients (their requests session mounts `CappedAdapter`) and by the boto3 S3
client of the s3:// policy source (`cap_botocore`). A call made with no deadline bound ends after
UNBOUND_TOTAL_SECONDS in total. Not covered: DNS resolution (getaddrinfo has no timeout) and the
TLS handshake, which the connect timeout (itself capped by the time left) bounds per step.
"""

from __future__ import annotations

import functools
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# A call made outside any `bounded()` block (none in the product today) still ends this soon.
UNBOUND_TOTAL_SECONDS = 25.0

_local = threading.local()


@contextmanager
def bounded(remaining: Callable[[], float]) -> Iterator[None]:
    """Calls this thread starts inside the block end by `remaining()` seconds at most, reads included."""
    previous = getattr(_local, "remaining", None)
    _local.remaining = remaining
    try:
        yield
    finally:
        _local.remaining = previous


def time_left() -> Callable[[], float] | None:
    """The time-left function bound to this thread, or None."""
    remaining: Callable[[], float] | None = getattr(_local, "remaining", None)
    return remaining


def _call_time_left() -> Callable[[], float]:
    """The deadline of a call starting now: the bound one, else UNBOUND_TOTAL_SECONDS from now."""
    remaining = time_left()
    if remaining is not None:
        return remaining
    end = time.monotonic() + UNBOUND_TOTAL_SECONDS
    return lambda: end - time.monotonic()


class CappedSocket:
    """A connected socket whose every send and receive times out by the call's deadline."""

    def __init__(self, sock: Any, left: Callable[[], float]) -> None:
        self._sock = sock
        self._left = left
        self._timeout: float | None = sock.gettimeout()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def _arm(self) -> None:
        left = self._left()
        if left <= 0:
            raise TimeoutError("the call's time is up (total time cap)")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))

    def recv(self, *args: Any) -> bytes:
        self._arm()
        data: bytes = self._sock.recv(*args)
        return data

    def recv_into(self, *args: Any) -> int:
        self._arm()
        count: int = self._sock.recv_into(*args)
        return count

    def send(self, *args: Any) -> int:
        self._arm()
        count: int = self._sock.send(*args)
        return count

    def sendall(self, *args: Any) -> None:
        self._arm()
        self._sock.sendall(*args)

    def makefile(self, mode: str = "r", buffering: int | None = None, **kwargs: Any) -> Any:
        """Binary reads go through recv_into above (http.client reads answers with makefile("rb"))."""
        if mode != "rb":
            return self._sock.makefile(mode, buffering, **kwargs)
        self._sock._io_refs += 1  # as socket.makefile does; SocketIO.close() gives it back
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw, buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE)


class _Capped:
    """Mixed into a urllib3 connection: its socket is a CappedSocket on the current call's deadline."""

    sock: Any
    _call_left: Callable[[], float] | None = None

    def _left(self) -> float:
        return self._call_left() if self._call_left is not None else UNBOUND_TOTAL_SECONDS

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock = CappedSocket(self.sock, self._left)

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A pooled connection serves many calls: each request takes the deadline of its own call.
        self._call_left = _call_time_left()
        super().request(*args, **kwargs)  # type: ignore[misc]


@functools.cache
def _capped_adapters() -> tuple[type[Any], type[Any]]:
    """(https, http) adapters on the SDK's vendored requests, whose pools make capped connections.

    The SDK's session is `oci._vendor.requests` (its exceptions are what the SDK catches and wraps);
    https keeps the SDK's own adapter (Expect-header pools, underscore hosts).
    """
    from oci._vendor.requests.adapters import HTTPAdapter
    from oci.base_client import OCIHTTPAdapter

    class CappedOciAdapter(OCIHTTPAdapter):  # type: ignore[misc]
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            _cap_pools(self.poolmanager)

    class CappedAdapter(HTTPAdapter):  # type: ignore[misc]
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            _cap_pools(self.poolmanager)

    return CappedOciAdapter, CappedAdapter


def mount_capped(session: Any) -> None:
    """Mount capped adapters on the SDK's requests session, for https:// and http:// (the emulator)."""
    https, http = _capped_adapters()
    session.mount("https://", https())
    session.mount("http://", http())


def _cap_pools(manager: Any) -> None:
    """Make a urllib3 PoolManager's pools use capped connections (whatever pool classes it had)."""
    classes = dict(getattr(manager, "pool_classes_by_scheme", {}))
    manager.pool_classes_by_scheme = {
        "http": _capped_pool(classes.get("http", HTTPConnectionPool)),
        "https": _capped_pool(classes.get("https", HTTPSConnectionPool)),
    }


_POOLS: dict[type[Any], type[Any]] = {}
_POOLS_LOCK = threading.Lock()


def _capped_pool(pool: type[Any]) -> type[Any]:
    """A subclass of `pool` whose ConnectionCls is its own connection class with the cap mixed in."""
    if issubclass(pool.ConnectionCls, _Capped):
        return pool
    with _POOLS_LOCK:
        if pool not in _POOLS:
            conn = type(f"Capped{pool.ConnectionCls.__name__}", (_Capped, pool.ConnectionCls), {})
            _POOLS[pool] = type(f"Capped{pool.__name__}", (pool,), {"ConnectionCls": conn})
        return _POOLS[pool]


def cap_botocore(client: Any) -> None:
    """Give a botocore client's connections the same cap (boto3 has no total timeout of its own).

    botocore's URLLib3Session keeps its pool classes in `_pool_classes_by_scheme` and sets them on
    its PoolManager (`_manager`); pools are made on first use, so this must run before any call.
    """
    http = client._endpoint.http_session
    capped = {scheme: _capped_pool(pool) for scheme, pool in dict(http._pool_classes_by_scheme).items()}
    http._pool_classes_by_scheme = capped
    http._manager.pool_classes_by_scheme = capped
