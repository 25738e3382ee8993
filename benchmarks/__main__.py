"""``python -m benchmarks``: run the benchmarks; write this run's file, and the report if complete.

Every run writes ``benchmarks/results/runs/<run id>.json``. Only a complete run (all sections,
full size, none failed) also writes ``benchmarks/results/latest.json``, the plots and
``docs/performance.md``; ``--only`` and ``--quick`` runs leave them alone (``--doc PATH``
renders this run's own page elsewhere, for review).

Exit status: 0 unless a session was greeted twice or not at all (a soak conversation whose
caller heard the greeting twice included), or a section crashed (1).
Timing goals that are missed are reported, not failed.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import machine, report
from benchmarks.alsa import REPO
from benchmarks.peers import report as peers_report

# In this order: the latency-sensitive ones first, on a machine not yet warmed by the rest.
SECTIONS = {
    "dispatch": "benchmarks.dispatch",
    "greeting_latency": "benchmarks.greeting_latency",
    "first_sample": "benchmarks.first_sample",
    "audio": "benchmarks.audio_chunk",
    "duplex": "benchmarks.duplex",
    "barge_in": "benchmarks.barge_in",
    "nudge": "benchmarks.nudge",
    "redis_guard": "benchmarks.redis_dispatch",
    "scale": "benchmarks.scale",
    "memory": "benchmarks.memory",
    "soak": "benchmarks.soak",
    # Versus LiveKit Agents (its own venv and processes): last, it loads the machine longest.
    "peers": "benchmarks.peers.section",
}


def _correctness_failures(results: dict[str, Any]) -> list[str]:
    failures = []
    for name in ("dispatch", "scale"):
        counts = (results.get(name) or {}).get("correctness")
        if not counts:
            continue
        missed = counts.get("missed", 0) + counts.get("unmatched", 0)
        missed += counts.get("emulator_without_greeting", 0)
        double = counts.get("double", 0) + counts.get("emulator_greeted_twice_or_more", 0)
        if missed or double:
            failures.append(
                f"{name}: {double} session(s) greeted twice, {missed} not greeted, "
                f"of {counts.get('sessions')}"
            )
    twice = (results.get("soak") or {}).get("duplicate_greetings")
    if twice:
        failures.append(
            f"soak: {twice} conversation(s) greeted twice, of "
            f"{results['soak'].get('conversations')}"
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SECTIONS),
        help="run only this section (repeatable); writes only this run's own file",
    )
    parser.add_argument("--doc", type=Path, help="also render this run's page here")
    args = parser.parse_args(argv)
    chosen = args.only or list(SECTIONS)

    info = machine.describe()
    started = time.monotonic()
    now = datetime.now(timezone.utc)
    commit = info.get("git_commit") or "unknown"
    run: dict[str, Any] = {
        "id": f"{now.strftime('%Y%m%dT%H%M%SZ')}-{commit[:8]}",
        "commit": commit,
        "dirty": info.get("git_dirty"),
        "started_at": now.isoformat(timespec="seconds"),
        "command": report.COMMAND,
        "argv": "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "only": args.only,
        "complete": False,
    }
    results: dict[str, Any] = {"run": run, "machine": info}
    crashed = []
    for name in chosen:
        print(f"[bench] {name} ...", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(SECTIONS[name])
            section: dict[str, Any] = module.run(quick=args.quick)
        except Exception:
            section = {"error": traceback.format_exc()}
            crashed.append(name)
            print(section["error"], file=sys.stderr, flush=True)
        section["run_id"] = run["id"]
        section["commit"] = commit
        section["seconds"] = round(time.monotonic() - t0, 1)
        section["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        results[name] = section
        note = f" (skipped: {section['skipped']})" if "skipped" in section else ""
        print(f"[bench] {name} done in {section['seconds']} s{note}", flush=True)

    failures = _correctness_failures(results)
    failures += peers_report.correctness_failures(results)
    run["wall_s"] = round(time.monotonic() - started, 1)
    run["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run["complete"] = not args.quick and not args.only and not crashed
    results["goals"] = report.evaluate(results)
    results["correctness"] = {"ok": not failures, "failures": failures}

    written = [report.write_run(results)]
    if run["complete"]:
        plots = report.plot(results, report.RESULTS)
        results["plots"] = sorted(str(p.relative_to(REPO)) for p in plots)
        written += [report.write_latest(results), report.write_markdown(results), *plots]
    if args.doc:
        plots_dir = args.doc.parent / f"{args.doc.stem}-plots"
        report.plot(results, plots_dir)
        written.append(report.write_markdown(results, args.doc, str(plots_dir.resolve())))
    for path in written:
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"[bench] wrote {shown}")
    if not run["complete"]:
        print("[bench] not a complete run: latest.json and docs/performance.md left alone")
    for key, goal in results["goals"].items():
        met = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
        print(f"  {key:44s} {report.fmt(goal['value']):>10s}  goal {goal['goal']:8s} {met}")
    for failure in failures:
        print(f"[bench] CORRECTNESS FAILURE: {failure}", file=sys.stderr)
    return 1 if failures or crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
