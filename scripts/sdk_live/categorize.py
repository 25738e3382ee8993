"""Sort the SDK live tests' outcomes into areas, and each failure into a category with a reason.

Pure functions of the test id and pytest's failure text, so they are unit-tested without a run.

Categories:

* ``emulator gap``: the emulator lacks a behaviour the test needs (the default for a failure
  in the test's own code against the emulator).
* ``needs exact ASR of recorded human speech``: the test can pass only if the service
  understands the words spoken in a recording (a transcript compared verbatim, a tool argument
  taken from the spoken question, filler words told apart from words). Listed per test below,
  with the assertion that needs it; a failure before that assertion is still reported with what
  failed first (``blocked_by``).
* ``needs avatar video``: the test needs the avatar's WebRTC video. None of the 1.3.1 live tests
  does (their "avatar" module asks for viseme ids and word timestamps, which are ordinary
  WebSocket events), so no test is listed; the category stays for later SDK versions.
* ``harness``: the failure is in this harness's stand-ins (the ``devtools_testutils`` stub, a
  synthesized asset) or the test could not be set up.
* ``SDK test bug``: the test is wrong whatever the service does. Listed per test, with why;
  none in 1.3.1 so far.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "AVATAR_VIDEO",
    "CATEGORIES",
    "EMULATOR_GAP",
    "EXACT_ASR",
    "HARNESS",
    "SDK_TEST_BUG",
    "Failure",
    "FailurePoint",
    "KnownLimit",
    "area_of",
    "categorize",
    "failure_point",
    "test_function",
]

EMULATOR_GAP = "emulator gap"
AVATAR_VIDEO = "needs avatar video"
EXACT_ASR = "needs exact ASR of recorded human speech"
HARNESS = "harness"
SDK_TEST_BUG = "SDK test bug"
CATEGORIES = (EMULATOR_GAP, EXACT_ASR, AVATAR_VIDEO, HARNESS, SDK_TEST_BUG)


@dataclass(frozen=True, slots=True)
class KnownLimit:
    """A test that cannot pass against an emulator, whatever it implements.

    ``assertion`` is a regular expression for the source line of the assertion that needs the
    real service; a failure elsewhere in the test is reported as what blocks it first.
    """

    category: str
    why: str
    assertion: str


_SPOKEN_LOCATION = (
    "the function arguments must name the city asked about in the recorded question "
    '({"location":"Beijing"}), which only recognising the speech gives'
)

KNOWN_LIMITS: Mapping[str, KnownLimit] = {
    "test_realtime_service_input_audio_transcription": KnownLimit(
        EXACT_ASR,
        "the transcript must equal the recorded question word for word "
        '("What\'s the largest lake in the world?")',
        r"transcript\.strip\(\) ==",
    ),
    "test_realtime_service_with_filler_word_removal": KnownLimit(
        EXACT_ASR,
        "no speech_started is expected for a recording of filler words only; telling 'um' "
        "from a short word needs recognising it",
        r"audio_segments == 0",
    ),
    "test_realtime_service_with_filler_word_removal_multilingual": KnownLimit(
        EXACT_ASR,
        "no speech_started is expected for a recording of filler words only; telling 'um' "
        "from a short word needs recognising it",
        r"audio_segments == 0",
    ),
    "test_realtime_service_tool_choice": KnownLimit(
        EXACT_ASR, _SPOKEN_LOCATION, r"function_done\.arguments"
    ),
    "test_realtime_service_tool_call_parameter": KnownLimit(
        EXACT_ASR,
        "the model must decide from the recorded question alone that it asks about the "
        "weather, and " + _SPOKEN_LOCATION.removeprefix("the "),
        r"function_done\.arguments|conversation_created = await _wait_for_match",
    ),
    "test_realtime_service_live_session_update": KnownLimit(
        EXACT_ASR,
        "get_weather must be called from the recorded question alone, and "
        + _SPOKEN_LOCATION.removeprefix("the "),
        r"function_call_output = await _wait_for_event|function_call_output\.(name|arguments)",
    ),
}

# Tests whose code is wrong whatever the service does: test function -> why. None in 1.3.1.
SDK_TEST_BUGS: Mapping[str, str] = {}

# Area of each test function; a module's default area otherwise.
_AREA_BY_FUNCTION: Mapping[str, str] = {
    "test_realtime_service_with_input_audio_format": "audio input formats",
    "test_realtime_service_with_input_audio_sampling_rate": "audio input formats",
    "test_output_formats_with_azure_voice": "audio output formats",
    "test_output_formats_with_openai_voice": "audio output formats",
    "test_realtime_service_with_audio_enhancements": "audio processing",
    "test_realtime_service_with_echo_cancellation": "audio processing",
    "test_write_loopback_audio_echo_cancellation": "audio processing",
    "test_realtime_service_with_audio_timestamp_viseme": "avatar and voice",
    "test_realtime_service_with_voice_properties": "avatar and voice",
    "test_realtime_service_input_audio_transcription": "transcription",
    "test_realtime_service_with_filler_word_removal": "turn detection",
    "test_realtime_service_with_filler_word_removal_multilingual": "turn detection",
}
_AREA_BY_MODULE: Mapping[str, str] = {
    "basic": "session",
    "lifecycle": "lifecycle",
    "telemetry": "telemetry",
    "tools": "tools",
    "transcription": "transcription",
    "turn_detection": "turn detection",
    "audio": "audio processing",
    "avatar": "avatar and voice",
}


def test_function(nodeid: str) -> str:
    """``tests/live/m.py::Class::test_x[param]`` -> ``test_x``."""
    return nodeid.rsplit("::", 1)[-1].split("[", 1)[0]


test_function.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _module(nodeid: str) -> str:
    stem = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return stem.removeprefix("test_live_realtime_").removeprefix("test_")


def area_of(nodeid: str) -> str:
    """The report's grouping of a test: what part of the service it exercises."""
    function = test_function(nodeid)
    if function in _AREA_BY_FUNCTION:
        return _AREA_BY_FUNCTION[function]
    module = _module(nodeid)
    return _AREA_BY_MODULE.get(module, module.replace("_", " "))


