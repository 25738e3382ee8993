"""A stand-in for ``devtools_testutils``, the Azure SDK's test-proxy helper package.

The SDK's ``tests/live`` import this package from the azure-sdk-for-python repository, which
is not on PyPI. It records and replays HTTP traffic through the Azure test proxy; in live mode
(``AZURE_TEST_RUN_LIVE=true``) it reads the real endpoint and key from environment variables
and lets every test talk to the service directly. This stub implements only that live-mode
behaviour, nothing else: it never touches a test's assertions, the SDK or the traffic.

What the tests use, and what the stub does:

* ``is_live()``: true when ``AZURE_TEST_RUN_LIVE`` is ``true``/``yes``/``1`` (as upstream).
* ``test_proxy``: a session fixture; upstream starts the proxy, here there is none to start.
* ``AzureRecordedTestCase``: the base class; only ``is_live`` matters for these tests.
* ``recorded_by_proxy``: records through the proxy upstream; here the test runs as written.
* ``EnvironmentVariableLoader(directory, **fake_values)``: a decorator that passes each named
  value to the test. Live, each comes from the environment variable of the same name in upper
  case (``voicelive_openai_endpoint`` -> ``VOICELIVE_OPENAI_ENDPOINT``); otherwise the fake value.
  Like upstream, a coroutine test is run to completion with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest

__all__ = [
    "AzureRecordedTestCase",
    "EnvironmentVariableLoader",
    "is_live",
    "recorded_by_proxy",
    "test_proxy",
]

_TRUE = ("true", "yes", "1")


def is_live() -> bool:
    """True when the tests should talk to a live service (``AZURE_TEST_RUN_LIVE``)."""
    return os.environ.get("AZURE_TEST_RUN_LIVE", "").strip().lower() in _TRUE


@pytest.fixture(scope="session")
def test_proxy() -> None:
    """Upstream starts the Azure test proxy here; live runs against the emulator need none."""
    return


class AzureRecordedTestCase:
    """Base class of the SDK's test classes."""

    @property
    def is_live(self) -> bool:
        return is_live()

    @property
    def in_recording(self) -> bool:
        return False


def recorded_by_proxy(test: Callable[..., Any]) -> Callable[..., Any]:
    """Upstream routes the test's HTTP traffic through the proxy; live, the test runs as is."""
    return test


def _accepted_kwargs(test: Callable[..., Any], values: dict[str, Any]) -> dict[str, Any]:
    """Only the keyword arguments ``test`` accepts (all of them when it takes ``**kwargs``)."""
    parameters = inspect.signature(test).parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return values
    names = {parameter.name for parameter in parameters}
    return {name: value for name, value in values.items() if name in names}


class EnvironmentVariableLoader:
    """Pass environment-configured values (endpoint, key) to the decorated test."""

    def __init__(self, directory: str, *_args: Any, **fake_values: Any) -> None:
        self.directory = directory.lower()
        self.fake_values = {
            name.lower(): value
            for name, value in fake_values.items()
            if self.directory in name.lower()
        }

    def values(self) -> dict[str, Any]:
        if not is_live():
            return dict(self.fake_values)
        missing = [name.upper() for name in self.fake_values if name.upper() not in os.environ]
        if missing:
            raise KeyError(f"live tests need the environment variables {', '.join(missing)}")
        return {name: os.environ[name.upper()] for name in self.fake_values}

    def __call__(self, test: Callable[..., Any]) -> Callable[..., Any]:
        def run_with_values(test_instance: Any, **kwargs: Any) -> None:
            arguments = _accepted_kwargs(test, {**kwargs, **self.values()})
            if inspect.iscoroutinefunction(test):
                asyncio.run(test(test_instance, **arguments))
            else:
                test(test_instance, **arguments)

        # pytest reads the wrapped test's signature (through __wrapped__) to pick its fixtures
        # and parameters, and keeps its marks.
        functools.update_wrapper(run_with_values, test)
        return run_with_values
