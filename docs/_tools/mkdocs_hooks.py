"""mkdocs hooks: a site that works offline and links that are checked beyond docs/.

- Mermaid's browser bundle (fetched by ``fetch_mermaid.py``) is copied into the site, so
  diagrams render with no network; mkdocs-material uses a ``mermaid`` it finds loaded.
- ``CHANGELOG.md`` (at the repository root) becomes the page ``changelog.md``.
- A relative link that leaves ``docs/`` (``../examples/test_my_agent.py``,
  ``../benchmarks/results/dispatch.png``) must name a file that exists in the repository,
  or the strict build fails. Images are copied into the site; other files link to the
  repository's copy. So the Markdown reads the same on GitHub and on the site.
"""

from __future__ import annotations

import logging
import posixpath
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

sys.path.insert(0, str(Path(__file__).parent))
from fetch_mermaid import LICENSE, TARGET

log = logging.getLogger("mkdocs.hooks.voicelive_proactive")

REPO = Path(__file__).resolve().parents[2]
MERMAID_JS = "assets/javascripts/mermaid.min.js"
MERMAID_LICENSE = "assets/javascripts/mermaid.LICENSE.txt"
REPO_ASSETS = "assets/repo"
CHANGELOG = "changelog.md"
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}
# [text](target) and ![alt](target); a target has no spaces (a title after one is kept).
LINK = re.compile(r"(!?\[[^\]\n]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})", re.MULTILINE)


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    if not TARGET.is_file():
        log.error(
            "Mermaid's bundle is missing (%s): run `make docs`, or "
            "`python docs/_tools/fetch_mermaid.py` once.",
            TARGET,
        )
    else:
        files.append(File.generated(config, MERMAID_JS, abs_src_path=str(TARGET)))
        files.append(
            File.generated(
                config, "assets/javascripts/mermaid.LICENSE.txt", abs_src_path=str(LICENSE)
            )
        )
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    files.append(File.generated(config, CHANGELOG, content=changelog))
    return files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    docs = Path(config.docs_dir).resolve()
    src = page.file.src_uri
    # The changelog pretends to live in docs/ but was written at the repository root.
    base = REPO if src == CHANGELOG else (docs / src).parent
    to_root = "../" * src.count("/")

    def rewrite(match: re.Match[str]) -> str:
        head, target, tail = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
            return match.group(0)  # a URL, an anchor or a site-absolute path
        path, _, anchor = target.partition("#")
        resolved = (base / path).resolve()
        if src != CHANGELOG and resolved.is_relative_to(docs):
            return match.group(0)  # mkdocs checks links inside docs/ itself
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            log.warning("%s: the link %r names no file in the repository", src, target)
            return match.group(0)
        if resolved.is_relative_to(docs):  # from the changelog into docs/
            rel = resolved.relative_to(docs).as_posix()
            return f"{head}{to_root}{rel}{'#' + anchor if anchor else ''}{tail}"
        rel = resolved.relative_to(REPO).as_posix()
        if resolved.suffix.lower() in IMAGE_SUFFIXES:
            uri = f"{REPO_ASSETS}/{rel}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(resolved)))
            return f"{head}{to_root}{uri}{tail}"
        kind = "tree" if resolved.is_dir() else "blob"
        url = posixpath.join(config.repo_url or "", kind, "main", rel)
        return f"{head}{url}{'#' + anchor if anchor else ''}{tail}"

    return _outside_code(markdown, lambda text: LINK.sub(rewrite, text))


def _outside_code(markdown: str, change: Any) -> str:
    """Apply ``change`` to the prose only, leaving fenced code blocks as they are."""
    out: list[str] = []
    pos = 0
    open_fence: str | None = None
    for match in FENCE.finditer(markdown):
        fence = match.group(2)
        if open_fence is None:
            out.append(change(markdown[pos : match.start()]))
            pos = match.start()
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence):
            end = markdown.find("\n", match.end())
            end = len(markdown) if end < 0 else end
            if markdown[match.end() : end].strip():
                continue  # an opening fence with an info string cannot close a block
            out.append(markdown[pos:end])
            pos = end
            open_fence = None
    rest = markdown[pos:]
    out.append(rest if open_fence is not None else change(rest))
    return "".join(out)
