"""The SDK live-test harness's own logic (scripts/sdk_live): fast, no network, no sdist."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import os
import subprocess
import sys
import tarfile
import wave
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from scripts.sdk_live import categorize as cat
from scripts.sdk_live.assets import ASSETS, AssetSpec, Segment, build_assets, render_pcm16
from scripts.sdk_live.cli import DEFAULT_JSON, DEFAULT_MARKDOWN, _default_paths, _parser
from scripts.sdk_live.emulator import EmulatorProcess, resolve_source
from scripts.sdk_live.report import Outcome, Report, area_table, render_markdown, write_reports
from scripts.sdk_live.run import PLUGIN_DIR, STUB_DIR, _run_dir, read_records
from scripts.sdk_live.sdist import extract_sdist

TOOLS = "tests/live/test_live_realtime_tools.py::TestRealtimeServiceTools::"
AUDIO = "tests/live/test_live_realtime_audio.py::TestRealtimeServiceAudio::"
TRANSCRIPTION = "tests/live/test_live_realtime_transcription.py::TestRealtimeServiceTranscription::"
WIRE = {
    "RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE": "response.function_call_arguments.done",
    "SESSION_UPDATED": "session.updated",
    "CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_COMPLETED": (
        "conversation.item.input_audio_transcription.completed"
    ),
}

# Shapes of pytest's failure text, as the collector records it (trimmed).
TIMEOUT_LONG = """\
            response_created = await _wait_for_event(conn, {ServerEventType.RESPONSE_CREATED})

>           function_done = await _wait_for_event(
                conn, {ServerEventType.RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE}
            )

tests/live/test_live_realtime_tools.py:266: \n\
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n\
tests/live/_live_helpers.py:53: in _wait_for_event
    return await asyncio.wait_for(_next(), timeout=timeout_s)
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n\
                try:
                    return fut.result()
                except exceptions.CancelledError as exc:
>                   raise exceptions.TimeoutError() from exc
E                   TimeoutError

/usr/lib/python3.11/asyncio/tasks.py:502: TimeoutError
"""
ASSERT_LONG = """\
>           assert function_done.arguments in ['{"location":"北京"}', '{"location":"Beijing"}']
E           assert '{"location":"Paris"}' in ['{"location":"北京"}', '{"location":"Beijing"}']
E            +  where '{"location":"Paris"}' = <event>.arguments

tests/live/test_live_realtime_tools.py:271: AssertionError
"""
EARLY_ASSERT = """\
>           assert isinstance(conversation_created, ServerEventConversationItemCreated)
E           assert False
E            +  where False = isinstance(None, ServerEventConversationItemCreated)

tests/live/test_live_realtime_tools.py:184: AssertionError
"""
SHORT_STYLE = """\
tests/live/test_live_realtime_audio.py:245: in test_realtime_service_with_input_audio_sampling_rate
    session_updated = await _wait_for_event(conn, {ServerEventType.SESSION_UPDATED}, 10)
tests/live/_live_helpers.py:53: in _wait_for_event
    return await asyncio.wait_for(_next(), timeout=timeout_s)
E   TimeoutError
"""
MISSING_ASSET = """\
tests/live/_live_helpers.py:17: in _load_audio_b64
    with open(path, "rb") as f:
E   FileNotFoundError: [Errno 2] No such file or directory: '/x/tests/asset/new_file.wav'
"""
STUB_FAULT = """\
scripts/sdk_live/stub/devtools_testutils/__init__.py:101: in run_with_values
    arguments = _accepted_kwargs(test, {**kwargs, **self.values()})
