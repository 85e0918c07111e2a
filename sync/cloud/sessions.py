"""The SDK's HTTP session, minus the per-request walk over the environment (proxies, CA bundle).

Why: requests' `Session.merge_environment_settings` reads every environment variable twice per
request (getproxies_environment, then proxy_bypass_environment for no_proxy), which was the
largest CPU cost of a sweep after signing (tests/bench/bench_regions.py). Its answer depends
only on the URL's scheme and host, the arguments and the environment, which a process does not
change while it runs: it is computed once per (scheme, host, arguments) and reused. Proxies and
CA bundles set in the environment still apply exactly as requests applies them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from oci._vendor.requests import Session

# Distinct (scheme, host, arguments) a client meets: a handful; the cap only bounds a surprise.
MAX_ENTRIES = 64


class EnvCachedSession(Session):  # type: ignore[misc]
    """A requests Session whose environment-derived settings are computed once per host."""

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        parts = urlsplit(url)
        try:
            key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
            hash(key)
        except TypeError:  # an unhashable setting: no caching, requests' own answer
            return dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
        cache: dict[Any, dict[str, Any]] = self.__dict__.setdefault("_env_settings", {})
        found = cache.get(key)
        if found is None:
            found = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if len(cache) < MAX_ENTRIES:
                cache[key] = found
        # Session.request only reads the answer; copies keep the cached one intact anyway.
        return {**found, "proxies": dict(found.get("proxies") or {})}


def cache_environment(session: Session) -> None:
    """Make an SDK client's session compute its environment settings once per host (copies keep it)."""
    if type(session) is Session:
        session.__class__ = EnvCachedSession
