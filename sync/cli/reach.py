"""Before a live command's first call: can the endpoint be reached at all? If not, say which one.

An endpoint that refuses connections or does not resolve is a setting to fix (exit 2), not an
outage to resume from: retrying it for the call budget and printing a resume token misleads.
"""

from __future__ import annotations

import os
import re
import socket
from urllib.parse import urlsplit

from sync.cli.errors import CliError

PROBE_SECONDS = 4.0
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def resolved(endpoint: str) -> str:
    """The SDK's endpoint template with its dual-stack choice made as the SDK makes it by default."""
    return re.sub(r"\{dualStack\?[^:}]*:([^}]*)\}", r"\1", endpoint)


def check_reachable(endpoint: str, setting: str, timeout: float = PROBE_SECONDS) -> None:
    """CliError naming the endpoint and where it came from when no TCP connection can be made."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return  # the SDK goes through the proxy: a direct connection proves nothing
    url = urlsplit(resolved(endpoint))
    if not url.hostname:
        raise CliError(f"{setting}: {endpoint!r} is not a URL")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return
    except socket.gaierror as exc:
        why = f"cannot resolve {url.hostname} ({exc.strerror})"
    except TimeoutError:
        why = f"no connection within {timeout:.0f} s"
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
    base = f"{url.scheme}://{url.netloc}"
    raise CliError(f"cannot reach {base} ({setting}): {why}; check the setting and the network")
