"""The "Versus LiveKit Agents" part of the report: goals, the table, the notes and the plot.

Called by :mod:`benchmarks.report` (goals, markdown, plots); it reads only the ``peers``
section of a result file.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks.report import COLORS, Goal, _le, _num, _save, fmt, get

SIDE_COLORS = {"ours": COLORS["library"], "livekit": "#d62728"}
FIGURES = (
    ("greeting_ms_p50", "greeting, instructed: connection open → first sample, p50", "ms"),
    ("greeting_ms_p95", "the same, p95", "ms"),
    ("cpu_core_percent_per_session", "CPU per session at N = 50, two-way audio", "% of a core"),
    ("rss_kb_per_session", "RSS per session at N = 50", "KB"),
    ("barge_in_stale_ms_p50", "stale audio after the user's first word, p50", "ms"),
    (
        "barge_in_stale_after_speech_started_ms_p50",
        "of which after `speech_started` reached the client, p50",
        "ms",
    ),
    ("truncation_error_ms_p50", "truncation error, p50", "ms"),
    ("race.duplicate_greetings", "greeted twice, of the race sessions", ""),
    ("race.missed_greetings", "never greeted, of the race sessions", ""),
)


def goals() -> list[Goal]:
    def ratio_goal(figure: str, what: str, limit: float, unit: str) -> Goal:
        return Goal(
            f"peers.ratio.{figure}",
            what,
            f"≤ {limit:g}",
            _le(limit),
            f"peers.ours.{figure}",
            f"peers.livekit.{figure}",
            "LiveKit Agents",
            unit,
        )

    return [
        ratio_goal(
            "cpu_core_percent_per_session",
            "CPU per session, 50 two-way sessions, ours ÷ LiveKit Agents",
            0.5,
            "%",
        ),
        ratio_goal(
            "rss_kb_per_session", "RSS per session, 50 sessions, ours ÷ LiveKit Agents", 0.5, "KB"
        ),
        ratio_goal(
            "greeting_ms_p50",
            "instructed greeting, connection open → first sample (p50), ours ÷ LiveKit Agents",
            1.0,
            "ms",
        ),
        ratio_goal(
            "barge_in_stale_ms_p50",
            "audio played after the user's first word (p50), ours ÷ LiveKit Agents",
            1.0,
            "ms",
        ),
        Goal(
            "peers.ours.by_mode.prerecorded.greeting_ms_p50",
            "prerecorded greeting, connection open → first sample (p50, ms)",
            "≤ 20 ms",
            _le(20.0),
            None,
            "peers.livekit.by_mode.prerecorded.greeting_ms_p50",
            "LiveKit `say(audio=...)`",
            "ms",
        ),
        Goal(
            "peers.ours.truncation_error_ms_p50",
            "truncation error after a barge-in: the truncate vs what really played (p50, ms)",
            "≤ 20 ms",
            _le(20.0),
            None,
            "peers.livekit.truncation_error_ms_p50",
            "LiveKit Agents",
            "ms",
        ),
        Goal(
            "peers.ours.race.duplicate_greetings",
            "greeted twice, VAD response racing the greeting",
            "0",
            _le(0),
            None,
            "peers.livekit.race.duplicate_greetings",
            "LiveKit Agents",
        ),
        Goal(
            "peers.ours.race.missed_greetings",
            "never greeted, VAD response racing the greeting",
            "0",
            _le(0),
            None,
            "peers.livekit.race.missed_greetings",
            "LiveKit Agents",
        ),
    ]


def correctness_failures(results: dict[str, Any]) -> list[str]:
    """Ours greeted twice or not at all in the race fails the run (LiveKit's are findings)."""
    race = get(results, "peers.ours.race") or {}
    double, missed = race.get("duplicate_greetings") or 0, race.get("missed_greetings") or 0
    if double or missed:
        return [
            f"peers race: {double} session(s) greeted twice, {missed} not greeted, "
            f"of {race.get('sessions')}"
        ]
    return []


# ------------------------------------------------------------------------------- markdown


def _cell(value: Any, unit: str) -> str:
    text = fmt(value if isinstance(value, (bool, int)) else _num(value))
    return f"{text} {unit}" if unit and _num(value) is not None else text


def markdown(p: dict[str, Any], plots_rel: str) -> list[str]:
    setup = p.get("setup") or {}
    versions = p.get("versions") or {}
    lk = versions.get("livekit") or {}
    lines = [
        "LiveKit Agents is what a team would pick instead of this library. Its Azure plugin "
        f"(`livekit-plugins-azure` {lk.get('livekit-plugins-azure', '?')}, `livekit-agents` "
        f"{lk.get('livekit-agents', '?')}) talks to Voice Live through the same "
        f"`azure-ai-voicelive` SDK ({lk.get('azure-ai-voicelive', '?')}), so both clients ran "
        "against the same emulator, **in the same run, alternating trial by trial**, each in its "
        "own process (LiveKit in its own venv, `benchmarks/peers/requirements-livekit.txt`).",
        "",
        "| figure | ours | LiveKit Agents | ours ÷ LiveKit |",
        "| --- | --- | --- | --- |",
    ]
    ratio = p.get("ratio") or {}
    for key, what, unit in FIGURES:
        ours, theirs = get(p, f"ours.{key}"), get(p, f"livekit.{key}")
        lines.append(
            f"| {what} (`{key}`) | **{_cell(ours, unit)}** | {_cell(theirs, unit)} | "
            f"{fmt(ratio.get(key)) if key in ratio else '-'} |"
        )
    lines += [
        "",
        "Per greeting mode (connection open → first greeting sample in the sink, p50 / p95, ms; "
        "*from app start*: from the moment the app began the session, p50):",
        "",
        "| mode | ours | LiveKit Agents |",
        "| --- | --- | --- |",
    ]
    for mode in ("spoken", "instructed", "prerecorded"):
        cells = []
        for side in ("ours", "livekit"):
            m = get(p, f"{side}.by_mode.{mode}") or {}
            if m.get("unsupported"):
                cells.append(f"not available: {m['unsupported']}")
            else:
                cells.append(
                    f"{fmt(m.get('greeting_ms_p50'))} / {fmt(m.get('greeting_ms_p95'))} "
                    f"(from app start {fmt(m.get('from_app_start_ms_p50'))}; "
                    f"{fmt(m.get('trials'))} trials)"
                )
        lines.append(f"| {mode} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "Load (process CPU and RSS over the window, per session; *played*: seconds of agent "
        "audio the sink played per session in the window, the same work on both sides):",
        "",
        "| N | side | CPU % of a core per session | RSS KB per session | played s | connected |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for side in ("ours", "livekit"):
        for n, row in sorted((get(p, f"{side}.by_n") or {}).items(), key=lambda kv: int(kv[0])):
            lines.append(
                f"| {n} | {side} | {fmt(row.get('cpu_core_percent_per_session'))} | "
                f"{fmt(row.get('rss_kb_per_session'))} | {fmt(row.get('played_s_per_session'))} "
                f"| {fmt(row.get('connected'))} |"
            )
    lines += ["", *_img(plots_rel), "**How each side was run.**", ""]
    for key, label in (("ours", "Ours"), ("livekit", "LiveKit Agents")):
        lines.append(f"- {label}: {setup.get(key)}.")
    greeting = setup.get("greeting") or {}
    barge = setup.get("barge_in") or {}
    race = setup.get("race") or {}
    load = setup.get("load") or {}
    lines += [
        f"- Both: the emulator in {setup.get('emulator')}; sink: {setup.get('sink')}; "
        f"microphone: {setup.get('microphone')}; the same `session.update` settings "
        "(LiveKit's plugin defaults, which ours sends too).",
        f"- Greeting: {greeting.get('trials_per_mode_and_side')} trials per mode and side after "
        f"{greeting.get('warmup_trials')} warm-up rounds. Instructed: {greeting.get('instructed')}."
        f" Spoken: {greeting.get('spoken')}. Prerecorded: {greeting.get('prerecorded')}.",
        f"- Barge-in: the agent says a long line; {barge.get('barge_after_first_sample_s')} s "
        f'after its first sample the user says "{barge.get("user_utterance")}" (speech the '
        "emulator recognizes); *stale* is the agent's audio the sink played from the user's "
        "first word to the end of the utterance; *truncation error* compares the "
        "`conversation.item.truncate` the emulator received (its `on_client_event` hook) with "
        "what the sink really played, and counts the whole unheard tail when none came. "
        f"{barge.get('trials_per_side')} trials per side.",
        f"- Race: {race.get('sessions_per_side')} sessions per side ({race.get('concurrency')} "
        f"at a time), emulator `Faults({_kv(race.get('faults'))})`: a server-VAD response starts "
        "just before the greeting's `response.create` is handled, which is then refused as busy. "
        "A greeting counts when a response created by the client's own request (tagged in "
        "`metadata`) played audio.",
        f"- Load: N sessions in one process for {load.get('window_s')} s after "
        f"{load.get('warm_s')} s of warm-up; {load.get('greeting')} (every "
        f"{load.get('cycle_s')} s, staggered); a fresh process per run; "
        f"{load.get('sessions_per_emulator_process')} sessions per emulator process.",
        "",
    ]
    notes = p.get("protocol") or []
    if notes:
        lines += ["**Where LiveKit's client and the protocol disagree.**", ""]
        lines += [f"- {note}" for note in notes]
        lines.append("")
    analysis = p.get("analysis") or {}
    lost = [
        key
        for key in ("greeting_ms_p50", "barge_in_stale_ms_p50")
        if (_num(ratio.get(key)) or 0) > 1
    ]
    lost += [
        key
        for key in ("cpu_core_percent_per_session", "rss_kb_per_session")
        if (_num(ratio.get(key)) or 0) > 0.5
    ]
    if lost:
        lines += ["**Where we lose, and why.**", ""]
        lines += [f"- `{key}`: {analysis.get(key, 'not analysed yet.')}" for key in lost]
        lines.append("")
    return lines


def _kv(mapping: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in (mapping or {}).items())


def _img(plots_rel: str) -> list[str]:
    return [f"![Versus LiveKit Agents, every trial]({plots_rel}/peers.png)", ""]


# ----------------------------------------------------------------------------------- plot


def plot(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    raw = section.get("raw") or {}
    greetings = raw.get("greetings") or []
    if not greetings:
        return False
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), gridspec_kw={"width_ratios": [3, 2, 2, 2]})
    ax, bx, cx, dx = axes
    groups: list[tuple[str, list[float], str]] = []
    for mode in ("spoken", "instructed", "prerecorded"):
        for side in ("ours", "livekit"):
            values = [
                g["greeting_ms"]
                for g in greetings
                if g.get("side") == side and g.get("mode") == mode and "greeting_ms" in g
            ]
            groups.append((f"{mode}\n{side}", values, SIDE_COLORS[side]))
    _strips(ax, groups, "ms")
    ax.set_ylabel("connection open → first greeting sample (ms)")
    ax.set_title("Greeting, every trial (no dots: not available)", fontsize=10)
    barges = [b for b in raw.get("barges") or [] if "stale_ms" in b]
    from benchmarks.peers.summary import truncation_error_ms

    groups = []
    for side in ("ours", "livekit"):
        groups.append(
            (
                f"stale\n{side}",
                [b["stale_ms"] for b in barges if b["side"] == side],
                SIDE_COLORS[side],
            )
        )
    for side in ("ours", "livekit"):
        errors = [truncation_error_ms(b) for b in barges if b["side"] == side]
        groups.append(
            (f"trunc. error\n{side}", [e for e in errors if e is not None], SIDE_COLORS[side])
        )
    _strips(bx, groups, "ms")
    bx.set_ylabel("ms")
    bx.set_title("Barge-in, every trial", fontsize=10)
    for axis, key, label in (
        (cx, "cpu_core_percent_per_session", "CPU, % of a core per session"),
        (dx, "rss_kb_per_session", "RSS, KB per session"),
    ):
        ns = sorted({str(r["n"]) for r in raw.get("load") or [] if "n" in r}, key=int)
        width = 0.38
        for k, side in enumerate(("ours", "livekit")):
            values = [get(section, f"{side}.by_n.{n}.{key}") or 0 for n in ns]
            xs = [i + (k - 0.5) * width for i in range(len(ns))]
            axis.bar(xs, values, width, color=SIDE_COLORS[side], label=side)
            for x, v in zip(xs, values, strict=True):
                axis.annotate(f"{v:.3g}", (x, v), ha="center", va="bottom", fontsize=7)
        axis.set_xticks(range(len(ns)))
        axis.set_xticklabels([f"N = {n}" for n in ns])
        axis.set_title(label, fontsize=10)
        axis.grid(alpha=0.3, axis="y")
        axis.legend(fontsize=7)
    _save(fig, path)
    return True


def _strips(ax: Any, groups: list[tuple[str, list[float], str]], unit: str) -> None:
    for i, (_label, values, color) in enumerate(groups):
        if not values:
            continue
        xs = [i + (k - len(values) / 2) * (0.5 / max(len(values), 1)) for k in range(len(values))]
        ax.scatter(xs, values, color=color, s=10, alpha=0.8)
        median = statistics.median(values)
        ax.hlines(median, i - 0.3, i + 0.3, color=color, linewidth=2)
        ax.annotate(f"{median:.3g}", (i + 0.32, median), va="center", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=7)
    ax.grid(alpha=0.3, axis="y")
