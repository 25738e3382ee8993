"""Every code block in README.md and docs/ either runs in the test suite or says why not.

The conventions are in ``snippets.py``; the blocks themselves run as tests of their own
(collected from the Markdown by Sybil, see the root ``conftest.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .snippets import REPO, RUN_ELSEWHERE

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
GENERATED = {"docs/sdk-live-tests.md", "docs/performance.md"}  # written by make targets
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$", re.M)
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")


def blocks(page: Path) -> list[tuple[int, str]]:
    """(line, info string) of every fenced block that opens on the page."""
    found: list[tuple[int, str]] = []
    text = page.read_text(encoding="utf-8")
    open_fence: str | None = None
    for match in FENCE.finditer(text):
        fence, info = match.group("fence"), match.group("info").strip()
        if open_fence is None:
            open_fence = fence
            found.append((text.count("\n", 0, match.start()) + 1, info))
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not info:
            open_fence = None
    return found


def python_blocks(page: Path) -> list[tuple[int, str, str]]:
    """(line, info string, source) of every ```python block on the page."""
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    found: list[tuple[int, str, str]] = []
    for line, info in blocks(page):
        if info.split(" ", 1)[0] != "python":
            continue
        body: list[str] = []
        for source_line in lines[line:]:
            if source_line.strip() in ("```", "~~~"):
                break
            body.append(source_line)
        found.append((line, info, "".join(body)))
    return found


def name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_python_and_shell_blocks_run_or_say_why_not(page: Path) -> None:
    for line, info in blocks(page):
        language = info.split(" ", 1)[0]
        where = f"{name(page)}:{line}: ```{info}"
        if language in {"py", "python3", "pycon", "sh", "shell"}:
            pytest.fail(f"{where}: use python (runs), console (runs) or bash (shown only)")
        if language == "python" and info != "python":
            assert re.search(r'title="Sketch\b', info), f'{where}: run it, or title="Sketch: ..."'
        if language == "console" and info != "console":
            assert "not run" in info, f'{where}: run it, or title="...: not run ..."'


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_python_block_is_a_program_python_can_run(page: Path) -> None:
    # As `python block.py` compiles it: no top-level await (a SyntaxError in a script).
    for line, info, source in python_blocks(page):
        if info != "python":
            continue  # a Sketch
        try:
            compile(source, f"{name(page)}:{line}", "exec", dont_inherit=True)
        except SyntaxError as exc:
            pytest.fail(
                f"{name(page)}:{line + (exc.lineno or 0)}: {exc.msg}. A reader copies this "
                "block into a file: make it a program (async def main() ... "
                'asyncio.run(main())), or title it "Sketch: ..."'
            )


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_python_blocks_fit_100_columns(page: Path) -> None:
    # The site shows 100 columns of code without cutting them (see extra.css).
    for line, _, source in python_blocks(page):
        for offset, text in enumerate(source.splitlines(), start=1):
            assert len(text) <= 100, f"{name(page)}:{line + offset}: {len(text)} columns"


def test_the_snippet_runner_sees_many_blocks() -> None:
    counts = {"python": 0, "console": 0, "sketch": 0}
    for page in PAGES:
        if name(page) in GENERATED or name(page) in RUN_ELSEWHERE:
            continue
        for _, info in blocks(page):
            if info in ("python", "console"):
                counts[info] += 1
            elif info.startswith("python "):
                counts["sketch"] += 1
    assert counts["python"] >= 60, counts
    assert counts["console"] >= 3, counts
    assert counts["sketch"] <= counts["python"] // 4, counts  # sketches stay the exception


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_relative_links_name_existing_files(page: Path) -> None:
    # mkdocs checks the site's links strictly; this also covers the README and the targets
    # outside docs/ that the hook turns into repository links.
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.exists(), f"{name(page)} links to {target}, which does not exist"
