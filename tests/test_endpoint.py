from __future__ import annotations

import pytest

import voicelive_proactive as vp


@pytest.mark.parametrize(
    "url",
    [
        "https://x.services.ai.azure.com/",
        "wss://x.example.com",
        "http://127.0.0.1:8765",
        "http://localhost:1",
        "ws://[::1]:9",
    ],
)
def test_accepted(url: str) -> None:
    assert vp.check_endpoint(url) == url


@pytest.mark.parametrize("url", ["http://example.com", "ws://10.0.0.5:80"])
def test_plain_text_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(vp.InsecureEndpointError, match="https://"):
        vp.check_endpoint(url)
    assert vp.check_endpoint(url, allow_insecure=True) == url


@pytest.mark.parametrize("url", ["", "ftp://x", "example.com", "https://"])
def test_not_an_endpoint(url: str) -> None:
    with pytest.raises(vp.ConfigurationError, match="not a Voice Live endpoint"):
        vp.check_endpoint(url)
