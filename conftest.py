"""Collects the code blocks of README.md and docs/ as tests (see tests/docs/snippets.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docs.snippets import SYBIL, emulator_process
from tests.managed_identity import COMPETING_VARIABLES

pytest_collect_file = SYBIL.pytest()


@pytest.fixture(scope="session")
def _emulator_service() -> Iterator[dict[str, str]]:
    with emulator_process() as service:
        yield service


@pytest.fixture
def voicelive_service(
    _emulator_service: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """While a page's block runs, the Azure settings it may read name a local emulator, and
    DefaultAzureCredential finds a managed identity whose token that emulator accepts."""
    for name in COMPETING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_VOICELIVE_ENDPOINT", _emulator_service["endpoint"])
    monkeypatch.setenv("AZURE_VOICELIVE_API_KEY", _emulator_service["api_key"])
    monkeypatch.setenv("IDENTITY_ENDPOINT", _emulator_service["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", _emulator_service["identity_header"])
    return _emulator_service
