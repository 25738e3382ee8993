"""Command line: run the SDK's live tests against the emulator and write the report."""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .assets import ASSETS
from .categorize import EMULATOR_GAP, HARNESS, SDK_TEST_BUG, categorize_all
from .report import Outcome, Report, write_reports
from .run import RunOptions, RunOutput, execute

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CACHE = HERE / ".cache"
DEFAULT_JSON = HERE / "results" / "latest.json"
DEFAULT_MARKDOWN = REPO / "docs" / "sdk-live-tests.md"
EMULATOR_SRC_ENV = "SDK_LIVE_EMULATOR_SRC"
# Failures the harness cannot blame on the lack of a real Azure service.
_UNEXPECTED = (EMULATOR_GAP, HARNESS, SDK_TEST_BUG)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.sdk_live",
        description="Run the azure-ai-voicelive sdist's tests/live against the emulator.",
    )
    parser.add_argument(
        "--emulator-src",
        type=Path,
        default=os.environ.get(EMULATOR_SRC_ENV) or None,
        help="checkout whose voicelive_proactive.emulator serves the tests (its .venv python "
        f"if it has one); default: this checkout. Env: {EMULATOR_SRC_ENV}",
    )
    parser.add_argument(
        "-k", dest="select", default=None, help="only tests matching this pytest -k expression"
    )
    parser.add_argument(
        "--workers", "-n", type=int, default=8, help="parallel pytest workers (default 8)"
    )
    parser.add_argument(
        "--pace", type=float, default=4.0, help="emulator audio pace vs real time (default 4)"
    )
    parser.add_argument(
        "--reruns",
        action="store_true",
        help="install pytest-rerunfailures and honour the tests' flaky(reruns=3) marks "
        "(off by default: a pass should be a pass the first time)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=2_400.0,
        help="stop the pytest run after this many seconds (default 2400)",
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="downloads, venv")
    parser.add_argument("--sdk-version", default=None, help="default: the installed SDK's")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON report")
    parser.add_argument("--markdown", type=Path, default=None, help="where to write the Markdown")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a failure is an emulator gap, a harness fault or an SDK test bug",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return parser


def _wire_names() -> dict[str, str]:
    """``RESPONSE_AUDIO_DELTA`` -> ``response.audio.delta``, from the installed SDK."""
    try:
        from azure.ai.voicelive.models import ServerEventType
    except ImportError:  # the report is still right, with enum names instead of wire names
        return {}
    return {member.name: str(member.value) for member in ServerEventType}


def _default_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The tracked report files for a full run of this checkout; the cache otherwise."""
    if args.select or args.emulator_src or args.pytest_args:
        base = args.cache_dir / "reports"
        return args.json or base / "latest.json", args.markdown or base / "sdk-live-tests.md"
    return args.json or DEFAULT_JSON, args.markdown or DEFAULT_MARKDOWN


def build_report(output: RunOutput, args: argparse.Namespace, setup_seconds: float) -> Report:
    records = sorted(output.records, key=lambda record: record.nodeid)
    failures = categorize_all(((r.nodeid, r.outcome, r.longrepr) for r in records), _wire_names())
    outcomes = [
        Outcome(r.nodeid, r.outcome, r.duration, r.longrepr if r.outcome == "skipped" else "")
        for r in records
    ]
    source = output.source
    emulator = {
        "checkout": str(source.checkout) if source.checkout else "this checkout",
        "commit": source.commit,
        "dirty": source.dirty,
        "package": source.package_file,
        "python": str(source.python),
    }
    used = set(output.assets)
    assets = [
        {"name": spec.name, "format": spec.describe(), "why": spec.why}
        for spec in ASSETS
        if spec.name in used
    ]
    command = (
        "make sdk-tests"
        if not sys.argv[1:]
        else "python -m scripts.sdk_live " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])
    )
    return Report(
        sdk_version=output.sdk_version,
        emulator=emulator,
        voice=output.voice,
        settings={"workers": args.workers, "pace": args.pace, "reruns": args.reruns},
        command=command,
        seconds=output.seconds,
        setup_seconds=setup_seconds,
        generated_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        outcomes=outcomes,
        failures=failures,
        assets=assets,
        complete=not (args.select or args.pytest_args),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    options = RunOptions(
        cache_dir=args.cache_dir,
        emulator_src=args.emulator_src,
        workers=args.workers,
        pace=args.pace,
        reruns=args.reruns,
        select=args.select,
        timeout=args.timeout,
        sdk_version=args.sdk_version,
        extra_pytest_args=tuple(args.pytest_args),
    )
    print("sdk-live: preparing the sdist, the test venv and the assets ...", flush=True)
    output = execute(options, progress=lambda text: print(f"sdk-live: {text}", flush=True))
    setup_seconds = time.monotonic() - started - output.seconds
    report = build_report(output, args, setup_seconds)
    json_path, markdown_path = _default_paths(args)
    write_reports(report, json_path, markdown_path)
    totals = report.totals()
    for category, count in report.by_category().items():
        print(f"sdk-live: {count:4d} {category}")
    print(f"sdk-live: pytest log: {output.work_dir / 'pytest.log'}")
    print(f"sdk-live: report: {markdown_path} and {json_path}")
    print(
        f"sdk-live: tests took {output.seconds:.0f} s (setup {setup_seconds:.0f} s, "
        f"pytest exit {output.pytest_exit})"
    )
    print(
        f"{totals['passed']} passed, {totals['failed'] + totals['error']} failed, "
        f"{totals['skipped']} skipped"
    )
    if output.pytest_exit == -1:
        print(f"sdk-live: pytest was stopped after {args.timeout:.0f} s", file=sys.stderr)
        return 2
    if not output.records:
        print("sdk-live: pytest reported no test; see the log", file=sys.stderr)
        return 2
    unexpected = sum(1 for failure in report.failures if failure.category in _UNEXPECTED)
    return 1 if args.strict and unexpected else 0