E   KeyError: 'live tests need the environment variables VOICELIVE_OPENAI_ENDPOINT'
"""


# -- failure text --------------------------------------------------------------------------


def test_failure_point_finds_the_tests_own_statement_across_helper_frames() -> None:
    point = cat.failure_point(TIMEOUT_LONG)
    assert point.location == "tests/live/test_live_realtime_tools.py:266"
    assert point.statement == (
        "function_done = await _wait_for_event( "
        "conn, {ServerEventType.RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE} )"
    )
    assert point.error == "TimeoutError"


def test_failure_point_reads_short_style_frames() -> None:
    point = cat.failure_point(SHORT_STYLE)
    assert point.location == "tests/live/test_live_realtime_audio.py:245"
    assert point.statement.startswith("session_updated = await _wait_for_event(")
    assert point.error == "TimeoutError"


def test_failure_point_keeps_the_assertion_and_its_explanation() -> None:
    point = cat.failure_point(EARLY_ASSERT)
    assert point.error == "assert False"
    assert point.detail == "+  where False = isinstance(None, ServerEventConversationItemCreated)"


# -- categories ----------------------------------------------------------------------------


def test_an_unexplained_failure_is_an_emulator_gap_naming_the_missing_event() -> None:
    failure = cat.categorize(
        AUDIO + "test_realtime_service_with_input_audio_sampling_rate[2025-10-01-x]",
        "failed",
        SHORT_STYLE,
        WIRE,
    )
    assert failure.category == cat.EMULATOR_GAP
    assert failure.reason.startswith("no session.updated arrived: `session_updated = await")
    assert failure.area == "audio input formats"
    assert failure.blocked_by == ""


def test_a_known_limit_failing_at_its_assertion_is_that_limit() -> None:
    failure = cat.categorize(
        TOOLS + "test_realtime_service_tool_choice[2025-10-01-gpt-4o]", "failed", ASSERT_LONG
    )
    assert failure.category == cat.EXACT_ASR
    assert "Beijing" in failure.reason
    assert failure.blocked_by == ""


def test_a_known_limit_failing_earlier_says_what_blocks_it_first() -> None:
    failure = cat.categorize(
        TOOLS + "test_realtime_service_tool_choice[2025-10-01-gpt-4o]", "failed", EARLY_ASSERT
    )
    assert failure.category == cat.EXACT_ASR
    assert failure.blocked_by.startswith(cat.EMULATOR_GAP + ": `assert isinstance(")


def test_a_transcription_timeout_is_blocked_by_the_missing_event_then_needs_asr() -> None:
    longrepr = TIMEOUT_LONG.replace(
        "RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE",
        "CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_COMPLETED",
    ).replace("test_live_realtime_tools.py", "test_live_realtime_transcription.py")
    failure = cat.categorize(
        TRANSCRIPTION + "test_realtime_service_input_audio_transcription[x]",
        "failed",
        longrepr,
        WIRE,
    )
    assert failure.category == cat.EXACT_ASR
    assert "conversation.item.input_audio_transcription.completed" in failure.blocked_by
    assert failure.area == "transcription"


@pytest.mark.parametrize(
    ("outcome", "longrepr"),
    [("failed", MISSING_ASSET), ("failed", STUB_FAULT), ("error", "fixture 'x' not found")],
    ids=["missing-asset", "stub-raised", "setup-error"],
)
def test_faults_of_the_harness_are_not_blamed_on_the_emulator(outcome: str, longrepr: str) -> None:
    failure = cat.categorize(TOOLS + "test_realtime_service_tool_call[a]", outcome, longrepr)
    assert failure.category == cat.HARNESS


def test_only_failures_and_errors_are_categorized() -> None:
    failures = cat.categorize_all(
        [
            (TOOLS + "t[a]", "passed", ""),
            (TOOLS + "t[b]", "skipped", "why"),
            (TOOLS + "t[c]", "failed", EARLY_ASSERT),
        ]
    )
    assert [failure.nodeid for failure in failures] == [TOOLS + "t[c]"]


def test_areas_group_by_what_the_test_exercises() -> None:
    assert cat.area_of(TOOLS + "test_realtime_service_tool_call[x]") == "tools"
    assert cat.area_of(AUDIO + "test_output_formats_with_azure_voice[x]") == "audio output formats"
    assert (
        cat.area_of(AUDIO + "test_write_loopback_audio_echo_cancellation[y]") == "audio processing"
    )
    filler = TRANSCRIPTION + "test_realtime_service_with_filler_word_removal[z]"
    assert cat.area_of(filler) == "turn detection"
    assert cat.area_of("tests/live/test_live_realtime_new_thing.py::T::test_a") == "new thing"
    assert cat.test_function(filler) == "test_realtime_service_with_filler_word_removal"


def test_every_known_limit_names_a_category_and_the_assertion_that_needs_it() -> None:
    for function, limit in cat.KNOWN_LIMITS.items():
        assert limit.category in cat.CATEGORIES, function
        assert limit.why and limit.assertion, function


# -- collected records ---------------------------------------------------------------------


def _jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_records_collapse_phases_and_reruns_into_one_outcome_per_test(tmp_path: Path) -> None:
    def rec(nodeid: str, when: str, outcome: str, text: str = "") -> dict[str, Any]:
        return {
            "nodeid": nodeid,
            "when": when,
            "outcome": outcome,
            "duration": 1.0,
            "longrepr": text,
        }

    path = _jsonl(
        tmp_path / "r.jsonl",
        rec("a", "call", "passed"),
        rec("b", "call", "passed"),
        rec("b", "teardown", "error", "boom"),
        rec("c", "call", "rerun", "first try"),
        rec("c", "call", "passed"),
        rec("d", "setup", "skipped", "live test only"),
    )
    records = {record.nodeid: record for record in read_records(path)}
    assert {nodeid: r.outcome for nodeid, r in records.items()} == {
        "a": "passed",
        "b": "error",
        "c": "passed",
        "d": "skipped",
    }
    assert records["b"].longrepr == "boom"
    assert records["c"].reruns == 1
    assert read_records(tmp_path / "missing.jsonl") == []


def test_the_collector_plugin_records_every_kind_of_outcome(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_bad(): assert 1 == 2\n"
        "def test_skip(): pytest.skip('not here')\n"
        "@pytest.fixture\n"
        "def broken(): raise RuntimeError('fixture broke')\n"
        "def test_setup(broken): pass\n",
        encoding="utf-8",
    )
    (tmp_path / "test_broken_import.py").write_text("import no_such_module_here\n")
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "SDK_LIVE_RESULTS": str(results), "PYTHONPATH": str(PLUGIN_DIR)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "sdk_live_collector",
        "-p",
        "no:cacheprovider",
    ]
    command += [
        "--continue-on-collection-errors",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    ]
    subprocess.run(
        [*command, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, check=False
    )
    outcomes = {r.nodeid.rsplit("::", 1)[-1]: r for r in read_records(results)}
    assert outcomes["test_ok"].outcome == "passed"
    assert outcomes["test_bad"].outcome == "failed"
    assert "assert 1 == 2" in outcomes["test_bad"].longrepr
    assert outcomes["test_skip"].outcome == "skipped"
    assert outcomes["test_skip"].longrepr == "not here"
    assert outcomes["test_setup"].outcome == "error"
    assert outcomes["test_broken_import.py"].outcome == "error"


# -- report --------------------------------------------------------------------------------


def _report(
    outcomes: list[Outcome], failures: list[cat.Failure], *, complete: bool = True
) -> Report:
    return Report(
        sdk_version="9.9.9",
        emulator={"commit": "0123456789abcdef", "dirty": False},
        voice="espeak-ng",
        settings={"workers": 8, "pace": 4.0, "reruns": False},
        command="make sdk-tests",
        seconds=372.4,
        setup_seconds=31.0,
        generated_at="2026-01-01 00:00 UTC",
        outcomes=outcomes,
        failures=failures,
        assets=[{"name": "a.wav", "format": "WAV, PCM16 24 kHz", "why": "two | turns"}],
        complete=complete,
    )


def test_the_report_counts_per_area_and_lists_each_failure_with_its_category(
    tmp_path: Path,
) -> None:
    bad = TOOLS + "test_realtime_service_tool_call[2025-10-01-gpt-4o]"
    outcomes = [
        Outcome(TOOLS + "test_realtime_service_tool_call[ok]", "passed", 1.0),
        Outcome(bad, "failed", 10.0),
        Outcome(AUDIO + "test_output_formats_with_azure_voice[x]", "passed", 1.0),
        Outcome(TOOLS + "test_realtime_service_tool_choice[r]", "skipped", 0.0, "not supported"),
        Outcome(TOOLS + "test_realtime_service_tool_choice[p]", "passed", 1.0),
    ]
    failures = cat.categorize_all([(bad, "failed", EARLY_ASSERT)])
    report = _report(outcomes, failures)
    assert report.totals() == {"passed": 3, "failed": 1, "error": 0, "skipped": 1, "total": 5}
    assert area_table(outcomes) == [
        {
            "area": "audio output formats",
            "passed": 1,
            "failed": 0,
            "error": 0,
            "skipped": 0,
            "total": 1,
        },
        {"area": "tools", "passed": 2, "failed": 1, "error": 0, "skipped": 1, "total": 4},
    ]
    markdown = render_markdown(report)
    assert markdown.startswith("<!-- Generated by `make sdk-tests`")
    assert "**This page is generated**" in markdown
    assert "| tools | 2 | 1 | 0 | 1 | 4 |" in markdown
    assert "| **all** | **3** | 1 | 0 | 1 | 5 |" in markdown
    assert "### emulator gap (1)" in markdown
    assert "`tools::test_realtime_service_tool_call[2025-10-01-gpt-4o]`" in markdown
    assert "6 min 12 s" in markdown
    assert "two \\| turns" in markdown  # table cells are escaped
    # A test listed as needing the real service that passed anyway is pointed out.
    assert "`tools::test_realtime_service_tool_choice[p]`" in markdown
    assert "Partial run" not in markdown

    json_path, md_path = tmp_path / "r" / "latest.json", tmp_path / "docs" / "page.md"
    write_reports(report, json_path, md_path)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["totals"]["passed"] == 3
    assert data["by_category"] == {cat.EMULATOR_GAP: 1}
    assert data["failures"][0]["nodeid"] == bad
    assert data["skipped"] == [
        {"nodeid": TOOLS + "test_realtime_service_tool_choice[r]", "reason": "not supported"}
    ]
    assert data["passed_known_limits"] == [TOOLS + "test_realtime_service_tool_choice[p]"]
    assert md_path.read_text(encoding="utf-8") == markdown


def test_a_partial_run_says_so_and_does_not_overwrite_the_tracked_report(tmp_path: Path) -> None:
    assert "Partial run" in render_markdown(_report([], [], complete=False))
    full = _parser().parse_args([])
    assert _default_paths(full) == (DEFAULT_JSON, DEFAULT_MARKDOWN)
    subset = _parser().parse_args(["-k", "tools", "--cache-dir", str(tmp_path)])
    assert _default_paths(subset) == (
        tmp_path / "reports" / "latest.json",
        tmp_path / "reports" / "sdk-live-tests.md",
    )
    other = _parser().parse_args(["--emulator-src", str(tmp_path), "--cache-dir", str(tmp_path)])
    assert _default_paths(other)[1].parent == tmp_path / "reports"


# -- the devtools_testutils stub -----------------------------------------------------------


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(STUB_DIR))
    for name in [name for name in sys.modules if name.startswith("devtools_testutils")]:
        monkeypatch.delitem(sys.modules, name)
    import devtools_testutils

    yield devtools_testutils
    for name in [name for name in sys.modules if name.startswith("devtools_testutils")]:
        monkeypatch.delitem(sys.modules, name)


def _loader(stub: ModuleType) -> Any:
    return stub.EnvironmentVariableLoader(
        "voicelive",
        voicelive_openai_endpoint="fake_endpoint",
        voicelive_openai_api_key="fake_api_key",
    )


class _Case:
    pass


def test_the_stub_passes_the_endpoint_and_key_from_the_environment_when_live(
    stub: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TEST_RUN_LIVE", "true")
    monkeypatch.setenv("VOICELIVE_OPENAI_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("VOICELIVE_OPENAI_API_KEY", "k")
    seen: dict[str, Any] = {}

    async def test_x(self: _Case, model: str, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        seen.update(kwargs, model=model)

    wrapped = _loader(stub)(test_x)
    # pytest reads the test's own signature through the wrapper, to pick fixtures and params.
    assert list(inspect.signature(wrapped).parameters) == ["self", "model", "kwargs"]
    assert not inspect.iscoroutinefunction(wrapped)
    wrapped(_Case(), model="gpt-realtime")
    assert seen == {
        "model": "gpt-realtime",
        "voicelive_openai_endpoint": "http://127.0.0.1:1",
        "voicelive_openai_api_key": "k",
    }
    assert stub.is_live()


def test_the_stub_refuses_a_live_run_without_the_variables(
    stub: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TEST_RUN_LIVE", "yes")
    monkeypatch.delenv("VOICELIVE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("VOICELIVE_OPENAI_API_KEY", raising=False)

    def test_y(self: _Case, **kwargs: Any) -> None:
        raise AssertionError("must not run")

    with pytest.raises(KeyError, match="VOICELIVE_OPENAI_ENDPOINT"):
        _loader(stub)(test_y)(_Case())


def test_the_stub_uses_the_fake_values_when_not_live(
    stub: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TEST_RUN_LIVE", raising=False)
    seen: dict[str, Any] = {}

    def test_z(self: _Case, voicelive_openai_endpoint: str) -> None:
        seen["endpoint"] = voicelive_openai_endpoint  # no **kwargs: only what it accepts

    _loader(stub)(test_z)(_Case())
    assert seen == {"endpoint": "fake_endpoint"}
    assert not stub.is_live()
    assert stub.recorded_by_proxy(test_z) is test_z


# -- assets --------------------------------------------------------------------------------


def _voiced_span_ms(pcm: bytes, rate: int) -> tuple[int, int]:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frame = rate // 50
    frames = samples[: samples.size // frame * frame].reshape(-1, frame)
    voiced = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) >= 32768 * 10 ** (-35 / 20))
    return int(voiced[0]) * 20, (int(voiced[-1]) + 1) * 20


@pytest.mark.parametrize("rate", [8_000, 16_000, 24_000, 44_100])
def test_the_lake_question_ends_where_the_sdk_test_expects_speech_to_stop(rate: int) -> None:
    # The test expects speech_stopped at 1680 +- 50 ms with a 200 ms end-of-turn silence.
    spec = next(spec for spec in ASSETS if spec.name == "largest_lake.wav")
    pcm = render_pcm16(spec.segments, rate)
    assert len(pcm) // 2 == pytest.approx(1.68 * rate, abs=2)
    start, end = _voiced_span_ms(pcm, rate)
    assert start <= 120  # speech_started.audio_start_ms == 0 with the default 300 ms padding
    assert end == pytest.approx(1480, abs=40)


def test_assets_are_written_in_the_formats_the_tests_read(tmp_path: Path) -> None:
    specs = [spec for spec in ASSETS if spec.container != "mp3"]
    folder = build_assets(tmp_path, Path("/nonexistent/python"), specs)
    for spec in specs:
        data = (folder / spec.name).read_bytes()
        if spec.container == "wav":
            with wave.open(io.BytesIO(data)) as wav:
                assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (
                    spec.sample_rate,
                    1,
                    2,
                ), spec.name
        else:  # raw G.711: one byte a sample at 8 kHz
            assert len(data) == pytest.approx(1.68 * 8_000, abs=2), spec.name
    two_turns = (folder / "4-1.wav").read_bytes()[44:]
    assert len(_split_voiced(two_turns)) == 2
    # Built once: a second call reuses the folder.
    assert build_assets(tmp_path, Path("/nonexistent/python"), specs) == folder


def _split_voiced(pcm: bytes) -> list[tuple[int, int]]:
    """Voiced spans separated by more than 500 ms of quiet (a default server VAD's turns)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: samples.size // 480 * 480].reshape(-1, 480)
    voiced = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) >= 583)
    spans: list[tuple[int, int]] = []
    for index in voiced:
        if spans and index - spans[-1][1] <= 25:
            spans[-1] = (spans[-1][0], int(index))
        else:
            spans.append((int(index), int(index)))
    return spans


