"""``python -m benchmarks.soak``: the chaos soak on its own (``make soak``).

Writes ``benchmarks/results/runs/soak-<UTC time>-<seed>.json`` with every ``soak.*`` key and
prints the figures; exit status 1 when a conversation heard two greetings, lost a speech,
leaked a task or a descriptor, or hung.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from typing import Any

from benchmarks.report import RUNS

from . import FULL, seed_from_env, soak


def failed(section: dict[str, Any]) -> list[str]:
    """The soak's goals that were missed (all are 0)."""
    keys = ("duplicate_greetings", "lost_speech", "leaked_tasks", "leaked_fds", "hangs")
    return [f"{key} = {section.get(key)}" for key in keys if section.get(key)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("-n", "--conversations", type=int, default=FULL)
    parser.add_argument("--seed", type=int, help="default: SOAK_SEED, else random")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--only", type=int, action="append", help="run only this conversation (repeatable)"
    )
    parser.add_argument("--redis-url", help="default: a private redis-server")
    parser.add_argument("--verbose", action="store_true", help="print each failure in full")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else seed_from_env()
    section = soak(
        args.conversations,
        seed,
        concurrency=args.concurrency,
        only=args.only,
        redis_url=args.redis_url,
    )
    RUNS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RUNS / f"soak-{stamp}-{seed}.json"
    path.write_text(json.dumps(section, indent=1) + "\n")
    shown = {k: v for k, v in section.items() if not isinstance(v, (list, dict))}
    for key, value in shown.items():
        print(f"  soak.{key:28s} {value}")
    print(f"  soak.faults {section['faults']}")
    print(f"  soak.greetings_heard {section['greetings_heard']}")
    print(f"  soak.drops_by_moment {section['drops_by_moment']}")
    print(f"  soak.outcome_note_kinds {section['outcome_note_kinds']}")
    for failure in section["failures"][: None if args.verbose else 10]:
        print(f"  FAILURE #{failure['index']} {failure['faults']}: {failure['problems'][:3]}")
        print(f"    {failure['reproduce']}")
    print(f"[soak] wrote {path}")
    missed = failed(section)
    for line in missed:
        print(f"[soak] GOAL MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
