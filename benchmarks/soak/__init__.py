"""Chaos soak: many conversations through the real SDK into the emulator, faults at random.

``run(quick)`` is the ``soak`` section of ``python -m benchmarks`` (``make soak`` runs it
alone); ``python -m benchmarks.soak`` runs it with its own options (``--only N`` replays one
conversation of a seed). The seed comes from ``SOAK_SEED`` or is drawn at random, and is
printed and recorded: the same seed injects the same faults at the same points.

Modules: :mod:`.plan` (what goes wrong, from the seed), :mod:`.app` (the app, written as the
docs say), :mod:`.ear` (what the caller hears), :mod:`.count` (the judging),
:mod:`.runner` (N conversations, leak checks, the ``soak.*`` keys).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from typing import Any

FULL = 1_000
QUICK = 100


def seed_from_env(default: int | None = None) -> int:
    """``SOAK_SEED`` if set, else ``default``, else a fresh random seed."""
    value = os.environ.get("SOAK_SEED", "").strip()
    if value:
        try:
            return int(value)
        except ValueError:
            raise SystemExit(f"SOAK_SEED must be an integer, not {value!r}") from None
    return default if default is not None else random.SystemRandom().randrange(1, 2**31)


def soak(
    conversations: int,
    seed: int,
    *,
    concurrency: int = 8,
    only: list[int] | None = None,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Run the soak against a private ``redis-server`` (or ``redis_url``)."""
    from .runner import soak as run_soak

    print(f"[soak] seed {seed} (SOAK_SEED={seed} repeats it)", flush=True)
    if redis_url is not None:
        return asyncio.run(
            run_soak(conversations, seed, redis_url=redis_url, concurrency=concurrency, only=only)
        )
    from benchmarks.redis_guard_bench import _local_redis

    with _local_redis() as url:
        return asyncio.run(
            run_soak(conversations, seed, redis_url=url, concurrency=concurrency, only=only)
        )


def run(quick: bool = False) -> dict[str, Any]:
    """The ``soak`` section of ``python -m benchmarks``."""
    if shutil.which("redis-server") is None:
        return {"skipped": "no redis-server on this machine (make system-deps installs it)"}
    return soak(QUICK if quick else FULL, seed_from_env())
