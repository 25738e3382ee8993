"""Write what a run measured: JSON, PNG plots and ``docs/performance.md``.

Rules that keep the report from misleading:

* every run writes its own file, ``benchmarks/results/runs/<run id>.json``;
* only a **complete** run (every section, full size, none failed) writes
  ``benchmarks/results/latest.json``, the plots and ``docs/performance.md``, so the summary
  never mixes figures from different runs; an ``--only`` or ``--quick`` run leaves them alone;
* every section carries the run id, commit and time it was measured, and the document says
  them next to the figures;
* plots show every run or trial, not only medians.

``python -m benchmarks.report FILE [--doc PATH] [--plots DIR]`` renders any result file
(a partial one gets a banner saying so), for review.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.alsa import REPO

RESULTS = REPO / "benchmarks" / "results"
RUNS = RESULTS / "runs"
DOC = REPO / "docs" / "performance.md"
COMMAND = "make bench"
SCALE_P99_GOAL_MS = 50.0
SCALE_RATIO_GOAL = 1.1


def get(results: dict[str, Any], dotted: str) -> Any:
    value: Any = results
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


# ----------------------------------------------------------------------------------- goals


@dataclass(frozen=True)
class Goal:
    key: str  # dotted key in latest.json
    what: str
    goal: str
    test: Callable[[float], bool]
    library: str | None = None  # dotted key: the library's own figure
    baseline: str | None = None  # dotted key: the baseline's figure
    baseline_label: str = ""
    unit: str = ""


def _le(limit: float) -> Callable[[float], bool]:
    return lambda v: v <= limit


def _lt(limit: float) -> Callable[[float], bool]:
    return lambda v: v < limit


def goal_list(results: dict[str, Any]) -> list[Goal]:
    goals = [
        Goal(
            "dispatch.ratio_vs_same_dict",
            "greeting dispatch, `handle()` drop-in ÷ the strongest bare loop (medians)",
            "≤ 1.05",
            _le(1.05),
            "dispatch.proactive_median_us",
            "dispatch.bare_same_dict_median_us",
            "bare loop, same plain dict",
            "µs",
        ),
        Goal(
            "greeting_latency.spoken.added_ms_median",
            "`session.updated` → first greeting sample in the device, spoken: library minus bare",
            "≤ 1 ms",
            _le(1.0),
            "greeting_latency.spoken.library_e2e_ms.median",
            "greeting_latency.spoken.bare_e2e_ms.median",
            "bare loop, same player",
            "ms",
        ),
        Goal(
            "greeting_latency.instructed.added_ms_median",
            "the same, instructed greeting (system item + `response.create`)",
            "≤ 1 ms",
            _le(1.0),
            "greeting_latency.instructed.library_e2e_ms.median",
            "greeting_latency.instructed.bare_e2e_ms.median",
            "bare loop, same player",
            "ms",
        ),
        Goal(
            "first_sample.prerecorded_ms_p50",
            "connection open → first greeting sample at the `AudioIO`, `PrerecordedGreeting`",
            "≤ 20 ms",
            _le(20.0),
            None,
            "first_sample.spoken_ms_p50",
            "`StaticGreeting`, same run",
            "ms",
        ),
        Goal(
            "duplex.added_core_percent",
            "CPU of two-way audio (paced 24 kHz mic + playback), library minus bare, % of one core",
            "≤ 1",
            _le(1.0),
            "duplex.library_core_percent",
            "duplex.bare_core_percent",
            "bare loop, same `SounddeviceAudioIO`",
            "%",
        ),
        Goal(
            "barge_in.stale_ms_median",
            "interrupted audio written after `speech_started` is read, 5 ms blocks (median)",
            "≤ 20 ms",
            _le(20.0),
            None,
            "barge_in.fixed_sample_stale_ms_median",
            "the sample's player, fixed, 5 ms blocks",
            "ms",
        ),
        Goal(
            "barge_in.late_chunks_played",
            "late chunks (arriving after `speech_started`) that reached the device",
            "0",
            _le(0),
            None,
            "barge_in.fixed_sample_late_chunks_played",
            "the sample's player, fixed",
        ),
    ]
    for n in sorted((get(results, "scale.by_n") or {}), key=int):
        goals.append(
            Goal(
                f"scale.by_n.{n}.worst_p99_ms",
                f"{int(n):,} sessions: p99 dispatch in the worst run (ms)",
                f"< {SCALE_P99_GOAL_MS:g} ms",
                _lt(SCALE_P99_GOAL_MS),
                None,
                f"scale.by_n.{n}.bare.worst_p99_ms",
                "bare loop, worst run",
                "ms",
            )
        )
        goals.append(
            Goal(
                f"scale.by_n.{n}.ratio_p99",
                f"{int(n):,} sessions: p99 library ÷ bare (medians of runs)",
                f"≤ {SCALE_RATIO_GOAL:g}",
                _le(SCALE_RATIO_GOAL),
                f"scale.by_n.{n}.library.p99_ms",
                f"scale.by_n.{n}.bare.p99_ms",
                "bare loop",
                "ms",
            )
        )
    goals += [
        Goal(
            "memory.hour_growth_kb",
            "one session, a simulated hour: growth of what the library keeps (KB)",
            "≤ 1 KB",
            _le(1.0),
            None,
            "memory.per_session_kb",
            "per live session, for comparison",
            "KB",
        ),
        Goal(
            "memory.per_session_kb",
            "library-owned memory per live session, at 1,000 (KB)",
            "< 20 KB",
            _lt(20.0),
        ),
        Goal(
            "audio.per_chunk_us",
            "one 50 ms audio delta through `handle()`, library minus bare (µs)",
            "≤ 10 µs",
            _le(10.0),
            "audio.proactive_us",
            "audio.bare_us",
            "bare loop, same player",
            "µs",
        ),
        Goal(
            "nudge.late_ms_median",
            "idle nudge after local playout ended: how late (median, ms)",
            "≤ 20 ms",
            _le(20.0),
            None,
            "nudge.timer_at_done_ms_median",
            "timer started at `response.done`",
            "ms",
        ),
        Goal(
            "soak.duplicate_greetings",
            "chaos soak: conversations whose caller heard the greeting twice (of "
            f"{fmt(get(results, 'soak.conversations'))})",
            "0",
            _le(0),
        ),
        Goal(
            "soak.lost_speech",
            "chaos soak: `say()`s neither heard nor settled with a reason",
            "0",
            _le(0),
        ),
        Goal(
            "soak.leaked_tasks",
            "chaos soak: tasks still alive a second after their conversation ended",
            "0",
            _le(0),
        ),
        Goal(
            "soak.leaked_fds",
            "chaos soak: file descriptors open after the soak, beyond those after its warm-up",
            "0",
            _le(0),
        ),
        Goal(
            "redis_guard.ratio_vs_same_dict",
            "dispatch with a Redis guard ÷ the strongest bare loop (reported)",
            "-",
            lambda v: True,
            "redis_guard.stats_us.dropin_redis.median",
            "redis_guard.stats_us.bare.median",
            "bare loop",
            "µs",
        ),
    ]
    from benchmarks.peers import report as peers_report  # it imports this module

    goals += peers_report.goals()
    return goals


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for goal in goal_list(results):
        value = _num(get(results, goal.key))
        met = None if value is None or goal.goal == "-" else goal.test(value)
        out[goal.key] = {"value": get(results, goal.key), "goal": goal.goal, "met": met}
    return out


# ------------------------------------------------------------------------------------ files


def _strip(results: dict[str, Any]) -> dict[str, Any]:
    """Drop the raw per-session samples (kept for the plots) from what goes to JSON."""
    out = dict(results)
    if isinstance(out.get("dispatch"), dict):
        out["dispatch"] = {k: v for k, v in out["dispatch"].items() if k != "samples_us"}
    if isinstance(out.get("peers"), dict):  # every trial stays in the run's own file
        out["peers"] = {k: v for k, v in out["peers"].items() if k != "raw"}
    return out


def write_run(results: dict[str, Any]) -> Path:
    RUNS.mkdir(parents=True, exist_ok=True)
    path = RUNS / f"{results['run']['id']}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def write_latest(results: dict[str, Any]) -> Path:
    if not results["run"].get("complete"):
        raise ValueError("only a complete run may write latest.json")
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(_strip(results), indent=1) + "\n")
    return path


# ------------------------------------------------------------------------------------ plots

COLORS = {"library": "#1f77b4", "bare": "#555555", "other": "#ff7f0e", "extra": "#2ca02c"}


def plot(results: dict[str, Any], outdir: Path) -> list[Path]:
    """One PNG per section that has data; each shows every run or trial."""
    import matplotlib

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    for name, draw in (
        ("dispatch", _plot_dispatch),
        ("greeting_latency", _plot_greeting),
        ("duplex", _plot_duplex),
        ("barge_in", _plot_barge_in),
        ("scale", _plot_scale),
        ("memory", _plot_memory),
        ("peers", _plot_peers),
    ):
        section = results.get(name) or {}
        if "error" in section or "skipped" in section or not section:
            continue
        path = outdir / f"{name}.png"
        if draw(section, path):
            made.append(path)
    return made


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_dispatch(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    samples = section.get("samples_us")
    if not samples:
        return False
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    labels = {
        "bare": "bare loop, same plain dict",
        "dropin": "handle() drop-in",
        "run": "run()",
        "dropin_audio": "drop-in, library owns audio",
        "bare_models": "bare loop, typed SDK models (sample style)",
    }
    colors = {"bare": "#555555", "dropin": "#1f77b4", "run": "#2ca02c"}
    colors.update({"dropin_audio": "#ff7f0e", "bare_models": "#aaaaaa"})
    upper = 0.0
    for variant, values in samples.items():
        if not values:
            continue
        ordered = sorted(values)
        n = len(ordered)
        ax.step(
            ordered,
            [(i + 1) / n for i in range(n)],
            where="post",
            color=colors.get(variant),
            label=f"{labels.get(variant, variant)} (median {ordered[n // 2]:.0f} µs)",
        )
        upper = max(upper, ordered[min(n - 1, int(n * 0.95))])
    ax.set_xlim(0, upper * 1.15)
    ax.set_xlabel("session.updated out of the socket → greeting into it (µs)")
    ax.set_ylabel("fraction of sessions")
    ax.set_title("Dispatch, every session", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    blocks = section.get("block_ratios_vs_same_dict") or {}
    for i, (variant, ratios) in enumerate(blocks.items()):
        xs = [i] * len(ratios)
        bx.scatter(xs, ratios, color=colors.get(variant), s=18)
    bx.axhline(1.05, color="#d62728", linestyle="--", linewidth=1, label="goal ≤ 1.05")
    bx.axhline(1.0, color="#999999", linewidth=0.8)
    bx.set_xticks(range(len(blocks)))
    short = {"dropin": "handle()", "run": "run()", "dropin_audio": "owns audio"}
    short["bare_models"] = "typed-models loop"
    bx.set_xticklabels([short.get(v, v) for v in blocks], fontsize=7)
    bx.set_ylabel("÷ bare loop, per block of 80 rounds")
    bx.set_title("Ratio to the strongest bare loop, each block", fontsize=10)
    bx.grid(alpha=0.3, axis="y")
    bx.legend(fontsize=7)
    _save(fig, path)
    return True


def _strip_plot(ax: Any, groups: list[tuple[str, list[float], str]], unit: str) -> None:
    for i, (_label, values, color) in enumerate(groups):
        if not values:
            continue
        xs = [i + (k - len(values) / 2) * (0.5 / max(len(values), 1)) for k in range(len(values))]
        ax.scatter(xs, values, color=color, s=12, alpha=0.8)
        median = statistics.median(values)
        ax.hlines(median, i - 0.3, i + 0.3, color=color, linewidth=2)
        ax.annotate(f"{median:.3g} {unit}", (i + 0.32, median), va="center", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=7)
    ax.grid(alpha=0.3, axis="y")


def _plot_greeting(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    trials = section.get("trials") or []
    if not trials:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.2))
    groups = []
    for mode in ("spoken", "instructed"):
        for variant, color in (("bare", COLORS["bare"]), ("dropin", COLORS["library"])):
            values = [
                t["e2e_ms"]
                for t in trials
                if t["mode"] == mode and t["variant"] == variant and "e2e_ms" in t
            ]
            label = f"{mode}\n{'library' if variant == 'dropin' else 'bare loop'}"
            groups.append((label, values, color))
    _strip_plot(ax, groups, "ms")
    ax.set_ylabel("session.updated → first sample in the device (ms)")
    ax.set_title("Greeting latency end to end, every trial (bars: medians)", fontsize=10)
    _save(fig, path)
    return True


def _plot_duplex(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    reps = section.get("reps") or []
    if not reps:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    groups = [
        (
            "bare loop" if v == "bare" else "library",
            [100 * r["cpu_s_per_s"] for r in reps if r["variant"] == v and "cpu_s_per_s" in r],
            COLORS["bare" if v == "bare" else "library"],
        )
        for v in ("bare", "library")
    ]
    _strip_plot(ax, groups, "%")
    ax.set_ylabel("CPU, % of one core (process, all threads)")
    ax.set_title("Two-way audio, one session: every repetition", fontsize=10)
    ax.set_ylim(bottom=0)
    _save(fig, path)
    return True


def _plot_barge_in(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    trials = section.get("trials") or []
    if not trials:
        return False
    names = list(dict.fromkeys(t["name"] for t in trials))
    fig, ax = plt.subplots(figsize=(11, 4.6))
    groups = []
    for name in names:
        variant = name.split("_")[0]
        color = {"library": COLORS["library"], "bare": COLORS["extra"]}.get(variant, COLORS["bare"])
        values = [max(1.0, t["stale_ms"]) for t in trials if t["name"] == name]
        groups.append((name.replace("_", "\n", 2), values, color))
    _strip_plot(ax, groups, "ms")
    ax.axhline(20, color="#d62728", linestyle="--", linewidth=1, label="goal ≤ 20 ms")
    ax.set_yscale("log")
    ax.set_ylim(5, 2000)
    ax.set_ylabel("ms of the interrupted response written after speech_started")
    ax.set_title("Barge-in, every trial (streamed in real time, 3 late chunks)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    _save(fig, path)
    return True


def _plot_scale(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    runs = section.get("runs") or []
    if not runs:
        return False
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4))
    for variant, color, offset in (
        ("library", COLORS["library"], 1.0),
        ("bare", "#555555", 1.06),
        ("library_frozen", COLORS["other"], 0.94),
    ):
        mine = [r for r in runs if r["variant"] == variant]
        if not mine:
            continue
        ns = sorted({r["n"] for r in mine})
        ax.scatter(
            [r["n"] * offset for r in mine],
            [r["p99_ms"] for r in mine],
            color=color,
            s=16,
            label=f"{variant}: p99 of each run",
        )
        ax.plot(
            [n * offset for n in ns],
            [statistics.median(r["p99_ms"] for r in mine if r["n"] == n) for n in ns],
            color=color,
            linewidth=1,
        )
        ax.scatter(
            [r["n"] * offset for r in mine],
            [r["queued_p99_ms"] for r in mine],
            facecolors="none",
            edgecolors=color,
            s=22,
            marker="s",
            label=f"{variant}: queued p99 of each run",
        )
        bx.scatter(
            [r["n"] * offset for r in mine],
            [r["loop_lag_ms_max"] or 0 for r in mine],
            color=color,
            s=16,
            label=f"{variant}: max loop lag",
        )
        bx.scatter(
            [r["n"] * offset for r in mine],
            [r["gc_pause_ms_max"] for r in mine],
            color=color,
            s=16,
            marker="^",
            alpha=0.6,
            label=f"{variant}: longest GC pause",
        )
    ax.axhline(SCALE_P99_GOAL_MS, color="#d62728", linestyle="--", linewidth=1, label="goal")
    for axis in (ax, bx):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.set_xlabel("concurrent sessions (one client process)")
    ax.set_ylabel("p99 (ms): dispatch dots, queued squares")
    ax.set_title("Greeting dispatch under load, every run", fontsize=10)
    bx.set_ylabel("ms")
    bx.set_title("Event-loop lag and GC pauses, every run", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    bx.legend(fontsize=7, loc="upper left")
    _save(fig, path)
    return True


def _plot_peers(section: dict[str, Any], path: Path) -> bool:
    from benchmarks.peers import report as peers_report

    return peers_report.plot(section, path)


def _plot_memory(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    points = get(section, "hour.checkpoints") or []
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    minutes = [p["turn"] * 10 / 60 for p in points]
    ax.plot(minutes, [p["library_kb"] for p in points], "o-", color=COLORS["library"])
    ax.plot(minutes, [p["traced_kb"] for p in points], "s--", color="#999999")
    ax.legend(["allocated in the library's code", "everything traced"], fontsize=8)
    ax.set_xlabel("simulated minutes of conversation")
    ax.set_ylabel("KB still allocated (after gc.collect())")
    ax.set_title("One session over a simulated hour, every checkpoint", fontsize=10)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    _save(fig, path)
    return True


# --------------------------------------------------------------------------------- markdown


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: "n/a"}[value]


def _stamp(section: dict[str, Any]) -> str:
    return (
        f"run `{section.get('run_id', '?')}`, commit `{str(section.get('commit', '?'))[:10]}`, "
        f"measured {section.get('measured_at', '?')}, {fmt(section.get('seconds'))} s"
    )


def markdown(results: dict[str, Any], plots_rel: str = "../benchmarks/results") -> str:
    run = results.get("run", {})
    machine = results.get("machine", {})
    table = evaluate(results)
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python -m benchmarks` (benchmarks/report.py). Do not edit by hand. -->",
        "",
    ]
    if not run.get("complete"):
        lines += [
            "> **Not a complete run** (`--only`, `--quick`, or a section failed): these figures "
            "are for reviewing the report, not measurements to quote.",
            "",
        ]
    lines += [
        "voicelive-proactive against the best loop a competent user writes by hand with the "
        "bare `azure-ai-voicelive` SDK, with the same transport choices (the same plain dicts, "
        "the same player, the same block sizes), **measured in the same run**, interleaved, on "
        "the same machine. Every figure below comes from one run:",
        "",
        f"- run **`{run.get('id')}`**, commit `{run.get('commit')}`"
        + (" (with uncommitted changes)" if run.get("dirty") else "")
        + f", started {run.get('started_at')}, {fmt(run.get('wall_s'))} s, "
        f"`{run.get('argv')}`",
        f"- {machine.get('cores')} cores ({machine.get('cores_usable')} usable), "
        f"{machine.get('cpu')}; {machine.get('python')}; load average at start "
        f"{machine.get('load_average')}",
        "",
        "## Goals",
        "",
        "| goal | library | baseline | result | goal | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for goal in goal_list(results):
        entry = table[goal.key]
        library = fmt(_num(get(results, goal.library))) if goal.library else "-"
        if goal.library and goal.unit:
            library += f" {goal.unit}"
        baseline = "-"
        if goal.baseline:
            baseline = f"{fmt(get(results, goal.baseline))}"
            if goal.unit and _num(get(results, goal.baseline)) is not None:
                baseline += f" {goal.unit}"
            baseline += f" ({goal.baseline_label})"
        section = results.get(goal.key.split(".")[0]) or {}
        if "skipped" in section:
            result = f"skipped: {section['skipped']}"
        elif "error" in section:
            result = "error (see below)"
        else:
            result = f"**{fmt(entry['value'])}**"
        lines.append(
            f"| {goal.what} (`{goal.key}`) | {library} | {baseline} | {result} | "
            f"{goal.goal} | {_met(entry['met'])} |"
        )
    missed = [g for g in goal_list(results) if table[g.key]["met"] is False]
    lines += [""]
    if missed:
        lines += ["**Goals missed in this run:** " + ", ".join(f"`{g.key}`" for g in missed), ""]
    correctness = results.get("correctness") or {}
    lines += [
        f"Correctness (the run fails on it): "
        f"{'every session greeted exactly once' if correctness.get('ok') else 'FAILED'}"
        + "".join(f"; {f}" for f in correctness.get("failures", [])),
        "",
        "## How to read this",
        "",
        "- The bare loop is the strongest baseline we could write, not the SDK sample: the "
        "same plain-dict greeting as the library, built before it is due, the event type read "
        "as a mapping key, audio into the same player. The sample-style loops are extra rows.",
        "- Dispatch is timed on the SDK's own socket (frame out → frame in), identically for "
        "every variant; the kernel and the emulator are left out because they cost every "
        "variant the same and would only pull ratios towards 1.",
        "- The machine is shared (2 cores); every section interleaves its variants so drift "
        "hits both, and the plots show every run or trial, so the spread is visible.",
        "- A missed timing goal is reported here and never fails the run; a session greeted "
        "twice or not at all does (exit code 1).",
        "",
        "## Versus LiveKit Agents",
        "",
    ]
    lines += _peers_md(results.get("peers") or {}, plots_rel)
    lines += ["## Details", ""]
    for name, render in (
        ("dispatch", _dispatch_md),
        ("greeting_latency", _greeting_md),
        ("first_sample", _first_sample_md),
        ("duplex", _duplex_md),
        ("barge_in", _barge_md),
        ("scale", _scale_md),
        ("memory", _memory_md),
        ("audio", _audio_md),
        ("nudge", _nudge_md),
        ("redis_guard", _redis_md),
        ("soak", _soak_md),
    ):
        section = results.get(name) or {}
        lines += [f"### {TITLES[name]}", ""]
        if section:
            lines += [f"<sub>{_stamp(section)}</sub>", ""]
        if "error" in section:
            lines += [f"Error: `{section['error'].strip().splitlines()[-1]}`", ""]
            continue
        if "skipped" in section:
            lines += [f"Skipped: {section['skipped']}.", ""]
            continue
        if not section:
            lines += ["Not run.", ""]
            continue
        lines += render(section, plots_rel)
    lines += [
        "## Machine",
        "",
        "- " + ", ".join(f"{k} {v}" for k, v in (machine.get("packages") or {}).items() if v),
        f"- PortAudio: {machine.get('portaudio')}; {machine.get('os')}",
        "",
        "## Running it",
        "",
        "```bash",
        "make bench                                 # everything; the only way to update this page",
        ".venv/bin/python -m benchmarks --quick     # a smoke run: its own file in results/runs/",
        ".venv/bin/python -m benchmarks --only scale  # one section: its own file, too",
        ".venv/bin/python -m benchmarks --only peers  # versus LiveKit (builds .venv-livekit)",
        ".venv/bin/python -m benchmarks.profile_dispatch  # where dispatch time goes",
        "make soak                                  # the chaos soak alone; SOAK_SEED=N",
        "```",
        "",
        "Sections: " + ", ".join(f"`{n}`" for n in TITLES) + ". The raw figures are in "
        "`benchmarks/results/latest.json`; every run's own file is in `benchmarks/results/runs/`.",
        "",
    ]
    return "\n".join(lines)


def _peers_md(section: dict[str, Any], plots_rel: str) -> list[str]:
    from benchmarks.peers import report as peers_report

    if not section:
        return ["Not run.", ""]
    lines = [f"<sub>{_stamp(section)}</sub>", ""]
    if "error" in section:
        return [*lines, f"Error: `{section['error'].strip().splitlines()[-1]}`", ""]
    if "skipped" in section:
        return [*lines, f"Skipped: {section['skipped']}.", ""]
    return lines + peers_report.markdown(section, plots_rel)


TITLES = {
    "dispatch": "Dispatch: session ready → greeting on the wire",
    "greeting_latency": "Greeting latency end to end",
    "first_sample": "The first second: connection open → first greeting sample",
    "duplex": "Duplex audio cost",
    "barge_in": "Barge-in",
    "scale": "Scale",
    "memory": "Memory",
    "audio": "Audio per chunk",
    "nudge": "Idle nudge",
    "redis_guard": "Redis guard",
    "peers": "Versus LiveKit Agents",
    "soak": "Chaos soak",
}


def _img(name: str, plots_rel: str, alt: str) -> list[str]:
    return [f"![{alt}]({plots_rel}/{name}.png)", ""]


def _dispatch_md(d: dict[str, Any], plots_rel: str) -> list[str]:
    labels = {
        "bare": "bare loop, same plain dict (the baseline)",
        "dropin": "`handle()` drop-in",
        "run": "`run()`",
        "dropin_audio": "drop-in, library owns audio (`NullAudioIO`)",
        "bare_models": "bare loop, typed SDK models, `event.type` (sample style)",
    }
    lines = [
        f"{fmt(d.get('sessions_per_variant'))} sequential sessions per variant against the "
        "emulator (its own process, `pace=0`), variants rotated every round. Stamps on the "
        "SDK's socket: `session.updated` out of `receive()`, the greeting's `response.create` "
        "into `send_str()`.",
        "",
        "| variant | median µs | p90 µs | p99 µs | ÷ baseline (median) | added µs (paired) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    base = _num(d.get("bare_same_dict_median_us")) or math.nan
    for variant, stats in (d.get("stats_us") or {}).items():
        added = (d.get("added_us_paired") or {}).get(variant, {})
        ratio = (stats.get("median") or math.nan) / base if base else math.nan
        lines.append(
            f"| {labels.get(variant, variant)} | {fmt(stats.get('median'))} | "
            f"{fmt(stats.get('p90'))} | {fmt(stats.get('p99'))} | {fmt(round(ratio, 3))} | "
            f"{fmt(added.get('median_us')) if variant != 'bare' else '-'} |"
        )
    blocks = (d.get("block_ratios_vs_same_dict") or {}).get("dropin", [])
    lines += [
        "",
        f"The library's own cost: **{fmt(d.get('library_added_us'))} µs per greeting** "
        f"(ratio {fmt(d.get('ratio_vs_same_dict'))}); per block of 80 rounds the ratio was "
        f"{', '.join(fmt(x) for x in blocks)}. Against the sample-style loop the drop-in is "
        f"{fmt(d.get('ratio_vs_models_loop'))}x. The greeting frames of the bare loop and the "
        f"library are identical (checked: {d.get('same_dict')}). "
        + (
            f"End to end to the emulator: ratio {fmt(d.get('e2e_ratio_vs_same_dict'))}."
            if d.get("e2e_ratio_vs_same_dict") is not None
            else f"End to end to the emulator: not measured ({d.get('e2e_note')})."
        )
        + " Where the time goes: `benchmarks/PROFILE.md`.",
        "",
        *_img("dispatch", plots_rel, "Dispatch latency, every session"),
    ]
    return lines


def _first_sample_md(f: dict[str, Any], plots_rel: str) -> list[str]:
    setup = f.get("setup", {})
    lines = [
        f"{fmt(setup.get('trials_per_kind'))} trials per kind, rotated; real sessions against "
        "the emulator (`pace=1`). Window: `connect()` returned → the first greeting audio "
        "handed to the `AudioIO`. The emulator's voice and model answer in about a "
        "millisecond; against Azure the service-rendered kinds add its synthesis and model "
        "time, the prerecorded one does not.",
        "",
        "| greeting | first sample ms (median, IQR) | p90 | missing |",
        "| --- | --- | --- | --- |",
    ]
    for kind in ("prerecorded", "spoken", "instructed"):
        k = f.get(kind) or {}
        s = k.get("first_sample_ms") or {}
        iqr = s.get("iqr") or [None, None]
        lines.append(
            f"| {kind} | {fmt(s.get('median'))} ({fmt(iqr[0])}-{fmt(iqr[1])}) | "
            f"{fmt(s.get('p90'))} | {fmt(k.get('missing'))} |"
        )
    lines += [
        "",
        f"Prerecorded ÷ spoken (medians): {fmt(f.get('ratio_prerecorded_vs_spoken'))}.",
        "",
    ]
    return lines


def _greeting_md(g: dict[str, Any], plots_rel: str) -> list[str]:
    setup = g.get("setup", {})
    lines = [
        f"{fmt(setup.get('trials_per_variant_and_mode'))} trials per variant and mode, "
        "interleaved; real sessions against the emulator (`pace=1`); "
        f"player: {setup.get('player')}; listener: {setup.get('listener')}. "
        "Clock starts when `session.updated` arrives at the client (the event loop reads its "
        "bytes off the socket). *to player*: → first greeting audio handed to the player; "
        "*device*: player → first greeting sample written into the device.",
        "",
        "| greeting | variant | end to end ms (median, IQR) | to player ms | device ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for mode in ("spoken", "instructed"):
        m = g.get(mode) or {}
        for variant, prefix in (("bare loop", "bare"), ("library", "library")):
            e2e = m.get(f"{prefix}_e2e_ms") or {}
            lines.append(
                f"| {mode} | {variant} | {fmt(e2e.get('median'))} "
                f"({fmt((e2e.get('iqr') or [None])[0])}-{fmt((e2e.get('iqr') or [None, None])[1])})"
                f" | {fmt((m.get(f'{prefix}_to_queue_ms') or {}).get('median'))} | "
                f"{fmt((m.get(f'{prefix}_device_ms') or {}).get('median'))} |"
            )
        lines.append(
            f"| {mode} | **added** | **{fmt(m.get('added_ms_median'))}** | "
            f"{fmt(m.get('added_to_queue_ms_median'))} | |"
        )
    lines += ["", *_img("greeting_latency", plots_rel, "Greeting latency, every trial")]
    return lines


def _duplex_md(x: dict[str, Any], plots_rel: str) -> list[str]:
    setup = x.get("setup", {})
    flow = x.get("flow", {})
    lines = [
        f"One session, {fmt(setup.get('reps_per_variant'))} windows of "
        f"{fmt(setup.get('window_s'))} s per variant, alternating. {setup.get('audio')}; "
        f"microphone: {setup.get('microphone')}; speaker: {setup.get('speaker')}. CPU is the "
        "whole client process (every thread, PortAudio's too).",
        "",
        "| variant | % of one core (median) | range | mic frames sent/s | audio played s/s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for variant, label in (("bare", "bare loop"), ("library", "library")):
        rng = x.get(f"{variant}_core_percent_range") or [None, None]
        f = flow.get(variant, {})
        lines.append(
            f"| {label} | {fmt(x.get(f'{variant}_core_percent'))} | {fmt(rng[0])}-"
            f"{fmt(rng[1])} | {fmt(f.get('mic_frames_sent_per_s'))} | "
            f"{fmt(f.get('played_s_per_s'))} |"
        )
    lines += [
        "",
        f"The library adds **{fmt(x.get('added_core_percent'))} % of one core** per session.",
        "",
        *_img("duplex", plots_rel, "Duplex CPU, every repetition"),
    ]
    return lines


def _barge_md(b: dict[str, Any], plots_rel: str) -> list[str]:
    lines = [
        "A response streams in real time (100 ms deltas, two ahead of playback) into a real "
        "PortAudio output on the ALSA `file` device read at real time; `speech_started` "
        "arrives 0.3-0.7 s after the first sample is heard, followed by 3 late chunks of the "
        "same response. *Stale*: ms of that response written into the device after the app "
        "read `speech_started`.",
        "",
        "| variant | stale ms median (min-max) | late chunks played | callbacks later than "
        "the output latency | latest callback ms | status flags |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, v in (b.get("variants") or {}).items():
        cb = v.get("callbacks") or {}
        lines.append(
            f"| {name} | {fmt(v['stale_ms_median'])} ({fmt(v['stale_ms_min'])}-"
            f"{fmt(v['stale_ms_max'])}) | {v['late_chunks_played']} of {v['late_chunks_sent']} | "
            f"{fmt(cb.get('later_than_latency')) if cb else 'not exposed'} | "
            f"{fmt(cb.get('late_ms_max')) if cb else '-'} | "
            f"{fmt(cb.get('status_flags')) if cb else '-'} |"
        )
    lines += [
        "",
        "`_load`: a busy event loop (2 ms of Python per turn) and a thread holding the GIL. "
        "`library`: `handle()` + `SounddeviceAudioIO`; `sample_fixed`: the sample's player with "
        "its leftover bug fixed, in the sample's loop (it plays late chunks: it has no notion of "
        "which response they belong to); `bare_best`: that plus dropping the interrupted "
        "response's deltas; `sample`: as written, 50 ms blocks. Callback timing is measured in "
        "the sample player (the library's callback is not instrumented; it runs the same "
        "PortAudio path at the same block size).",
        "",
        "**What the file device cannot show.** It never underruns (its `null` slave never runs "
        "dry; the FIFO makes PortAudio wait), so status flags stay 0; and its callbacks come in "
        "85 ms bursts (one 4 KiB pipe page at a time), so the gaps between callbacks are not a "
        "sound card's. What carries over is how late a callback ran once PortAudio wanted it: "
        "on a sound card, a callback later than the output latency is an audible gap.",
        "",
        *_img("barge_in", plots_rel, "Barge-in, every trial"),
    ]
    return lines


def _scale_md(s: dict[str, Any], plots_rel: str) -> list[str]:
    setup = s.get("setup", {})
    lines = [
        f"N real SDK sessions from one process, one emulator process per "
        f"{setup.get('sessions_per_emulator_process')} (`pace={setup.get('emulator_pace')}`, "
        f'greeting "{setup.get("greeting")}"); all send `session.update` in the same loop '
        "turn; from `session.updated` on, each streams a live microphone "
        f"({setup.get('mic_frame_ms')} ms frames from one capture thread, the same hop in both "
        f"variants) for {setup.get('mic_hold_s')} s (or until its greeting is done). "
        f"{setup.get('repeats')} runs per N and variant, interleaved.",
        "",
        "*Dispatch* is the dispatch section's window (`session.updated` out of `receive()` → "
        "greeting into the socket): the goal keys. *Queued* starts when the event loop read the "
        "frame off the socket, so it adds the time the frame waited for the loop; with all N "
        "sessions starting in one loop turn, that wait is the burst itself (see the loop lag), "
        "in both variants.",
        "",
        "| N | variant | dispatch p50 / p99 ms | worst run p99 | p99 each run | queued p50 / "
        "p99 ms | queued worst | loop lag max ms | GC pause max / total ms | mic frames/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, row in sorted((s.get("by_n") or {}).items(), key=lambda kv: int(kv[0])):
        for variant in ("library", "bare", "library_frozen"):
            v = row.get(variant)
            if not v:
                continue
            label = "library + gc.freeze()" if variant == "library_frozen" else variant
            lines.append(
                f"| {int(n):,} | {label} | {fmt(v['p50_ms'])} / {fmt(v['p99_ms'])} | "
                f"{fmt(v['worst_p99_ms'])} | {', '.join(fmt(x) for x in v['p99_ms_by_run'])} | "
                f"{fmt(v['queued_p50_ms'])} / {fmt(v['queued_p99_ms'])} | "
                f"{fmt(v['queued_worst_p99_ms'])} | {fmt(v['loop_lag_ms_max'])} | "
                f"{fmt(v['gc_pause_ms_max'])} / {fmt(v.get('gc_pause_ms_total'))} | "
                f"{fmt(v['mic_frames_per_s'])} |"
            )
        lines.append(
            f"| {int(n):,} | **library ÷ bare** | {fmt(row.get('ratio_p50'))} / "
            f"**{fmt(row.get('ratio_p99'))}** | {fmt(row.get('ratio_worst_p99'))} | | "
            f"p99 {fmt(row.get('queued_ratio_p99'))} | | | | |"
        )
    c = s.get("correctness", {})
    lines += [
        "",
        f"Correctness over all runs: {fmt(c.get('greeted_once'))} of {fmt(c.get('sessions'))} "
        f"sessions greeted exactly once, {fmt(c.get('missed'))} missed, {fmt(c.get('double'))} "
        "twice.",
        "",
        "**Garbage collection.** Each connection leaves aiohttp and SDK objects on the heap "
        "(closed WebSockets stay referenced by their heartbeat timers for up to 30 s), so full "
        "collections during a burst scan every live session's objects and pause the loop, in "
        "either variant. *library + gc.freeze()* calls `gc.freeze()` once the sessions are open "
        "(and `gc.unfreeze()` after): the objects that exist then are never scanned again. "
        "Guidance for apps with many sessions: call `gc.freeze()` after start-up and after each "
        "batch of long-lived sessions is set up; the library itself allocates per event only "
        "what the SDK's models need (see the memory section).",
        "",
        *_img("scale", plots_rel, "Scale, every run"),
    ]
    return lines


def _memory_md(m: dict[str, Any], plots_rel: str) -> list[str]:
    hour = m.get("hour") or {}
    return [
        f"- per live session, at {fmt(m.get('sessions'))} sessions with `NullAudioIO`: "
        f"**{fmt(m.get('per_session_kb'))} KB** (with `audio=None`: "
        f"{fmt(m.get('audio_none_per_session_kb'))} KB); method: {m.get('method')}.",
        f"- one session over a simulated hour ({fmt(hour.get('turns'))} turns: "
        f"{fmt(hour.get('mic_frames'))} microphone frames, {fmt(hour.get('audio_deltas'))} "
        f"audio deltas; ran in {fmt(hour.get('ran_s'))} s): what the library keeps grew by "
        f"**{fmt(m.get('hour_growth_kb'))} KB**; everything traced grew by "
        f"{fmt(hour.get('traced_growth_kb'))} KB, by file: "
        + ", ".join(
            f"`{Path(k).name}` {fmt(v)} B"
            for k, v in (hour.get("growth_by_file_bytes") or {}).items()
        )
        + ". Each checkpoint first clears CPython's type attribute cache "
        "(`sys._clear_type_cache()`): that cache (4,096 entries, so bounded) keeps the "
        "attribute names the SDK's models build with an f-string on every item access "
        '(`hasattr(self, f"_deserialized_{key}")`) in any loop that reads events, and would '
        "otherwise show as slow growth that is neither a leak nor the library's.",
        "",
        *_img("memory", plots_rel, "Memory over a simulated hour"),
    ]


def _audio_md(a: dict[str, Any], plots_rel: str) -> list[str]:
    p5, p95 = (a.get("added_us_paired_p5_p95") or [None, None])[:2]
    return [
        f"{fmt(a.get('events_per_batch'))} fresh SDK events x {fmt(a.get('batches'))} batches "
        "per variant, rotated, into the same open `SounddeviceAudioIO`. Bare "
        f"{fmt(a.get('bare_us'))} µs, library {fmt(a.get('proactive_us'))} µs per chunk "
        f"(the SDK's base64 decode alone: {fmt(a.get('sdk_decode_us'))} µs). Added: "
        f"**{fmt(a.get('per_chunk_us'))} µs**; batch-by-batch differences from {fmt(p5)} to "
        f"{fmt(p95)} µs (5th-95th percentile): the added cost is within that noise.",
        "",
    ]


def _nudge_md(x: dict[str, Any], plots_rel: str) -> list[str]:
    lib, timer = x.get("library") or {}, x.get("timer_at_done") or {}
    return [
        f"`after={x.get('after_s')}` s; emulator `pace={x.get('emulator_pace')}`; lateness = "
        "nudge's `response.create` minus the last greeting sample heard, minus `after`. "
        "Library: median "
        f"**{fmt(lib.get('lateness_ms_median'))} ms** ({fmt(lib.get('lateness_ms_min'))} to "
        f"{fmt(lib.get('lateness_ms_max'))}); a timer started at `response.done`: "
        f"{fmt(timer.get('lateness_ms_median'))} ms (negative: it fires while the caller "
        "still hears the greeting).",
        "",
    ]


def _redis_md(x: dict[str, Any], plots_rel: str) -> list[str]:
    stats = x.get("stats_us") or {}
    redis = (stats.get("dropin_redis") or {}).get("median")
    bare = (stats.get("bare") or {}).get("median")
    return [
        f"Dispatch with the Redis guard: median {fmt(redis)} µs against the bare loop's "
        f"{fmt(bare)} µs: ratio "
        f"**{fmt(x.get('ratio_vs_same_dict'))}**, {fmt(x.get('library_added_us'))} µs added. "
        f"Acquire times: `{json.dumps(x.get('acquire'))[:400]}`.",
        "",
    ]


def _soak_md(x: dict[str, Any], plots_rel: str) -> list[str]:
    faults = ", ".join(f"{k} {v}" for k, v in (x.get("faults") or {}).items() if v)
    heard = ", ".join(f"{k}: {v}" for k, v in (x.get("greetings_heard") or {}).items())
    drops = ", ".join(f"{k} {v}" for k, v in (x.get("drops_by_moment") or {}).items())
    lost = "; ".join(
        f"{k} ({v})"
        for k, v in {
            **(x.get("lost_speech_by_problem") or {}),
            **{f"greeting: {k}": v for k, v in (x.get("lost_greetings_by_problem") or {}).items()},
        }.items()
    )
    span = x.get("conversation_s") or {}
    lines = [
        f"{fmt(x.get('conversations'))} conversations (seed `{x.get('seed')}`, "
        f"{fmt(x.get('concurrency'))} at a time, {fmt(x.get('duration_s'))} s; one conversation "
        f"p50 {fmt(span.get('p50'))} s, max {fmt(span.get('max'))} s) through the real SDK into "
        "the emulator (in process, `pace` 0 or 8), each with one to three faults drawn at "
        "random. On a drop the app reconnects as `docs/how-to/redis.md` says: a new connection, "
        "a `RedisOnceGuard` on the conversation's key (a real `redis-server`) and "
        "`resume_greeting`. What the caller heard is read from the audio that reached its "
        "output sink (played at 25x), matched by content against the emulator's record of "
        "each response; the library's outcomes are only compared with it.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| connections (reconnections included) | {fmt(x.get('connections'))} |",
        f"| greeted twice (`soak.duplicate_greetings`) | **{fmt(x.get('duplicate_greetings'))}** |",
        f"| `say()`s lost (`soak.lost_speech`) of `soak.speeches` | "
        f"**{fmt(x.get('lost_speech'))}** of {fmt(x.get('speeches'))} "
        f"({fmt(x.get('speeches_heard'))} heard) |",
        f"| greetings lost (claimed, never heard) | {fmt(x.get('lost_greetings'))} |",
        f"| nothing greeting-like heard at all (of which the outcome did not say why) | "
        f"{fmt(x.get('missed_greetings'))} ({fmt(x.get('missed_greetings_unexplained'))}) |",
        f'| "welcome back" to a caller who never heard the greeting | '
        f"{fmt(x.get('resumed_without_greeting'))} (first connection's greeting: "
        + ", ".join(
            f"{k} {v}" for k, v in (x.get("resumed_without_greeting_first_outcome") or {}).items()
        )
        + ") |",
        f"| leaked tasks / descriptors | **{fmt(x.get('leaked_tasks'))}** / "
        f"**{fmt(x.get('leaked_fds'))}** |",
        f"| hangs, harness errors, unhandled loop errors | {fmt(x.get('hangs'))}, "
        f"{fmt(x.get('app_errors'))}, {fmt(x.get('unhandled_errors'))} |",
        f"| outcomes the ear contradicts (not counted as lost) | {fmt(x.get('outcome_notes'))} |",
        "",
        f"Faults injected: {faults}. Drops cut: {drops}. Greetings heard per conversation: "
        f"{heard}." + (f" Lost, by problem: {lost}." if lost else ""),
        "",
    ]
    failures = x.get("failures") or []
    if failures:
        lines += [f"First failures of {fmt(x.get('failures_total'))} (each replays alone):", ""]
        for failure in failures[:5]:
            problem = (failure.get("problems") or ["?"])[0]
            lines.append(
                f"- #{failure['index']} ({', '.join(failure['faults'])}): {problem}; "
                f"`{failure['reproduce']}`"
            )
        lines.append("")
    return lines


def write_markdown(
    results: dict[str, Any], path: Path | None = None, plots_rel: str | None = None
) -> Path:
    path = path or DOC
    path.parent.mkdir(parents=True, exist_ok=True)
    if plots_rel is None:
        plots_rel = "../benchmarks/results"
    path.write_text(markdown(results, plots_rel))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("file", type=Path, help="a result file (latest.json or runs/*.json)")
    parser.add_argument("--doc", type=Path, help="write the markdown here")
    parser.add_argument("--plots", type=Path, help="write the plots into this directory")
    args = parser.parse_args(argv)
    results = json.loads(args.file.read_text())
    if args.plots:
        plot(results, args.plots)
    if args.doc:
        rel = str(args.plots.resolve()) if args.plots else "../benchmarks/results"
        write_markdown(results, args.doc, rel)
    if not args.doc and not args.plots:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
