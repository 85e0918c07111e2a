"""Policy sources and their cache: the source interface, inline text (TAG_POLICY) and local files.

Precedence (source_from_env): TAG_POLICY (inline YAML or JSON, when not blank) wins over
TAG_POLICY_URI, which wins over the bundled file (`tag_policy.yaml` beside func.py). When
TAG_POLICY and TAG_POLICY_URI are both set, a warning names the ignored TAG_POLICY_URI. A
TAG_POLICY_URI may be `file:///abs/path`, `oci://bucket@namespace/object`, `s3://bucket/key` or
a plain path (relative paths are taken from the bundled file's directory); object names and keys
are used as written, without percent-decoding.

Caching (one source per process, shared by warm invocations and sweep threads):
- inline: parsed once; file: re-read and parsed only when its mtime, size or inode changes.
- oci:// and s3://: the parsed Policy is kept with the object's ETag; at most every
  TAG_POLICY_REFRESH_SECONDS (default 60; 0 checks on every load) one conditional GET
  (if-none-match) is sent; 304 costs no parse. While one thread refreshes, others get the
  last good policy without waiting.
- A policy that fails to fetch or validate, or an object that was deleted, keeps the last good
  policy (an error is logged with the opc-request-id / S3 request id and the reason); with no
  last good policy, load() raises PolicyError so the caller answers `rejected`. An invalid
  version is parsed once (its ETag is remembered); a failed fetch with nothing to fall back on
  is tried again on the next load.
- load(time_left=...) stops parsing when the caller's time runs out (the function passes its
  invocation's deadline): that is PolicyTimeout, no verdict on the policy, so nothing of it is
  cached; the last good policy is served if there is one, and the next load parses again.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from sync.policy.loader import MAX_POLICY_BYTES, Policy, PolicyError, PolicyTimeout, TimeLeft, load_policy

log = logging.getLogger("sync.sources")

DEFAULT_REFRESH_SECONDS = 60.0
REFRESH_ENV = "TAG_POLICY_REFRESH_SECONDS"

Clock = Callable[[], float]


class PolicySource(ABC):
    """Gives the current policy; `parses` counts how many times policy text was parsed."""

    origin: str
    parses: int = 0

    @abstractmethod
    def load(self, time_left: TimeLeft | None = None) -> Policy:
        """The current policy (from the cache when it is still fresh); PolicyError if there is none.

        time_left (seconds; None: no limit): parsing stops with PolicyTimeout once it is <= 0.
        """

    def _parse(self, raw: str | bytes, time_left: TimeLeft | None) -> Policy:
        if len(raw) > MAX_POLICY_BYTES:
            raise PolicyError(["policy is larger than the 1 MiB limit"], self.origin)
        self.parses += 1
        return load_policy(raw, self.origin, time_left=time_left)


def _copy(err: PolicyError) -> PolicyError:
    # A fresh instance per raise: re-raising one instance keeps growing its traceback.
    return PolicyError(list(err.errors), err.origin)


def _stopped(origin: str, kept: bool) -> None:
    log.warning(
        "loading the policy from %s stopped at the caller's deadline (%s); the next call loads it again",
        origin,
        "serving the last good policy" if kept else "no policy to fall back on",
        extra={"source": origin},
    )


def _adopted(policy: Policy, origin: str, version: str | None) -> None:
    log.info(
        "policy loaded from %s: %d rule(s), mode %s",
        origin,
        len(policy.rules),
        policy.mode,
        extra={"source": origin, "etag": version, "policy_warnings": list(policy.warnings)},
    )


class ErrorSource(PolicySource):
    """A configuration problem found before any policy was read: every load raises it."""

    def __init__(self, error: PolicyError) -> None:
        self.origin = error.origin
        self.error = error

    def load(self, time_left: TimeLeft | None = None) -> Policy:
        raise _copy(self.error)


class InlineSource(PolicySource):
    """TAG_POLICY: the policy text itself; parsed once, on first load."""

    def __init__(self, text: str, origin: str = "TAG_POLICY") -> None:
        self.origin = origin
        self._text = text
        self._lock = threading.Lock()
        self._result: Policy | PolicyError | None = None

    def load(self, time_left: TimeLeft | None = None) -> Policy:
        with self._lock:
            if self._result is None:
                try:
                    self._result = self._parse(self._text, time_left)
                    _adopted(self._result, self.origin, None)
                except PolicyTimeout:
                    _stopped(self.origin, kept=False)
                    raise
                except PolicyError as exc:
                    log.error(
                        "policy from %s is invalid: %s",
                        self.origin,
                        "; ".join(exc.errors),
                        extra={"source": self.origin, "errors": exc.errors},
                    )
                    self._result = exc
            if isinstance(self._result, PolicyError):
                raise _copy(self._result)
            return self._result


class _Cached(PolicySource):
    """The last good policy, the version last seen, and the error that came with it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._lock = threading.Lock()
        self._policy: Policy | None = None
        self._error: PolicyError | None = None  # the last version seen did not validate

    def load(self, time_left: TimeLeft | None = None) -> Policy:
        current = self._policy
        if current is not None:
            if not self._lock.acquire(blocking=False):
                return current  # another thread is refreshing: serve the last good one meanwhile
        else:
            self._lock.acquire()
        try:
            return self._load_locked(time_left)
        finally:
            self._lock.release()

    @abstractmethod
    def _load_locked(self, time_left: TimeLeft | None) -> Policy: ...

    @abstractmethod
    def _read_again(self) -> None:
        """Forget the version just read, so that the next load reads and parses it again."""

    def _serve(self) -> Policy:
        if self._policy is not None:
            return self._policy
        if self._error is not None:
            raise _copy(self._error)
        raise PolicyError(["no policy has been loaded"], self.origin)  # pragma: no cover

    def _adopt(
        self, raw: bytes, version: str | None, fields: Mapping[str, Any], time_left: TimeLeft | None
    ) -> Policy:
        """Parse a new version; keep the last good policy when it does not validate."""
        try:
            policy = self._parse(raw, time_left)
        except PolicyTimeout:
            self._read_again()
            _stopped(self.origin, kept=self._policy is not None)
            if self._policy is None:
                raise
            return self._policy
        except PolicyError as exc:
            self._error = exc
            kept = self._policy is not None
            log.error(
                "policy from %s is invalid (%s): %s",
                self.origin,
                "keeping the last good policy" if kept else "no policy to fall back on",
                "; ".join(exc.errors),
                extra={**fields, "source": self.origin, "etag": version, "errors": exc.errors},
            )
            return self._serve()
        self._policy = policy
        self._error = None
        _adopted(policy, self.origin, version)
        return policy


