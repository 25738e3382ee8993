"""Endpoint hygiene: refuse plain-text transport to anything but this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import ConfigurationError, InsecureEndpointError

__all__ = ["check_endpoint", "is_loopback_host"]

_SECURE = {"https", "wss"}
_PLAIN = {"http", "ws"}


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, *, allow_insecure: bool = False) -> str:
    """Validate a Voice Live endpoint and return it unchanged.

    ``https://`` and ``wss://`` are always accepted. ``http://`` and ``ws://`` send the API
    key in clear text, so they are refused unless the host is loopback (the emulator) or
    ``allow_insecure=True``.
    """
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in _SECURE | _PLAIN or not parts.hostname:
        raise ConfigurationError(
            f"{endpoint!r} is not a Voice Live endpoint; expected something like "
            "https://<resource>.services.ai.azure.com/"
        )
    if parts.scheme in _PLAIN and not allow_insecure and not is_loopback_host(parts.hostname):
        raise InsecureEndpointError(
            f"{endpoint!r} would send credentials unencrypted; use https:// (or wss://). "
            "Plain http:// is only accepted for loopback hosts such as the emulator, or "
            "with allow_insecure=True."
        )
    return endpoint
