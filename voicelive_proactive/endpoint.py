"""Endpoint hygiene: refuse plain-text transport to anything but this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ConfigurationError, InsecureEndpointError

__all__ = ["check_endpoint", "is_loopback_host", "redact_url"]

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


def redact_url(url: str) -> str:
    """``url`` safe to show: a password in it and every query value become ``***``.

    Query strings carry secrets (``?api-key=...``, SAS tokens) far more often than anything
    worth showing, so all their values are hidden, not only the known names.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user = parts.username or ""
            host = netloc.rpartition("@")[2]
            netloc = f"{user}:***@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(key, "***") for key, _ in pairs], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<an unparseable URL>"


def check_endpoint(endpoint: str, *, allow_insecure: bool = False) -> str:
    """Validate a Voice Live endpoint and return it unchanged.

    ``https://`` and ``wss://`` are always accepted. ``http://`` and ``ws://`` send the API
    key in clear text, so they are refused unless the host is loopback (the emulator) or
    ``allow_insecure=True``.
    """
    if not isinstance(endpoint, str):
        raise ConfigurationError(f"the endpoint must be a str URL, not {type(endpoint).__name__}")
    shown = redact_url(endpoint.strip())
    try:
        parts = urlsplit(endpoint.strip())
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if hostname is None or parts.scheme not in _SECURE | _PLAIN:
        raise ConfigurationError(
            f"{shown!r} is not a Voice Live endpoint; expected something like "
            "https://<resource>.services.ai.azure.com/"
        )
    if parts.scheme in _PLAIN and not allow_insecure and not is_loopback_host(hostname):
        raise InsecureEndpointError(
            f"{shown!r} would send credentials unencrypted; use https:// (or wss://). "
            "Plain http:// is only accepted for loopback hosts such as the emulator, or "
            "with allow_insecure=True."
        )
    return endpoint
