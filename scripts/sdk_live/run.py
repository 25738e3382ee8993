"""One end-to-end run: sdist, test venv, assets, emulator, pytest; returns the raw results."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .assets import build_assets, install_assets, voice_engine
from .emulator import EmulatorProcess, EmulatorSource, resolve_source
from .sdist import download_sdist, extract_sdist, installed_sdk_version
from .testenv import TestEnv, requirements

__all__ = ["RunOptions", "RunOutput", "TestRecord", "execute"]

HERE = Path(__file__).resolve().parent
STUB_DIR = HERE / "stub"
PLUGIN_DIR = HERE / "pytest_plugins"

# The SDK's tests carry no pytest configuration of their own (upstream's lives at the root of
# azure-sdk-for-python); this keeps the project's own pytest settings out of the run.
_PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
markers =
    live_test_only: runs only against a live service
    playback_test_only: runs only against recordings
    flaky: retried by pytest-rerunfailures when it is installed
"""


@dataclass(frozen=True, slots=True)
class RunOptions:
    cache_dir: Path
    emulator_src: Path | None = None
    workers: int = 6
    pace: float = 4.0
    reruns: bool = False
    select: str | None = None  # pytest -k expression
    timeout: float = 2_400.0  # seconds for the whole pytest run
    sdk_version: str | None = None
    extra_pytest_args: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One test's final outcome, as the collector plugin saw it."""

    __test__ = False

    nodeid: str
    outcome: str  # passed | failed | error | skipped | xfailed | xpassed
    duration: float
    longrepr: str
    reruns: int = 0


@dataclass
class RunOutput:
    sdk_version: str
    source: EmulatorSource
    voice: str
    assets: list[str]
    records: list[TestRecord]
    seconds: float
    pytest_exit: int
    command: list[str] = field(default_factory=list)
    work_dir: Path = Path()


_RANK = {"error": 4, "failed": 3, "xpassed": 2, "passed": 1, "xfailed": 1, "skipped": 0}


def read_records(path: Path) -> list[TestRecord]:
    """Collapse the collector's JSON lines (one per phase and attempt) into one per test."""
    final: dict[str, TestRecord] = {}
    reruns: dict[str, int] = {}
    if not path.is_file():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        nodeid = str(raw["nodeid"])
        outcome = str(raw["outcome"])
        if outcome == "rerun":
            reruns[nodeid] = reruns.get(nodeid, 0) + 1
            final.pop(nodeid, None)  # a new attempt starts from scratch
            continue
        record = TestRecord(nodeid, outcome, float(raw["duration"]), str(raw["longrepr"]))
        previous = final.get(nodeid)
        if previous is None or _RANK.get(outcome, 0) > _RANK.get(previous.outcome, 0):
            final[nodeid] = record
    return [
        TestRecord(r.nodeid, r.outcome, r.duration, r.longrepr, reruns.get(r.nodeid, 0))
        for r in final.values()
    ]


def _pytest_command(env: TestEnv, root: Path, options: RunOptions) -> list[str]:
    command = [
        str(env.python),
        "-m",
        "pytest",
        "tests/live",
        "-c",
        str(root / "sdk-live-pytest.ini"),
        "--rootdir",
        str(root),
        "-p",
        "sdk_live_collector",
        "--continue-on-collection-errors",  # one module that fails to import is one error
        "-q",
        "-rN",
        "--no-header",
        "-o",
        "console_output_style=classic",
    ]
    if options.workers > 1:
        command += ["-n", str(options.workers)]
    if not options.reruns:
        command += ["-p", "no:rerunfailures"]
    if options.select:
        command += ["-k", options.select]
    return [*command, *options.extra_pytest_args]


_KEEP_RUNS = 3


def _alive(run: Path) -> bool:
    """Whether the harness process that made ``run`` is still running."""
    try:
        pid = int((run / "pid").read_text(encoding="utf-8"))
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _run_dir(work: Path) -> Path:
    """A folder of this run's own: runs may overlap. Old finished runs beyond a few go."""
    work.mkdir(parents=True, exist_ok=True)
    runs = sorted(work.glob("run-*"), key=lambda path: path.stat().st_mtime)
    finished = [run for run in runs if not _alive(run)]
    for old in finished[: max(0, len(finished) - _KEEP_RUNS + 1)]:
        shutil.rmtree(old, ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run = Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=work))
    (run / "pid").write_text(str(os.getpid()), encoding="utf-8")
    return run


def _run_pytest(
    command: list[str], root: Path, env: dict[str, str], log: IO[str], timeout: float
) -> int:
    """pytest's exit code; past ``timeout`` its whole process group is ended (exit -1)."""
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.write(f"\nsdk-live: pytest ran past {timeout:.0f} s and was stopped\n")
        for signum, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 15.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)  # pytest and its xdist workers, nothing else
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
                break
        return -1


def _quiet(_text: str) -> None:
    pass


def execute(options: RunOptions, progress: Callable[[str], None] = _quiet) -> RunOutput:
    """Prepare everything (reusing the cache), run the tests, and return their outcomes."""
    cache = options.cache_dir.resolve()
    version = options.sdk_version or installed_sdk_version()
    archive = download_sdist(version, cache / "dist")
    root = extract_sdist(archive, _run_dir(cache / "work"))
    progress(f"sdist {archive.name}: tests extracted to {root}")
    env = TestEnv(cache / f"venv-{version}", requirements(version, reruns=options.reruns))
    env.ensure()
    progress(f"test venv ready: {env.path}")
    assets = install_assets(build_assets(cache, env.python), root / "tests" / "asset")
    progress(f"{len(assets)} synthesized assets ({voice_engine()}) in tests/asset")
    (root / "sdk-live-pytest.ini").write_text(_PYTEST_INI, encoding="utf-8")
    source = resolve_source(options.emulator_src)
    results = root / "results.jsonl"
    command = _pytest_command(env, root, options)
    started = time.monotonic()
    with EmulatorProcess(source, root / "emulator.log", pace=options.pace) as emulator:
        progress(f"emulator from {source.package_file} at {emulator.endpoint}; running pytest")
        test_env = {
            **os.environ,
            # Exactly what upstream's live runs set: live mode, the endpoint and the key.
            "AZURE_TEST_RUN_LIVE": "true",
            "AZURE_SKIP_LIVE_RECORDING": "true",
            "VOICELIVE_OPENAI_ENDPOINT": emulator.endpoint,
            "VOICELIVE_OPENAI_API_KEY": emulator.api_key,
            "PYTHONPATH": os.pathsep.join([str(STUB_DIR), str(PLUGIN_DIR)]),
            "SDK_LIVE_RESULTS": str(results),
        }
        test_env.pop("PYTHONSAFEPATH", None)
        with (root / "pytest.log").open("w", encoding="utf-8") as log:
            exit_code = _run_pytest(command, root, test_env, log, options.timeout)
    seconds = time.monotonic() - started
    return RunOutput(
        sdk_version=version,
        source=source,
        voice=voice_engine(),
        assets=assets,
        records=read_records(results),
        seconds=seconds,
        pytest_exit=exit_code,
        command=command,
        work_dir=root,
    )
