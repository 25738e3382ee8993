"""Every Python snippet in docs/how-to/redis.md runs as written: with Redis, and without it."""

from __future__ import annotations

import inspect
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import voicelive_proactive as vp
from tests.conftest import run_python

from .conftest import RedisServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "redis.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
HAS_RESUME = "resume_greeting" in inspect.signature(vp.ProactiveSession).parameters


def run_snippet(code: str, redis_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if "resume_greeting" in code and not HAS_RESUME:
        pytest.skip("needs the session's resume_greeting")
    result = run_python(["-c", code], tmp_path, {"REDIS_URL": redis_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    return result


def test_the_doc_has_snippets() -> None:
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_with_redis(index: int, redis_server: RedisServer, tmp_path: Path) -> None:
    result = run_snippet(SNIPPETS[index], redis_server.url, tmp_path)
    if "after reconnecting:" in SNIPPETS[index]:
        assert "first connection: sent" in result.stdout
        assert "after reconnecting: skipped" in result.stdout
    if "resumed=" in SNIPPETS[index]:
        assert "first: 'Hello! Thanks for calling.' (resumed=False)" in result.stdout
        assert "reconnected: 'Welcome back! Where were we?' (resumed=True)" in result.stdout
    if 'owner="worker-3"' in SNIPPETS[index]:
        assert "greeted by worker-3" in result.stdout


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_without_redis(
    index: int, redis_factory: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = redis_factory()
    url = server.url
    server.stop()  # nothing listens there now
    run_snippet(SNIPPETS[index], url, tmp_path)
