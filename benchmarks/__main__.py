"""``python -m benchmarks``: run the benchmarks and write results, plots and docs/performance.md.

Exit status: 0 unless a session was greeted twice or not at all (1). Timing goals that are
missed are reported, not failed; a benchmark that crashes is reported as an error.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
import traceback
from datetime import datetime, timezone
from typing import Any

from benchmarks import machine, report
from benchmarks.alsa import REPO

# In this order: the latency-sensitive ones first, on a machine not yet warmed by the rest.
BENCHMARKS = {
    "dispatch": "benchmarks.dispatch",
    "audio": "benchmarks.audio_chunk",
    "barge_in": "benchmarks.barge_in",
    "scale": "benchmarks.scale",
    "memory": "benchmarks.memory",
}


def _correctness_failures(results: dict[str, Any]) -> list[str]:
    failures = []
    for name in ("dispatch", "scale"):
        counts = (results.get(name) or {}).get("correctness")
        if not (results.get(name) or {}).get("fresh") or not counts:
            continue
        missed = counts.get("missed", 0) + counts.get("unmatched", 0)
        missed += counts.get("emulator_without_greeting", 0)
        double = counts.get("double", 0) + counts.get("emulator_greeted_twice_or_more", 0)
        if missed or double:
            failures.append(
                f"{name}: {double} session(s) greeted twice, {missed} not greeted, "
                f"of {counts.get('sessions')}"
            )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        help="run only this benchmark (repeatable); the others keep their last figures",
    )
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)

    started = time.monotonic()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results: dict[str, Any] = report.load_previous() if args.only else {}
    for name in BENCHMARKS:
        if isinstance(results.get(name), dict):
            results[name]["fresh"] = False
    results["machine"] = machine.describe()
    for name in BENCHMARKS:
        if name not in chosen:
            continue
        print(f"[bench] {name} ...", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            section: dict[str, Any] = module.run(quick=args.quick)
        except Exception:
            section = {"error": traceback.format_exc()}
            print(section["error"], file=sys.stderr, flush=True)
        section["fresh"] = True
        section["seconds"] = round(time.monotonic() - t0, 1)
        section["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        results[name] = section
        print(f"[bench] {name} done in {section['seconds']} s", flush=True)

    failures = _correctness_failures(results)
    results["goals"] = report.goals(results)
    results["correctness"] = {"ok": not failures, "failures": failures}
    results["run"] = {
        "command": report.COMMAND,
        "argv": "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "only": args.only,
        "started_at": started_at,
        "wall_s": round(time.monotonic() - started, 1),
    }
    plots = report.plot(results)
    results["plots"] = sorted(str(p.relative_to(REPO)) for p in report.RESULTS.glob("*.png"))
    json_path = report.write_json(results)
    doc_path = report.write_markdown(results)

    print(
        f"[bench] wrote {json_path.relative_to(REPO)}, "
        f"{doc_path.relative_to(REPO)} and {len(plots)} plot(s)"
    )
    for key, goal in results["goals"].items():
        met = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
        print(f"  {key:32s} {report._fmt(goal['value']):>10s}  goal {goal['goal']:8s} {met}")
    for failure in failures:
        print(f"[bench] CORRECTNESS FAILURE: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