class FileSource(_Cached):
    """A policy file (the bundled one, file://, or a path); re-read only when it changes."""

    def __init__(self, path: str, origin: str | None = None) -> None:
        super().__init__(origin or path)
        self.path = path
        self._seen: tuple[int, int, int] | str | None = None

    def _read_again(self) -> None:
        self._seen = None

    def _load_locked(self, time_left: TimeLeft | None) -> Policy:
        try:
            st = os.stat(self.path)
            version: tuple[int, int, int] | str = (st.st_mtime_ns, st.st_size, st.st_ino)
            if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block the read
                version = "cannot read policy file: not a regular file"
        except OSError as exc:
            version = f"cannot read policy file: {exc.strerror}"
        if version == self._seen:
            return self._serve()
        self._seen = version
        raw = b""
        if not isinstance(version, str):
            try:
                with open(self.path, "rb") as fh:
                    raw = fh.read(MAX_POLICY_BYTES + 1)
            except OSError as exc:
                version = f"cannot read policy file: {exc.strerror}"
        if isinstance(version, str):
            self._error = PolicyError([version], self.origin)
            kept = self._policy is not None
            log.error(
                "%s: %s (%s)",
                self.origin,
                version,
                "keeping the last good policy" if kept else "no policy to fall back on",
                extra={"source": self.origin},
            )
            return self._serve()
        return self._adopt(raw, f"{version[0]}", {}, time_left)
