"""A pytest plugin the harness loads into the SDK test run: one JSON line per test outcome.

It runs inside the SDK's test environment (its own virtualenv), so it imports only pytest.
``SDK_LIVE_RESULTS`` names the JSON-lines file to append to. With pytest-xdist the hook runs
in the controller, once per report, so a single writer owns the file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_ENV = "SDK_LIVE_RESULTS"


def _outcome(report: pytest.TestReport) -> str | None:
    """The test's outcome from this phase's report, or None when the phase says nothing new."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return str(report.outcome)
    if report.failed:
        return "error"  # setup or teardown failed: the test could not run (or clean up)
    if report.skipped:
        return "skipped"
    return None


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = _outcome(report)
    if outcome is None:
        return
    _write(
        {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": outcome,
            "duration": round(report.duration, 3),
            "longrepr": _skip_reason(report) if report.skipped else report.longreprtext,
        }
    )


@pytest.hookimpl(trylast=True)
def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module that fails to import is reported too: its tests never run."""
    if report.failed:
        _write(
            {
                "nodeid": report.nodeid,
                "when": "collect",
                "outcome": "error",
                "duration": 0.0,
                "longrepr": report.longreprtext,
            }
        )
