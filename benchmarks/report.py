"""Write the three outputs: ``results/latest.json``, the PNG plots and ``docs/performance.md``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.alsa import REPO

RESULTS = REPO / "benchmarks" / "results"
DOC = REPO / "docs" / "performance.md"
COMMAND = "make bench"

# (key in latest.json, what it measures, goal text, test)
Goal = tuple[str, str, str, Callable[[dict[str, Any]], bool | None]]


def _get(results: dict[str, Any], dotted: str) -> Any:
    value: Any = results
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


BARGE_IN_GOAL_MS = 20


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _at_most(dotted: str, limit: float) -> Callable[[dict[str, Any]], bool | None]:
    def met(results: dict[str, Any]) -> bool | None:
        value = _num(_get(results, dotted))
        return None if value is None or math.isnan(value) else value <= limit

    return met


def _below(dotted: str, limit: float) -> Callable[[dict[str, Any]], bool | None]:
    def met(results: dict[str, Any]) -> bool | None:
        value = _num(_get(results, dotted))
        return None if value is None or math.isnan(value) else value < limit

    return met


def _scale_met(results: dict[str, Any]) -> bool | None:
    scale = results.get("scale") or {}
    if "sessions" not in scale:
        return None
    return bool(
        scale["sessions"] >= 1000
        and scale["greeted_exactly_once"]
        and (_num(scale.get("p99_dispatch_ms")) or math.inf) < 50
    )


GOALS: list[Goal] = [
    ("dispatch.bare_median_us", "dispatch latency, bare SDK loop (median, µs)", "", lambda r: None),
    (
        "dispatch.proactive_median_us",
        "dispatch latency, `handle()` drop-in, `audio=None` (median, µs)",
        "",
        lambda r: None,
    ),
    (
        "dispatch.ratio_median",
        "drop-in ÷ bare, medians of the same run",
        "≤ 1.05",
        _at_most("dispatch.ratio_median", 1.05),
    ),
    (
        "dispatch.run_ratio_median",
        "`run()` ÷ bare (extra)",
        "≤ 1.05",
        _at_most("dispatch.run_ratio_median", 1.05),
    ),
    (
        "audio.per_chunk_us",
        "added cost of one 50 ms delta through `handle()` into the device buffer (µs)",
        "≤ 10 µs",
        _at_most("audio.per_chunk_us", 10),
    ),
    (
        "barge_in.stale_ms",
        "interrupted audio the device still wrote after `speech_started` (median, ms)",
        "≤ 20 ms",
        _at_most("barge_in.stale_ms", BARGE_IN_GOAL_MS),
    ),
    ("scale.sessions", "concurrent sessions, one client process", "1,000", _scale_met),
    (
        "scale.greeted_exactly_once",
        "every session got exactly one `response.create`",
        "true",
        lambda r: _get(r, "scale.greeted_exactly_once"),
    ),
    (
        "scale.p99_dispatch_ms",
        "p99 dispatch latency at 1,000 sessions (ms)",
        "< 50 ms",
        _below("scale.p99_dispatch_ms", 50),
    ),
    (
        "memory.per_session_kb",
        "library-owned memory per live session at 1,000 (KB)",
        "< 20 KB",
        _below("memory.per_session_kb", 20),
    ),
]


def goals(results: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, _what, goal, met in GOALS:
        if goal:
            out[key] = {"value": _get(results, key), "goal": goal, "met": met(results)}
    return out


# ---------------------------------------------------------------------------------- JSON


def _strip(results: dict[str, Any]) -> dict[str, Any]:
    """Drop the raw per-session samples (kept for the plots) from what goes to JSON."""
    out = dict(results)
    if isinstance(out.get("dispatch"), dict):
        out["dispatch"] = {k: v for k, v in out["dispatch"].items() if k != "samples_us"}
    return out


def load_previous() -> dict[str, Any]:
    try:
        previous: dict[str, Any] = json.loads((RESULTS / "latest.json").read_text())
    except (OSError, ValueError):
        return {}
    return previous


def write_json(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(_strip(results), indent=2, sort_keys=False) + "\n")
    return path


# ---------------------------------------------------------------------------------- plots


def plot(results: dict[str, Any]) -> list[Path]:
    """Draw what this run measured; plots of sections not re-run are left as they are."""
    import matplotlib

    matplotlib.use("Agg")
    made = []
    for name, draw in (
        ("dispatch", _plot_dispatch),
        ("scale", _plot_scale),
        ("barge_in", _plot_barge_in),
    ):
        section = results.get(name) or {}
        if section.get("fresh") and "error" not in section and "skipped" not in section:
            path = RESULTS / f"{name}.png"
            if draw(section, path):
                made.append(path)
    return made


COLORS = {"bare": "#555555", "dropin": "#1f77b4", "run": "#2ca02c", "dropin_audio": "#ff7f0e"}
LABELS = {
    "bare": "bare SDK loop",
    "dropin": "handle() drop-in",
    "run": "run()",
    "dropin_audio": "drop-in, library owns audio",
}


def _plot_dispatch(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    samples = section.get("samples_us")
    if not samples:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    upper = 0.0  # the slowest variant's p95, so the body of the distributions fills the plot
    for variant, values in samples.items():
        if not values:
            continue
        ordered = sorted(values)
        n = len(ordered)
        ax.step(
            ordered,
            [(i + 1) / n for i in range(n)],
            where="post",
            color=COLORS.get(variant),
            label=f"{LABELS.get(variant, variant)} (median {ordered[n // 2]:.0f} µs)",
        )
        upper = max(upper, ordered[min(n - 1, int(n * 0.95))])
    ax.set_xlim(left=min(min(v) for v in samples.values() if v) * 0.95, right=upper * 1.25)
    ax.set_xlabel("session.updated received → response.create at the emulator (µs)")
    ax.set_ylabel("fraction of sessions")
    ratio = section.get("ratio_median")
    ax.set_title(f"Greeting dispatch, sequential sessions (drop-in ÷ bare = {ratio})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plot_scale(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    per_n = section.get("per_n") or {}
    lib = sorted(
        (v for v in per_n.values() if v["variant"] == "dropin_audio"), key=lambda v: v["n"]
    )
    if not lib:
        return False
    bare = [v for v in per_n.values() if v["variant"] == "bare"]
    bare.sort(key=lambda v: v["n"])
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    ns = [v["n"] for v in lib]
    for series, name, color, offset in (
        (lib, "ProactiveSession", COLORS["dropin"], 1.0),
        (bare, "bare loop", COLORS["bare"], 1.04),
    ):
        if not series:
            continue
        xs = [v["n"] * offset for v in series]  # nudged apart so the bars do not overlap
        for stat, style in (("p50", "o--"), ("p99", "s-")):
            values = [v[f"{stat}_ms"] for v in series]
            low = [v[f"{stat}_ms"] - v[f"{stat}_ms_range"][0] for v in series]
            high = [v[f"{stat}_ms_range"][1] - v[f"{stat}_ms"] for v in series]
            ax.errorbar(
                xs,
                values,
                yerr=[low, high],
                fmt=style,
                capsize=3,
                color=color,
                markerfacecolor="none" if name == "bare loop" else color,
                label=f"{name} {stat}",
            )
    ax.axhline(50, color="#d62728", linestyle="--", linewidth=1, label="goal: p99 < 50 ms")
    ax.set_xscale("log")
    ax.set_yscale("log")  # p50 is below a millisecond, p99 ten times more
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_xlabel("concurrent sessions (one client process)")
    ax.set_ylabel("dispatch latency (ms, log scale)")
    ax.set_title(
        "Greeting dispatch under load (median of runs; bars: range)\n"
        "all sessions send session.update at once",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _barge_label(name: str, multiline: bool = False) -> str:
    parts = name.split("_")  # variant, packet, [block]
    if parts[0] == "library":
        block = f"{parts[2][5:-2]} ms blocks" if len(parts) > 2 else "defaults"
        if multiline:
            return f"library\n({block})"
        return f"library: handle() + SounddeviceAudioIO ({block})"
    if multiline:
        return f"naive queue\n({parts[1][:-2]} ms packets)"
    return f"naive packet queue, {parts[1][:-2]} ms packets"


def _plot_barge_in(section: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    trials = section.get("trials") or []
    if not trials:
        return False
    names = list(dict.fromkeys(t["name"] for t in trials))
    fig, ax = plt.subplots(figsize=(8, 4.4))
    for i, name in enumerate(names):
        mine = [t for t in trials if t["name"] == name]
        stale = [t["stale_ms"] for t in mine]
        heard = [t["heard_after_ms"] for t in mine]
        jitter = [i + (k - len(mine) / 2) * 0.02 for k in range(len(mine))]
        color = COLORS["dropin"] if name.startswith("library") else COLORS["bare"]
        ax.scatter(jitter, stale, color=color, s=22, zorder=3)
        ax.scatter(jitter, heard, color=color, s=22, marker="x", alpha=0.5, zorder=3)
        median = sorted(stale)[len(stale) // 2]
        ax.hlines(median, i - 0.3, i + 0.3, color=color, linewidth=2)
        ax.annotate(f"{median:.0f} ms", (i + 0.32, median), va="center", fontsize=8)
    ax.axhline(20, color="#d62728", linestyle="--", linewidth=1, label="goal: ≤ 20 ms")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([_barge_label(n, multiline=True) for n in names], fontsize=8)
    ax.set_ylabel("ms of the interrupted response")
    ax.set_title("Barge-in: audio written after speech_started (dots), heard after it (x)")
    ax.grid(alpha=0.3, axis="y")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------------- markdown


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[value]


def markdown(results: dict[str, Any]) -> str:
    run = results.get("run", {})
    machine = results.get("machine", {})
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python -m benchmarks` (benchmarks/report.py). Do not edit by hand. -->",
        "",
        "voicelive-proactive against the loop you would write by hand with the bare "
        "`azure-ai-voicelive` SDK. Every ratio compares the two **measured in the same run**, "
        "on the same machine, interleaved (A B A B ...), so machine noise hits both alike.",
        "",
        f"Produced by `{COMMAND}` (which runs `python -m benchmarks`) in "
        f"{_fmt(run.get('wall_s'))} s on {run.get('started_at', 'n/a')}"
        + (" with `--quick`" if run.get("quick") else "")
        + ".",
        "",
        "## How to read this",
        "",
        "- Timings are medians (with p90/p99 where the tail matters) of many repetitions; "
        "ratios are library ÷ bare loop. A ratio of 1.00 means the library adds nothing; "
        "below 1 it is cheaper than the hand-written loop.",
        "- The machines are shared and noisy: compare ratios, not absolute microseconds, and "
        "expect a few percent of drift between runs (the spread is given below).",
        "- The run **fails only on correctness**: a session greeted twice, or not at all "
        "(exit code 1). A missed timing goal is reported here, never fails the run, and "
        "never appears in a unit test.",
        "",
        "## Results",
        "",
        "| key in latest.json | what | value | goal | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    table = goals(results)
    for key, what, goal, _met_fn in GOALS:
        value = _get(results, key)
        met = table.get(key, {}).get("met") if goal else None
        lines.append(
            f"| `{key}` | {what} | {_fmt(value)} | {goal or '-'} | {_met(met) if goal else '-'} |"
        )
    lines += ["", *_missed(results), *_details(results), "", "## Machine", ""]
    packages = machine.get("packages", {})
    lines += [
        f"- {machine.get('cores')} cores ({machine.get('cores_usable')} usable), "
        f"{machine.get('cpu')}, {machine.get('memory_gb')} GB RAM; {machine.get('os')}",
        f"- {machine.get('python')}; load average at start {machine.get('load_average')}",
        "- " + ", ".join(f"{name} {version}" for name, version in packages.items() if version),
        f"- PortAudio: {machine.get('portaudio')}",
        f"- git commit `{machine.get('git_commit')}`"
        + (" (with uncommitted changes)" if machine.get("git_dirty") else ""),
        "",
        "## Running it",
        "",
        "```sh",
        "make bench                                    # everything",
        ".venv/bin/python -m benchmarks --quick       # fewer repetitions",
        ".venv/bin/python -m benchmarks --only scale  # one benchmark; others keep theirs",
        "```",
        "",
        "Names for `--only`: dispatch, audio, barge_in, scale, memory. The raw figures, per run "
        "and per trial, are in `benchmarks/results/latest.json`.",
        "",
    ]
    return "\n".join(lines)


def _missed(results: dict[str, Any]) -> list[str]:
    """A short, figure-backed explanation for each goal this run missed."""
    table = goals(results)
    notes = []
    if table.get("dispatch.ratio_median", {}).get("met") is False:
        d = results["dispatch"]
        b = d.get("breakdown_us") or {}
        sdk = (_num(b.get("sdk_models")) or 0) + (_num(b.get("sdk_send")) or 0)
        sdk_x = round(sdk / b["library_logic"], 1) if _num(b.get("library_logic")) else None
        notes.append(
            f"- **Dispatch ratio {_fmt(d['ratio_median'])}**: the drop-in adds "
            f"{_fmt(d['proactive_median_us'] - d['bare_median_us'])} µs to a "
            f"{_fmt(d['bare_median_us'])} µs path. In process, `handle()` takes "
            f"{_fmt(b.get('library'))} µs against the bare handler's {_fmt(b.get('bare'))} µs; "
            f"the library's own logic (state, guard, rendering, outcome) is "
            f"{_fmt(b.get('library_logic'))} µs of it, and building and serializing the SDK "
            f"models ({_fmt(b.get('sdk_models'))} + {_fmt(b.get('sdk_send'))} µs) costs the "
            f"same in both loops. That SDK model work is {_fmt(sdk_x)}x the library's own "
            "logic: building the wire events without the SDK's model classes would more than "
            "pay for the library."
        )
    if table.get("barge_in.stale_ms", {}).get("met") is False:
        b = results["barge_in"]
        block = _num(b.get("library_playback_block_ms"))
        room = BARGE_IN_GOAL_MS - 2 * block if block is not None else None
        notes.append(
            f"- **Barge-in {_fmt(b['stale_ms'])} ms**: nothing the library holds is played "
            "after `speech_started`; the rest is what PortAudio had already handed to the "
            f"device: its output latency ({_fmt(b.get('library_output_latency_ms'))} ms) plus "
            f"two playback blocks of {_fmt(block)} ms. Check the reported latency: a device "
            f"that reports more than {_fmt(room)} ms needs a smaller `latency=` to meet the "
            "goal."
        )
    if not notes:
        return []
    return ["## Goals not met, and why", "", *notes, ""]


def _section_header(results: dict[str, Any], name: str, title: str) -> list[str]:
    section = results.get(name) or {}
    lines = [f"### {title}", ""]
    if "error" in section:
        lines += [f"Error: `{section['error'].splitlines()[-1]}`", ""]
    if "skipped" in section:
        lines += [f"Skipped: {section['skipped']}", ""]
    if section.get("measured_at") and not section.get("fresh"):
        lines += [f"(Figures from an earlier run, {section['measured_at']}.)", ""]
    return lines


def _details(results: dict[str, Any]) -> list[str]:
    lines = ["## Details", ""]
    lines += _dispatch_details(results)
    lines += _audio_details(results)
    lines += _barge_in_details(results)
    lines += _scale_details(results)
    lines += _memory_details(results)
    return lines


def _dispatch_details(results: dict[str, Any]) -> list[str]:
    d = results.get("dispatch") or {}
    lines = _section_header(results, "dispatch", "Dispatch: session ready → greeting on the wire")
    if "stats_us" not in d:
        return lines
    lines += [
        "From the client receiving `session.updated` to the emulator receiving the "
        "greeting's `response.create`. The emulator runs in its own process; both sides "
        "stamp with `time.monotonic_ns()` (system-wide on Linux). The client stamp is taken "
        "when the frame leaves the aiohttp socket, before the SDK parses it, in the same "
        "wrapper for every variant; the emulator stamp when the frame enters its "
        "per-connection handler (a wrapper installed in the emulator's process by "
        "`benchmarks/emulator_proc.py`). The two are paired by session id. "
        f"{d.get('sessions_per_variant')} sequential sessions per variant, one emulator "
        "(`pace=0`, synthetic voice), variants rotated every round.",
        "",
        "| variant | median µs | p90 µs | p99 µs | ratio (median) | ratio (p90) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for variant, stats in d["stats_us"].items():
        r50 = 1.0 if variant == "bare" else round(stats["median"] / d["bare_median_us"], 3)
        r90 = "1" if variant == "bare" else _fmt(d.get("ratio_p90", {}).get(variant))
        lines.append(
            f"| {LABELS.get(variant, variant)} | {_fmt(stats.get('median'))} | "
            f"{_fmt(stats.get('p90'))} | {_fmt(stats.get('p99'))} | {_fmt(r50)} | {r90} |"
        )
    blocks = d.get("block_ratios", {})
    lines += [
        "",
        "Spread: the drop-in ÷ bare ratio computed separately over consecutive blocks of "
        f"the run: {', '.join(_fmt(x) for x in blocks.get('dropin', []))} "
        f"(`run()`: {', '.join(_fmt(x) for x in blocks.get('run', []))}).",
        "",
        "The bare loop is the hand-written pattern: on the first `session.updated`, "
        "`conn.response.create(response=ResponseCreateParams(pre_generated_assistant_message="
        "...))`; audio deltas appended to the app's queue. The drop-in is the same loop with "
        "`await proactive.handle(event)` added and `audio=None` (the app keeps its audio "
        "handling, like the bare loop); `run()` moves the app's audio handling into "
        "`on_event`. *Drop-in, library owns audio* uses `audio=NullAudioIO()`: the library "
        "then also starts its microphone uplink task on `session.updated`, work the bare "
        "loop does not do. Correctness: "
        f"{d.get('correctness', {}).get('greeted_once')} of "
        f"{d.get('correctness', {}).get('sessions')} sessions greeted exactly once.",
        "",
        "![Dispatch latency distribution](../benchmarks/results/dispatch.png)",
        "",
    ]
    b = d.get("breakdown_us")
    if b:
        lines += [
            "Where the time goes, in process (µs, medians of "
            "interleaved repetitions; the greeting sent through `FakeConnection`, i.e. the "
            "SDK's own `send` without a socket):",
            "",
            "| step | µs |",
            "| --- | --- |",
            f"| bare handler: `event.type` check, SDK models, `conn.response.create` | "
            f"{_fmt(b['bare'])} |",
            f"| `await proactive.handle(event)` | {_fmt(b['library'])} |",
            f"| of which the library's own logic (SDK work taken out) | "
            f"{_fmt(b['library_logic'])} |",
            f"| building the greeting's SDK models (both loops) | {_fmt(b['sdk_models'])} |",
            f"| serializing them in the SDK's `send` (both loops) | {_fmt(b['sdk_send'])} |",
            "",
        ]
    return lines


def _audio_details(results: dict[str, Any]) -> list[str]:
    a = results.get("audio") or {}
    lines = _section_header(results, "audio", "Audio: one 50 ms delta into the device buffer")
    if "bare_us" not in a:
        return lines
    lines += [
        "| variant | µs per chunk (median of batches) | range |",
        "| --- | --- | --- |",
        f"| bare loop: `if event.type == ...: queue.append(event.delta)` | "
        f"{_fmt(a['bare_us'])} | {_fmt(a['bare_us_range'][0])}-{_fmt(a['bare_us_range'][1])} |",
        f"| `await proactive.handle(event)` → `SounddeviceAudioIO` buffer | "
        f"{_fmt(a['proactive_us'])} | "
        f"{_fmt(a['proactive_us_range'][0])}-{_fmt(a['proactive_us_range'][1])} |",
        f"| the SDK's base64 decode alone (`event.delta`) | {_fmt(a['sdk_decode_us'])} | |",
        "",
        f"Added cost per chunk (library minus bare): **{_fmt(a['per_chunk_us'])} µs** "
        f"(ratio {_fmt(a['ratio'])}; paired batch-by-batch differences "
        f"{_fmt(a['added_us_paired_range'][0])} to {_fmt(a['added_us_paired_range'][1])} µs). "
        "It is negative when the library is cheaper: `handle()` reads the event type "
        'through the mapping (`event["type"]`) instead of the SDK\'s slower attribute '
        "access. Beyond the SDK's own decode, which every loop pays, `handle()` costs "
        f"{_fmt(a['library_beyond_decode_us'])} µs per chunk. Fresh SDK events per batch "
        f"({a['events_per_batch']} x {a['batches']} batches per variant, rotated); the "
        "output stream is built on the ALSA file device but not started, so no PortAudio "
        "thread competes for the GIL.",
        "",
    ]
    return lines


def _barge_in_details(results: dict[str, Any]) -> list[str]:
    b = results.get("barge_in") or {}
    lines = _section_header(results, "barge_in", "Barge-in: stale audio after speech_started")
    if "variants" not in b:
        return lines
    lines += [
        "A 3 s response, its samples encoding their position, streams in 100 ms deltas "
        "through `handle()` into `SounddeviceAudioIO` on the ALSA `file` device, whose FIFO "
        "is read at real-time pace. 0.5-1 s in, `input_audio_buffer.speech_started` goes "
        "through `handle()`; at the moment it returns we note how many bytes the device had "
        "written into the FIFO (read so far + still in the pipe). **Stale** = audio of the "
        "interrupted response the device wrote after that moment. *Heard after* also counts "
        "what already sat in the 4 KiB pipe that stands in for a DAC's buffer "
        f"({_fmt(b.get('pipe_ms'))} ms, the same for any player).",
        "",
        "| variant | stale ms (median) | min-max | heard after (median) | audio intact |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, v in b["variants"].items():
        label = _barge_label(name).replace("handle()", "`handle()`")
        lines.append(
            f"| {label} | {_fmt(v['stale_ms_median'])} | {_fmt(v['stale_ms_min'])}-"
            f"{_fmt(v['stale_ms_max'])} | {_fmt(v['heard_after_ms_median'])} | "
            f"{_fmt(v['audio_intact'])} |"
        )
    lines += [
        "",
        f"The naive queue leaves {_fmt(round(b.get('ratio_naive_over_library') or 0, 1))}x "
        "as much stale "
        "audio. It is modelled on the Azure Voice Live sample's `AudioProcessor`: a "
        "`queue.Queue` of sequence-numbered packets; the output callback (50 ms blocks, as "
        "in the sample) first plays the rest of the packet it is in, then pulls packets; "
        "`skip_pending_audio()` only raises a sequence threshold, so the remainder of the "
        "current packet keeps playing. The library drops everything it holds under one "
        "lock; what remains is what PortAudio had already handed to the device: its buffer "
        "(the output latency, "
        f"{_fmt(b.get('library_output_latency_ms'))} ms here, plus one block) and the block "
        "being written, so stale audio is the latency plus two playback blocks. "
        "`SounddeviceAudioIO` therefore plays in 5 ms blocks by default (`playback_block_ms`; "
        "capture keeps `block_ms`). The *10 ms* and *20 ms blocks* rows are the library's "
        "earlier playback blocks. Smaller blocks do not shorten how late a callback may be "
        "before the device runs dry (the output latency, whatever the block size); they "
        "mean more callbacks, 200 a second at 5 ms, each needing the GIL. *Audio "
        "intact*: with the silence removed, the file is exactly a prefix of the response.",
        "",
        "![Barge-in stale audio](../benchmarks/results/barge_in.png)",
        "",
    ]
    return lines


def _scale_details(results: dict[str, Any]) -> list[str]:
    s = results.get("scale") or {}
    lines = _section_header(results, "scale", "Scale: concurrent sessions from one process")
    if "per_n" not in s:
        return lines
    setup = s.get("setup", {})
    lines += [
        "Each session is a real SDK `connect()` to an emulator process (one per "
        f"{setup.get('sessions_per_emulator_process')} sessions, pace "
        f"{setup.get('emulator_pace')}x real time, synthetic voice, greeting "
        f'"{setup.get("greeting")}"), a `ProactiveSession` drop-in with '
        "`audio=NullAudioIO()`. At most "
        f"{setup.get('handshakes_at_once')} handshakes run at once; when all sessions are "
        "open, every one sends `session.update` in the same event-loop turn, so all "
        "greetings are dispatched under load. Latency as in the dispatch benchmark. The bare "
        "loop runs at every N too. "
        f"{setup.get('repeats')} runs per N and variant, interleaved, each starting once the "
        "emulators have closed the previous run's connections; figures are medians of the "
        "runs. A run that the shared machine stalls shows up in the ranges, for either "
        "variant. The biggest such stall is the garbage collector: aiohttp keeps each closed "
        "WebSocket referenced by its heartbeat timer (the SDK's default 30 s), so the "
        "previous runs' connections are still on the heap, and a full collection during a "
        "burst pauses the client for up to 0.5 s whichever variant is running, so compare "
        "the ranges, not only the medians.",
        "",
        "| N | variant | p50 ms | p99 ms (range over runs) | ratio p50 / p99 "
        "| greeted exactly once | connect s | greet s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = sorted(s["per_n"].values(), key=lambda v: (v["n"], v["variant"] == "bare"))
    for v in rows:
        ratios = (
            f"{_fmt(v.get('ratio_p50'))} / {_fmt(v.get('ratio_p99'))}" if "ratio_p50" in v else "-"
        )
        lines.append(
            f"| {v['n']:,} | {LABELS.get(v['variant'], v['variant'])} | {_fmt(v['p50_ms'])} | "
            f"{_fmt(v['p99_ms'])} ({_fmt(v['p99_ms_range'][0])}-{_fmt(v['p99_ms_range'][1])})"
            f" | {ratios} | {_fmt(v['greeted_exactly_once'])} | {_fmt(v['connect_s'])} | "
            f"{_fmt(v['greet_s'])} |"
        )
    c = s.get("correctness", {})
    lines += [
        "",
        f"At 1,000 sessions, library ÷ bare: p50 {_fmt(s.get('ratio_p50'))}, p99 "
        f"{_fmt(s.get('ratio_p99'))}. Correctness over all runs: {c.get('greeted_once'):,} "
        f"of {c.get('sessions'):,} sessions greeted exactly once, {c.get('missed')} missed, "
        f"{c.get('double')} greeted twice. *greet s* is from the `session.update` burst to "
        "the last session closing after its greeting's `response.done`.",
        "",
        "![Dispatch latency against concurrent sessions](../benchmarks/results/scale.png)",
        "",
    ]
    return lines


def _memory_details(results: dict[str, Any]) -> list[str]:
    m = results.get("memory") or {}
    lines = _section_header(results, "memory", "Memory per live session")
    if "with_audio" not in m:
        return lines
    lines += [
        f"{m.get('sessions'):,} `ProactiveSession`s on `FakeConnection`, each after a whole "
        "greeting (`session.created`, `session.updated`, the greeting's response with two "
        "audio deltas, `response.done`) and kept alive. Method: " + str(m.get("method")) + ".",
        "",
        f"- with `audio=NullAudioIO()`: **{_fmt(m['with_audio']['per_session_kb'])} KB** "
        "per session",
        f"- with `audio=None`: {_fmt(m.get('audio_none_per_session_kb'))} KB per session",
        "",
        "Where it goes (bytes per session, with audio), charged to the innermost library "
        "line of each allocation's traceback: an attribute assignment that grows the "
        "session's `__dict__` is charged to that line, and what the SDK or asyncio "
        "allocate on the library's behalf to the library line that called them:",
        "",
    ]
    for site, size in m["with_audio"]["top_sites_bytes_per_session"].items():
        code = m["with_audio"].get("top_sites_code", {}).get(site, "")
        lines.append(f"- `{site}` {size:,} B" + (f": `{code}`" if code else ""))
    lines.append("")
    return lines


def write_markdown(results: dict[str, Any]) -> Path:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(markdown(results))
    return DOC
