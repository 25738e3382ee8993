"""The LiveKit side-by-side without LiveKit: the sink's clock, the summary's rules, the report.

Run with ``.venv/bin/pytest -q benchmarks/tests`` (LiveKit itself is never imported here).
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import report
from benchmarks.peers import common, summary
from benchmarks.peers import report as peers_report

MS = 1_000_000  # ns


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_the_sink_plays_by_the_clock_and_skip_drops_only_the_unplayed_rest() -> None:
    clock = Clock()
    sink = common.PacedSink(clock)
    sink.queue(bytes(48 * 100))  # 100 ms
    assert sink.first_ns == 0
    clock.now = 40 * MS
    assert sink.played() == 48 * 40
    sink.queue(bytes(48 * 100))  # queued behind: plays 100-200 ms
    clock.now = 150 * MS
    assert sink.played() == 48 * 150
    assert sink.skip() == 48 * 50
    clock.now = 500 * MS
    assert sink.played() == 48 * 150  # nothing plays after a skip
    sink.queue(bytes(48 * 10))  # an idle sink starts at once
    clock.now = 505 * MS
    assert sink.played() == 48 * 155
    assert sink.queued - sink.skipped == 48 * 160


def test_a_paused_sink_holds_its_audio_and_resumes_where_it_stopped() -> None:
    clock = Clock()
    sink = common.PacedSink(clock)
    sink.queue(bytes(48 * 100))
    clock.now = 30 * MS
    sink.pause()
    clock.now = 300 * MS
    assert sink.played() == 48 * 30
    assert sink.pending() == 48 * 70
    sink.resume()
    clock.now = 370 * MS
    assert sink.played() == 48 * 100


def test_the_conversation_loop_puts_the_utterance_at_its_offset() -> None:
    quiet = bytes(common.FRAME_BYTES * 10)
    utterance = b"\x01\x02" * (common.FRAME_BYTES // 2) * 3  # three frames
    track = common.conversation_loop(quiet, utterance, cycle_s=1.0, offset_s=0.5)
    assert len(track) == 48_000
    start = 500 * common.BYTES_PER_MS
    assert track[start : start + len(utterance)] == utterance
    assert track[:start] == bytes(start)


def _fixture() -> dict[str, Any]:
    greetings = []
    for side, base in (("ours", 3.0), ("livekit", 5.0)):
        for i in range(5):
            greetings.append(
                {"side": side, "mode": "instructed", "greeting_ms": base + i, "from_start_ms": 9}
            )
            greetings.append({"side": side, "mode": "spoken", "greeting_ms": base + 1})
    greetings.append({"side": "ours", "mode": "prerecorded", "unsupported": "not in this build"})
    greetings.append({"side": "livekit", "mode": "prerecorded", "greeting_ms": -1.0})
    barges = [
        {
            "side": "ours",
            "stale_ms": 40.0,
            "speech_started_after_onset_ms": 39.5,
            "played_ms": 1553.6,
            "item_audio_ms": 1600.0,
            "received_truncate": {"audio_end_ms": 1553},
        },
        {
            "side": "livekit",
            "stale_ms": 85.0,
            "speech_started_after_onset_ms": 81.0,
            "played_ms": 1591.0,
            "item_audio_ms": 1700.0,
            "received_truncate": None,
        },
    ]
    load = [
        {"side": side, "n": n, "cpu_core_percent_per_session": cpu, "rss_kb_per_session": rss}
        for side, n, cpu, rss in (
            ("ours", 50, 0.4, 60),
            ("livekit", 50, 1.0, 200),
            ("ours", 1, 2.0, 100),
            ("livekit", 1, 2.5, 900),
        )
    ]
    race = {
        "ours": {"sessions": 200, "duplicate_greetings": 0, "missed_greetings": 0},
        "livekit": {"sessions": 200, "duplicate_greetings": 0, "missed_greetings": 200},
    }
    return {"greetings": greetings, "barges": barges, "load": load, "race": race}


def test_the_summary_fills_the_fixed_keys_and_ratios() -> None:
    out = summary.summarise(_fixture())
    assert out["ours"]["greeting_ms_p50"] == 5.0
    assert out["livekit"]["greeting_ms_p50"] == 7.0
    assert out["ratio"]["greeting_ms_p50"] == pytest.approx(5 / 7, abs=1e-3)
    assert out["ours"]["by_mode"]["spoken"]["greeting_ms_p50"] == 4.0
    assert out["ours"]["by_mode"]["prerecorded"]["unsupported"] == "not in this build"
    assert out["livekit"]["by_mode"]["prerecorded"]["greeting_ms_p50"] == -1.0
    assert out["ours"]["cpu_core_percent_per_session"] == 0.4
    assert out["ours"]["by_n"]["1"]["cpu_core_percent_per_session"] == 2.0
    assert out["ratio"]["cpu_core_percent_per_session"] == 0.4
    assert out["ratio"]["rss_kb_per_session"] == 0.3
    assert out["ratio"]["barge_in_stale_ms_p50"] == pytest.approx(40 / 85, abs=1e-3)
    assert out["livekit"]["race"]["missed_greetings"] == 200
    assert set(out["ratio"]) == set(summary.RATIO_FIGURES)


def test_truncation_error_uses_the_truncate_received_or_else_the_whole_unheard_tail() -> None:
    out = summary.summarise(_fixture())
    assert out["ours"]["truncation_error_ms_p50"] == pytest.approx(0.6, abs=1e-3)
    assert out["livekit"]["truncation_error_ms_p50"] == pytest.approx(109.0)
    assert out["ours"]["truncates_received"] == 1
    assert out["livekit"]["truncates_received"] == 0


def _results(peers: dict[str, Any]) -> dict[str, Any]:
    return {"run": {"id": "r1", "complete": True}, "peers": {**peers, "run_id": "r1"}}


def test_the_page_has_the_versus_livekit_section_and_its_goals() -> None:
    peers = summary.summarise(_fixture())
    peers["setup"] = {"greeting": {}, "barge_in": {}, "race": {}, "load": {}}
    peers["protocol"] = ["LiveKit's plugin never truncates."]
    results = _results(peers)
    goals = report.evaluate(results)
    assert goals["peers.ratio.cpu_core_percent_per_session"]["met"] is True
    assert goals["peers.ours.race.missed_greetings"]["met"] is True
    assert goals["peers.ours.by_mode.prerecorded.greeting_ms_p50"]["met"] is None
    page = report.markdown(results)
    assert "## Versus LiveKit Agents" in page
    assert "| instructed |" in page
    assert "not available: not in this build" in page
    assert "LiveKit's plugin never truncates." in page
    assert "peers.png" in page
    assert "(`race.missed_greetings`) | **0** | 200 | - |" in page


def test_a_loss_is_explained_and_our_missed_greetings_fail_the_run() -> None:
    raw = _fixture()
    raw["race"]["ours"]["missed_greetings"] = 2
    raw["load"][0]["cpu_core_percent_per_session"] = 0.9  # 0.9 of LiveKit's: over 0.5
    peers = summary.summarise(raw)
    peers["analysis"] = {"cpu_core_percent_per_session": "the uplink sends 50 frames a second."}
    results = _results(peers)
    assert report.evaluate(results)["peers.ratio.cpu_core_percent_per_session"]["met"] is False
    page = report.markdown(results)
    assert "the uplink sends 50 frames a second." in page
    assert peers_report.correctness_failures(results) == [
        "peers race: 0 session(s) greeted twice, 2 not greeted, of 200"
    ]


def test_a_skipped_peers_section_says_why() -> None:
    page = report.markdown(_results({"skipped": "LiveKit Agents could not be installed: offline"}))
    assert "Skipped: LiveKit Agents could not be installed: offline." in page
