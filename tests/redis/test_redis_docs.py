"""Every Python snippet in docs/how-to/redis.md runs as written: with Redis, and without it."""

from __future__ import annotations

import inspect
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import voicelive_proactive as vp
from tests.conftest import documented_pytest_configuration, run_python

from .conftest import RedisServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "redis.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
HAS_RESUME = "resume_greeting" in inspect.signature(vp.ProactiveSession).parameters


def run_snippet(code: str, redis_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the snippet as a reader would: a program with python, a test file with pytest."""
    if "resume_greeting" in code and not HAS_RESUME:
        pytest.skip("needs the session's resume_greeting")
    if "def test_" in code:
        (tmp_path / "pyproject.toml").write_text(documented_pytest_configuration())
        (tmp_path / "test_snippet.py").write_text(code)
        argv = ["-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "test_snippet.py"]
    else:
        (tmp_path / "snippet.py").write_text(code)
        argv = ["-W", "error", "snippet.py"]
    result = run_python(argv, tmp_path, {"REDIS_URL": redis_url})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "s3cret" not in output
    # The SDK's complaint when a connection is closed under a running reader: the pages
    # show a shutdown that does not provoke it.
    assert "Unexpected WebSocket message type" not in output
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
    if "def test_" in SNIPPETS[index]:
        assert "1 passed" in result.stdout  # not skipped: redis-server is installed here


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_without_redis(
    index: int, redis_factory: Callable[..., RedisServer], tmp_path: Path
) -> None:
    server = redis_factory()
    url = server.url
    server.stop()  # nothing listens there now
    run_snippet(SNIPPETS[index], url, tmp_path)
