"""The report's rules: a partial run never touches the full report; every figure says its run.

Run with ``.venv/bin/pytest -q benchmarks/tests`` (the project's ``make test`` covers ``tests/``).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import benchmarks.__main__ as bench_main
from benchmarks import report


def _section(name: str, result: dict[str, Any] | None = None, crash: bool = False) -> str:
    module = types.ModuleType(f"benchmarks._fake_{name}")

    def run(quick: bool = False) -> dict[str, Any]:
        if crash:
            raise RuntimeError("boom")
        return dict(result or {"value": 1})

    module.run = run  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module.__name__


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(report, "DOC", tmp_path / "performance.md")
    monkeypatch.setattr(report, "plot", lambda results, outdir: [])
    monkeypatch.setattr(
        bench_main,
        "SECTIONS",
        {
            "dispatch": _section("dispatch", {"ratio_vs_same_dict": 1.02}),
            "memory": _section("memory", {"hour_growth_kb": 0.0}),
        },
    )
    return tmp_path


def test_an_only_run_writes_its_own_file_and_leaves_the_full_report_alone(outputs: Path) -> None:
    (outputs / "latest.json").write_text('{"old": true}')
    assert bench_main.main(["--only", "memory"]) == 0
    runs = list((outputs / "runs").glob("*.json"))
    assert len(runs) == 1
    mine = json.loads(runs[0].read_text())
    assert mine["run"]["complete"] is False
    assert "dispatch" not in mine
    assert json.loads((outputs / "latest.json").read_text()) == {"old": True}
    assert not (outputs / "performance.md").exists()


def test_a_complete_run_writes_the_report_and_stamps_every_section(outputs: Path) -> None:
    assert bench_main.main([]) == 0
    latest = json.loads((outputs / "latest.json").read_text())
    assert latest["run"]["complete"] is True
    for name in ("dispatch", "memory"):
        assert latest[name]["run_id"] == latest["run"]["id"]
        assert latest[name]["commit"] == latest["run"]["commit"]
        assert latest[name]["measured_at"]
    doc = (outputs / "performance.md").read_text()
    assert latest["run"]["id"] in doc
    assert "Not a complete run" not in doc


def test_a_crashed_section_makes_the_run_incomplete_and_fails(outputs: Path) -> None:
    bench_main.SECTIONS["memory"] = _section("crash", crash=True)
    assert bench_main.main([]) == 1
    assert not (outputs / "latest.json").exists()


def test_write_latest_refuses_a_partial_run(outputs: Path) -> None:
    with pytest.raises(ValueError, match="complete"):
        report.write_latest({"run": {"id": "x", "complete": False}})


def test_a_missed_goal_is_marked_in_the_page() -> None:
    results = {
        "run": {"id": "r1", "complete": True},
        "dispatch": {"ratio_vs_same_dict": 1.2, "run_id": "r1"},
    }
    assert report.evaluate(results)["dispatch.ratio_vs_same_dict"]["met"] is False
    assert "**NO**" in report.markdown(results)