def test_a_spec_describes_its_format() -> None:
    assert AssetSpec("x.wav", (Segment(None, 1.0),)).describe() == "WAV, PCM16 24 kHz"
    raw = AssetSpec("x.alaw", (), sample_rate=8_000, container="raw", encoding="g711_alaw")
    assert raw.describe() == "raw G.711 A-law 8 kHz"


# -- sdist and emulator --------------------------------------------------------------------


def _tarball(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return path


def test_the_sdist_is_extracted_afresh_with_its_tests(tmp_path: Path) -> None:
    archive = _tarball(tmp_path / "p-1.tar.gz", ["p-1/tests/live/test_a.py", "p-1/setup.cfg"])
    work = tmp_path / "work"
    root = extract_sdist(archive, work)
    assert root == work / "p-1"
    (root / "tests" / "live" / "test_a.py").write_text("edited")
    root = extract_sdist(archive, work)
    assert (root / "tests" / "live" / "test_a.py").read_text() == "x"  # pristine again
    with pytest.raises(ValueError, match="one top folder"):
        extract_sdist(_tarball(tmp_path / "two.tar.gz", ["a/tests/live/x", "b/y"]), work)


def test_the_emulator_process_announces_its_endpoint_and_stops(tmp_path: Path) -> None:
    source = resolve_source(None)
    assert source.package_file.endswith("voicelive_proactive/__init__.py")
    with EmulatorProcess(source, tmp_path / "emulator.log", pace=0.0) as emulator:
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        process = emulator._process
        assert process is not None and process.poll() is None
    assert process.poll() == 0  # SIGTERM: a clean shutdown


def test_another_checkout_must_hold_the_emulator(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no voicelive_proactive/emulator"):
        resolve_source(tmp_path)


def test_old_finished_runs_are_removed_but_a_running_one_is_kept(tmp_path: Path) -> None:
    work = tmp_path / "work"
    running = work / "run-0-running"
    running.mkdir(parents=True)
    (running / "pid").write_text(str(os.getpid()))  # this process: alive
    finished = []
    for index in range(5):
        folder = work / f"run-{index + 1}-done"
        folder.mkdir()
        (folder / "pid").write_text("999999999")  # no such process
        os.utime(folder, (1_000 + index, 1_000 + index))
        finished.append(folder)
    os.utime(running, (1, 1))  # the oldest of all
    new = _run_dir(work)
    assert (new / "pid").read_text() == str(os.getpid())
    assert running.is_dir()
    assert [folder.is_dir() for folder in finished] == [False, False, False, True, True]
