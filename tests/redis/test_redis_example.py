"""examples/redis_once.py runs against the emulator and a real redis-server, and says clearly
when no Redis is reachable."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import copy_example, run_python

from .conftest import RedisServer


def run_example(tmp_path: Path, redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {"VOICELIVE_PROACTIVE_WAV": str(tmp_path / "out.wav"), "REDIS_URL": redis_url}
    script = copy_example("redis_once", tmp_path / "project")  # alone, as a user copies it
    return run_python(["-W", "error", str(script)], tmp_path, env)


def test_the_reconnect_is_not_greeted_again(tmp_path: Path, redis_server: RedisServer) -> None:
    result = run_example(tmp_path, redis_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "using the local emulator" in result.stdout
    assert "Unexpected WebSocket message type" not in result.stdout + result.stderr
    assert "first connection: sent; said: 'Hello! Thanks for calling." in result.stdout
    assert 'after reconnecting: sent, resumed=True; said: "Sorry, we were cut off.' in result.stdout
    assert f"greeted by: {os.uname().nodename}:" in result.stdout


def test_no_redis_is_a_clear_message(
    tmp_path: Path, redis_factory: Callable[..., RedisServer]
) -> None:
    server = redis_factory()
    url = f"redis://:hunter2@127.0.0.1:{server.port}/0"
    server.stop()  # a port where nothing listens now
    result = run_example(tmp_path, url)
    assert result.returncode == 2
    assert f"No Redis reachable at 127.0.0.1:{server.port}" in result.stderr
    assert "REDIS_URL" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
