"""Acquire latency: ``RedisOnceGuard`` on loopback Redis, side by side with ``OnceGuard``.

Every acquisition uses a fresh key (a fresh conversation), so each one is a real
``SET key value NX EX ttl`` that succeeds. A second series asks again for keys already
taken (a reconnect): that path costs one more round trip (a ``GET``, to say who greeted).
Acquisitions run one after another on one connection; the guards are built beforehand, so
only ``try_acquire()`` is timed. ``OnceGuard`` is timed the same way (a fresh guard each).

``run()`` starts its own ``redis-server`` (loopback, no persistence) unless given a URL.
``python -m benchmarks.redis_guard_bench [--quick] [--url redis://...]`` prints the dict.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

import voicelive_proactive as vp
from benchmarks._stats import percentile

N_FULL = 20_000
N_QUICK = 2_000
WARMUP = 500


def _latency(samples_ns: list[int]) -> dict[str, Any]:
    us = [s / 1000 for s in samples_ns]
    return {
        "n": len(us),
        "p50_us": round(percentile(us, 50), 2),
        "p99_us": round(percentile(us, 99), 2),
        "mean_us": round(sum(us) / len(us), 2),
        "max_us": round(max(us), 2),
    }


def _once_guard(n: int) -> list[int]:
    guards = [vp.OnceGuard() for _ in range(n)]
    samples = []
    clock = time.perf_counter_ns
    for guard in guards:
        t0 = clock()
        guard.try_acquire()
        samples.append(clock() - t0)
    return samples


async def _redis_guard(url: str, n: int) -> dict[str, Any]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    async with client:
        prefix = f"bench:{uuid.uuid4().hex}"
        clock = time.perf_counter_ns

        async def series(guards: list[vp.RedisOnceGuard], expect: vp.GuardResult) -> list[int]:
            samples = []
            for guard in guards:
                t0 = clock()
                result = await guard.try_acquire()
                samples.append(clock() - t0)
                if result is not expect:
                    raise RuntimeError(f"{guard.key}: expected {expect}, got {result}")
            return samples

        def guards(count: int, tag: str) -> list[vp.RedisOnceGuard]:
            return [
                vp.RedisOnceGuard(client, key=f"{prefix}:{tag}:{i}", ttl=300, owner="bench")
                for i in range(count)
            ]

        warmup = guards(WARMUP, "warmup")
        await series(warmup, vp.GuardResult.ACQUIRED)
        fresh = guards(n, "call")
        acquired = await series(fresh, vp.GuardResult.ACQUIRED)
        again = [vp.RedisOnceGuard(client, key=g.key, ttl=300) for g in fresh]
        taken = await series(again, vp.GuardResult.TAKEN)
        server = await client.info("server")
        # Only our own keys (the URL may be someone's Redis); they would expire anyway.
        keys = [g.key for g in warmup + fresh]
        for start in range(0, len(keys), 1000):
            await client.unlink(*keys[start : start + 1000])
    return {
        "acquired": acquired,
        "taken": taken,
        "server": f"redis-server {server.get('redis_version', '?')}",
    }


@contextlib.contextmanager
def _local_redis() -> Iterator[str]:
    """A private redis-server on a free loopback port, no persistence, stopped after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: run `make system-deps` or pass a URL")
    with tempfile.TemporaryDirectory(prefix="vp-redis-bench-") as workdir:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", workdir, "--logfile", f"{workdir}/redis.log"]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=1) as conn,
                ):
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (see {workdir}/redis.log)")
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait()


_CLIENTS: dict[tuple[str, int], Any] = {}


def make_guard(url: str, key: str) -> vp.GuardLike:
    """A ``RedisOnceGuard`` for ``key`` on one shared client per URL and event loop.

    Workers hold one client (one connection pool) for all their calls, so a session's
    greeting pays one round trip, not a TCP connect.
    """
    import redis.asyncio as aioredis

    loop_id = id(asyncio.get_running_loop())
    client = _CLIENTS.get((url, loop_id))
    if client is None:
        client = _CLIENTS[(url, loop_id)] = aioredis.Redis.from_url(url)
    return vp.RedisOnceGuard(client, key=key, ttl=600)


def run(quick: bool = False, *, url: str | None = None) -> dict[str, Any]:
    """Acquire latency of both guards (microseconds: p50, p99, mean, max)."""
    import redis

    n = N_QUICK if quick else N_FULL
    once = _latency(_once_guard(n))
    with contextlib.ExitStack() as stack:
        where = url if url is not None else stack.enter_context(_local_redis())
        measured = asyncio.run(_redis_guard(where, n))
    acquired = _latency(measured["acquired"])
    return {
        "n": n,
        "once_guard": {"acquired": once},
        "redis_once_guard": {"acquired": acquired, "taken": _latency(measured["taken"])},
        # What the shared guard adds to the moment a greeting is decided (a ratio of a
        # network round trip to a lock would only say "a lot").
        "added_p50_us": round(acquired["p50_us"] - once["p50_us"], 2),
        "added_p99_us": round(acquired["p99_us"] - once["p99_us"], 2),
        "setup": (
            f"{measured['server']} on loopback, redis-py {redis.__version__}, one connection, "
            "sequential acquisitions, fresh keys"
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redis_guard_bench")
    parser.add_argument(
        "--quick", action="store_true", help=f"{N_QUICK} acquisitions, not {N_FULL}"
    )
    parser.add_argument("--url", help="an existing Redis (default: start a private redis-server)")
    args = parser.parse_args(argv)
    print(json.dumps(run(quick=args.quick, url=args.url), indent=2))


if __name__ == "__main__":
    main()
