"""Collects the code blocks of README.md and docs/ as tests (see tests/docs/snippets.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docs.snippets import SYBIL, emulator_process

pytest_collect_file = SYBIL.pytest()


@pytest.fixture(scope="session")
def _emulator_service() -> Iterator[tuple[str, str]]:
    with emulator_process() as service:
        yield service


@pytest.fixture
def voicelive_service(
    _emulator_service: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """While a page's block runs, the Azure settings it may read name a local emulator."""
    endpoint, key = _emulator_service
    monkeypatch.setenv("AZURE_VOICELIVE_ENDPOINT", endpoint)
    monkeypatch.setenv("AZURE_VOICELIVE_API_KEY", key)
    return _emulator_service
