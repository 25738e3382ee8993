"""The documentation site builds (strict, offline) and documents every public name."""

from __future__ import annotations

import re
from pathlib import Path

import voicelive_proactive as vp
import voicelive_proactive.testing as vp_testing

from .snippets import REPO

REFERENCE = REPO / "docs" / "reference"


def public_names() -> list[str]:
    return [f"voicelive_proactive.{name}" for name in vp.__all__] + [
        f"voicelive_proactive.testing.{name}" for name in vp_testing.__all__
    ]


def test_every_public_name_has_a_reference_entry() -> None:
    directives = set(re.findall(r"^::: ([\w.]+)$", _reference_markdown(), re.M))
    missing = [name for name in public_names() if name not in directives]
    assert not missing, f"add a ::: line for these to a page in docs/reference/: {missing}"


def test_every_public_name_is_rendered_from_its_docstring(built_site: Path) -> None:
    html = "".join(
        p.read_text(encoding="utf-8") for p in (built_site / "reference").rglob("*.html")
    )
    anchors = set(re.findall(r'id="([\w.]+)"', html))
    missing = [name for name in public_names() if name not in anchors]
    assert not missing, f"the reference does not render: {missing}"


def test_the_session_reference_shows_its_signature_and_docstring(built_site: Path) -> None:
    page = (built_site / "reference" / "session" / "index.html").read_text(encoding="utf-8")
    assert "Makes the agent speak first" in page  # the class docstring
    assert "render_timeout" in page and "greet_when" in page  # the signature
    assert 'id="voicelive_proactive.ProactiveSession.say"' in page  # a method


def test_docstrings_link_to_pages_instead_of_naming_their_paths(built_site: Path) -> None:
    # A docstring's Markdown link ([the floor](../concepts/floor.md), relative to the
    # reference page that renders it) is checked by the strict build; a bare path is not a
    # link at all, and readers see "docs/concepts/." as text.
    for page in sorted((built_site / "reference").rglob("*.html")):
        html = re.sub(
            r"<(code|pre|a|script|style)\b.*?</\1>", "", page.read_text("utf-8"), flags=re.S
        )
        text = re.sub(r"<[^>]+>", " ", html)
        paths = re.findall(r"\bdocs/[\w./-]*", text)
        assert not paths, f"{page.relative_to(built_site)} shows paths as text: {paths}"


def test_every_page_is_built(built_site: Path) -> None:
    pages = sorted(p.relative_to(REPO / "docs") for p in (REPO / "docs").rglob("*.md"))
    for page in pages:
        if page.parts[0] == "_tools":
            continue
        html = "index.html" if page.stem == "index" else f"{page.stem}/index.html"
        assert (built_site / page.parent / html).is_file(), f"{page} was not built"
    assert (built_site / "changelog" / "index.html").is_file()  # from CHANGELOG.md


def test_the_site_needs_no_network(built_site: Path) -> None:
    bundle = built_site / "assets" / "javascripts" / "mermaid.min.js"
    assert bundle.stat().st_size > 1_000_000, "Mermaid's bundle is copied into the site"
    floor = (built_site / "concepts" / "floor" / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in floor
    assert re.search(r'<script src="[./]*assets/javascripts/mermaid\.min\.js"', floor)
    for page in built_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text, f"{page} loads web fonts"
        assert not re.search(r'<script[^>]+src="https?://', text), f"{page} loads a script"


def test_links_out_of_docs_point_to_the_repository(built_site: Path) -> None:
    testing = (built_site / "how-to" / "testing" / "index.html").read_text(encoding="utf-8")
    assert "/blob/main/examples/test_my_agent.py" in testing


def _reference_markdown() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in REFERENCE.glob("*.md"))