@dataclass(frozen=True, slots=True)
class FailurePoint:
    """Where a test failed: its own failing statement, and the exception pytest reported."""

    statement: str  # the test's source at the failing line ("" if not found)
    location: str  # "tests/live/test_x.py:123" ("" if not found)
    error: str  # the first line of the final exception block, e.g. "assert 0 > 0"
    detail: str  # the line after it, e.g. "+  where 0 = len([])" ("" if none)


_LOCATION = re.compile(r"^(?P<path>[\w./\\-]+\.py):(?P<line>\d+):(?P<rest>.*)$")
_TEST_MODULE = re.compile(r"(^|[/\\])test_[\w]*\.py$")


def _statement_after(lines: Sequence[str], start: int) -> str:
    """A statement printed from ``lines[start]`` on, continuation lines included."""
    first = lines[start].lstrip(">").strip()
    parts = [first]
    depth = first.count("(") + first.count("[") + first.count("{")
    depth -= first.count(")") + first.count("]") + first.count("}")
    index = start + 1
    while depth > 0 and index < len(lines) and lines[index].strip():
        line = lines[index].strip()
        parts.append(line)
        depth += line.count("(") + line.count("[") + line.count("{")
        depth -= line.count(")") + line.count("]") + line.count("}")
        index += 1
    return " ".join(parts)


def failure_point(longrepr: str) -> FailurePoint:
    """The test's failing statement and the final exception, from pytest's long report."""
    lines = longrepr.splitlines()
    statement, location = "", ""
    for index, line in enumerate(lines):
        match = _LOCATION.match(line)
        if not match or not _TEST_MODULE.search(match["path"]):
            continue
        location = f"{match['path']}:{match['line']}"
        if match["rest"].strip().startswith("in ") and index + 1 < len(lines):
            statement = _statement_after(lines, index + 1)  # short style: source follows
            continue
        for back in range(index - 1, -1, -1):  # long style: the ">" line comes before
            if lines[back].startswith(">"):
                statement = _statement_after(lines, back)
                break
    error, detail = "", ""
    blocks: list[list[str]] = []
    previous_was_error = False
    for line in lines:
        is_error = line.startswith("E ") or line == "E"
        if is_error:
            if not previous_was_error:
                blocks.append([])
            blocks[-1].append(line[1:].strip())
        previous_was_error = is_error
    if blocks:
        final = [line for line in blocks[-1] if line]
        error = final[0] if final else ""
        detail = final[1] if len(final) > 1 else ""
    if not error and lines:
        error = lines[-1].strip()
    return FailurePoint(statement, location, error, detail)


