"""docs/config.md works as written: every Python snippet runs, every TOML sample loads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import voicelive_proactive as vp
from voicelive_proactive.config._files import tomllib

DOC = Path(__file__).resolve().parent.parent / "docs" / "config.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(DOC.read_text()) if lang == language]


def printed_after(code: str) -> str | None:
    """The ```text block that follows "It prints:" right after this snippet, if any."""
    text = DOC.read_text()
    after = text[text.index(code) + len(code) :]
    match = re.match(r"```\s*\n+It prints:\s*\n+```text\n(.*?)```", after, re.S)
    return match.group(1) if match else None


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_snippet_runs_as_written(code: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = printed_after(code)
    if expected is not None:
        assert result.stdout == expected


@pytest.mark.parametrize("code", blocks("toml"))
def test_toml_sample_is_a_valid_greeting(code: str) -> None:
    strategy = vp.load_greeting(tomllib.loads(code))
    assert strategy.alternatives()


def test_the_doc_has_snippets() -> None:
    assert len(blocks("python")) >= 7 and len(blocks("toml")) >= 2
    assert any(printed_after(code) for code in blocks("python"))
