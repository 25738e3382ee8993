"""From what the two clients reported to the fixed keys: ``peers.<side>.<figure>``, ``peers.ratio``.

Pure functions over plain data (no I/O, no LiveKit), so the report's logic is tested with
fixture records (``benchmarks/tests/test_peers.py``).
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks._stats import percentile

SIDES = ("ours", "livekit")
MODES = ("spoken", "instructed", "prerecorded")
# ours ÷ LiveKit's, for these (the first five figures)
RATIO_FIGURES = (
    "greeting_ms_p50",
    "greeting_ms_p95",
    "cpu_core_percent_per_session",
    "rss_kb_per_session",
    "barge_in_stale_ms_p50",
)
LOAD_N = 50


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _p(values: list[float], q: float) -> float | None:
    return _r(percentile(values, q)) if values else None


def truncation_error_ms(record: dict[str, Any]) -> float | None:
    """|what the item was truncated to - what was played|, from the truncate the emulator
    received; with none, the whole unheard tail (the item's audio minus what was played)."""
    played = record.get("played_ms")
    if played is None:
        return None
    received = record.get("received_truncate")
    if received is not None and received.get("audio_end_ms") is not None:
        return abs(float(received["audio_end_ms"]) - played)
    audio = record.get("item_audio_ms")
    if audio is None:
        return None
    return max(0.0, audio - played)


def _greetings(records: list[dict[str, Any]], side: str) -> dict[str, Any]:
    by_mode: dict[str, Any] = {}
    for mode in MODES:
        mine = [r for r in records if r["side"] == side and r["mode"] == mode]
        values = [r["greeting_ms"] for r in mine if r.get("greeting_ms") is not None]
        entry: dict[str, Any] = {
            "greeting_ms_p50": _p(values, 50),
            "greeting_ms_p95": _p(values, 95),
            "trials": len(values),
        }
        starts = [r["from_start_ms"] for r in mine if r.get("from_start_ms") is not None]
        if starts:
            entry["from_app_start_ms_p50"] = _p(starts, 50)
        unsupported = next((r["unsupported"] for r in mine if r.get("unsupported")), None)
        if unsupported:
            entry["unsupported"] = unsupported
        failed = sum(1 for r in mine if r.get("greeting_ms") is None and not r.get("unsupported"))
        if failed:
            entry["failed_trials"] = failed
        by_mode[mode] = entry
    return by_mode


def _load(records: list[dict[str, Any]], side: str) -> dict[str, Any]:
    by_n: dict[str, Any] = {}
    for n in sorted({r["n"] for r in records if r["side"] == side}):
        mine = [r for r in records if r["side"] == side and r["n"] == n and "error" not in r]
        if not mine:
            continue

        def med(key: str, runs: list[dict[str, Any]] = mine) -> float | None:
            values = [r[key] for r in runs if r.get(key) is not None]
            return _r(statistics.median(values)) if values else None

        by_n[str(n)] = {
            "cpu_core_percent_per_session": med("cpu_core_percent_per_session"),
            "rss_kb_per_session": med("rss_kb_per_session"),
            "played_s_per_session": med("played_s_per_session"),
            "window_s": med("window_s"),
            "runs": len(mine),
            "connected": min(r.get("connected", n) for r in mine),
        }
    return by_n


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """``{"ours": {...}, "livekit": {...}, "ratio": {...}}`` from the raw records."""
    out: dict[str, Any] = {}
    for side in SIDES:
        by_mode = _greetings(raw.get("greetings") or [], side)
        instructed = by_mode["instructed"]
        by_n = _load(raw.get("load") or [], side)
        top = by_n.get(str(LOAD_N)) or {}
        barges = [b for b in raw.get("barges") or [] if b.get("side") == side and "error" not in b]
        stale = [b["stale_ms"] for b in barges if b.get("stale_ms") is not None]
        errors = [e for e in map(truncation_error_ms, barges) if e is not None]
        reaction = [
            b["stale_ms"] - b["speech_started_after_onset_ms"]
            for b in barges
            if b.get("stale_ms") is not None and b.get("speech_started_after_onset_ms") is not None
        ]
        race = (raw.get("race") or {}).get(side) or {}
        out[side] = {
            "greeting_ms_p50": instructed["greeting_ms_p50"],
            "greeting_ms_p95": instructed["greeting_ms_p95"],
            "by_mode": by_mode,
            "cpu_core_percent_per_session": top.get("cpu_core_percent_per_session"),
            "rss_kb_per_session": top.get("rss_kb_per_session"),
            "by_n": by_n,
            "barge_in_stale_ms_p50": _p(stale, 50),
            "barge_in_stale_after_speech_started_ms_p50": _p(reaction, 50),
            "truncation_error_ms_p50": _p(errors, 50),
            "truncates_received": sum(1 for b in barges if b.get("received_truncate")),
            "barge_in_trials": len(barges),
            "race": {
                "sessions": race.get("sessions"),
                "duplicate_greetings": race.get("duplicate_greetings"),
                "missed_greetings": race.get("missed_greetings"),
            },
        }
    ratio: dict[str, Any] = {}
    for figure in RATIO_FIGURES:
        ours, theirs = out["ours"].get(figure), out["livekit"].get(figure)
        ratio[figure] = _r(ours / theirs) if ours is not None and theirs else None
    out["ratio"] = ratio
    return out