_EVENT_NAME = re.compile(r"ServerEventType\.([A-Z0-9_]+)")


def _event_names(statement: str, wire_names: Mapping[str, str]) -> list[str]:
    names = _EVENT_NAME.findall(statement)
    return [wire_names.get(name, name.lower()) for name in names]


def _describe(point: FailurePoint, wire_names: Mapping[str, str]) -> str:
    """One line: what the test was doing when it failed, and how it failed."""
    code = point.statement or "(test code not found)"
    if len(code) > 160:
        code = code[:157] + "..."
    error = point.error
    if error.endswith("TimeoutError") or error == "TimeoutError":
        events = _event_names(point.statement, wire_names)
        waited = f"no {' / '.join(events)} arrived" if events else "timed out"
        return f"{waited}: `{code}`"
    if error.startswith("assert"):
        extra = f" ({point.detail})" if point.detail.startswith("+") else ""
        return f"`{code}` -> {error}{extra}"
    return f"{error} at `{code}`"


# Code of the harness itself: a failure raised there is the harness's.
_HARNESS_CODE = re.compile(r"devtools_testutils|sdk_live_collector")
# An asset the harness should have synthesized but did not.
_MISSING_ASSET = re.compile(r"(FileNotFoundError|No such file or directory).*[/\\]asset[/\\]")


def _last_location(longrepr: str) -> str:
    found = ""
    for line in longrepr.splitlines():
        match = _LOCATION.match(line)
        if match:
            found = match["path"]
    return found


def _is_harness(outcome: str, longrepr: str) -> bool:
    if _HARNESS_CODE.search(_last_location(longrepr)) or _MISSING_ASSET.search(longrepr):
        return True
    # An error outside the test's own call: a fixture could not be set up or torn down.
    return outcome == "error"


@dataclass(frozen=True, slots=True)
class Failure:
    nodeid: str
    area: str
    outcome: str
    category: str
    reason: str
    blocked_by: str = ""  # when a known limit's test failed earlier: that first failure
    location: str = ""


def categorize(
    nodeid: str, outcome: str, longrepr: str, wire_names: Mapping[str, str] | None = None
) -> Failure:
    """The category and one-line reason of a failed (or errored) test."""
    names = wire_names or {}
    point = failure_point(longrepr)
    described = _describe(point, names)
    area = area_of(nodeid)
    function = test_function(nodeid)

    def failure(category: str, reason: str, blocked_by: str = "") -> Failure:
        return Failure(nodeid, area, outcome, category, reason, blocked_by, point.location)

    if _is_harness(outcome, longrepr):
        return failure(HARNESS, described)
    if function in SDK_TEST_BUGS:
        return failure(SDK_TEST_BUG, SDK_TEST_BUGS[function])
    limit = KNOWN_LIMITS.get(function)
    if limit is not None:
        if re.search(limit.assertion, point.statement):
            return failure(limit.category, f"{limit.why} [{described}]")
        return failure(limit.category, limit.why, blocked_by=f"{EMULATOR_GAP}: {described}")
    return failure(EMULATOR_GAP, described)


def categorize_all(
    records: Iterable[tuple[str, str, str]], wire_names: Mapping[str, str] | None = None
) -> list[Failure]:
    """``categorize`` for each ``(nodeid, outcome, longrepr)`` that failed or errored."""
    return [
        categorize(nodeid, outcome, longrepr, wire_names)
        for nodeid, outcome, longrepr in records
        if outcome in ("failed", "error")
    ]
