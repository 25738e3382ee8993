"""Redis guard: the dispatch ratio with a shared (Redis) guard, and its acquire times.

Scaffolding; skipped (with a note) while ``benchmarks/redis_guard_bench.py`` (written by
another helper) or a ``redis-server`` binary is missing. The contract with that module:

* ``run(quick: bool) -> dict``: its own figures (acquire p50/p99 against ``OnceGuard``),
  included here as ``acquire``;
* ``make_guard(url: str, key: str) -> GuardLike``: a guard that says yes once per ``key`` on
  the Redis at ``url``; the dispatch variant builds one per session, with a fresh key, so every
  session greets.

The dispatch part runs sequential sessions against the emulator as :mod:`benchmarks.dispatch`
does, alternating the strongest bare loop and the ``handle()`` drop-in with the Redis guard
(a private ``redis-server`` on a free port, no persistence), and reports the ratio of medians
and the added µs, on the same client-side stamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from typing import Any

from benchmarks._stats import ratio, summary


def _unavailable() -> tuple[str | None, Any]:
    try:
        module = importlib.import_module("benchmarks.redis_guard_bench")
    except ImportError:
        return "benchmarks/redis_guard_bench.py is not there yet (another helper writes it)", None
    if shutil.which("redis-server") is None:
        return "no redis-server binary on this machine", None
    if not callable(getattr(module, "make_guard", None)):
        return "benchmarks/redis_guard_bench.py has no make_guard(url, key) yet", None
    return None, module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def redis_server() -> Any:
    """A private ``redis-server`` on a free loopback port; yields its URL."""
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="vp-bench-redis-")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


async def _dispatch(url: str, module: Any, rounds: int) -> dict[str, list[float]]:
    from benchmarks.emulator_proc import EmulatorProcess
    from benchmarks.loops import Run, session

    emulator = EmulatorProcess(pace=0.0, voice="synthetic")
    out: dict[str, list[float]] = {"bare": [], "dropin_redis": []}
    try:
        for i in range(rounds + 3):
            order = ["bare", "dropin_redis"] if i % 2 == 0 else ["dropin_redis", "bare"]
            for variant in order:
                run = Run()
                if variant == "dropin_redis":
                    run.guard = module.make_guard(url, f"vp-bench:{uuid.uuid4().hex}")
                loop = "bare" if variant == "bare" else "dropin"
                tap = await session(emulator.endpoint, emulator.api_key, loop, run)
                if i >= 3 and tap.dispatch_us is not None and tap.creates == 1:
                    out[variant].append(tap.dispatch_us)
    finally:
        emulator.close()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    why, module = _unavailable()
    if why is not None:
        return {"skipped": why, "goal": "dispatch ratio with a Redis guard, reported"}
    result: dict[str, Any] = {}
    if callable(getattr(module, "run", None)):
        result["acquire"] = module.run(quick=quick)
    with redis_server() as url:
        samples = asyncio.run(_dispatch(url, module, 40 if quick else 300))
    bare, lib = samples["bare"], samples["dropin_redis"]
    if bare and lib:
        result["ratio_vs_same_dict"] = ratio(statistics.median(lib), statistics.median(bare))
        result["library_added_us"] = round(statistics.median(lib) - statistics.median(bare), 1)
    result["stats_us"] = {"bare": summary(bare), "dropin_redis": summary(lib)}
    return result
