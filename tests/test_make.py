"""The two commands of the README work on a fresh machine: what `make test` needs, it installs.

`make -n` prints the recipes in the order make would run them, without running them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str) -> list[str]:
    result = subprocess.run(
        ["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.splitlines()


def first_line(lines: list[str], pattern: str) -> int:
    found = [n for n, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r} in:\n" + "\n".join(lines)
    return found[0]


@pytest.mark.parametrize("target", ["docs", "pytest", "test"])
def test_npm_is_installed_before_the_docs_fetch_mermaid(target: str) -> None:
    lines = dry_run(target)
    install = first_line(lines, r"apt-get install -y -qq npm")
    fetch = first_line(lines, r"fetch_mermaid\.py")
    assert install < fetch


def test_the_readme_says_what_make_test_installs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    for package in ("npm", "libportaudio2", "redis-server", "chromium"):
        assert f"`{package}`" in section, package
