"""The built site looks right in a real browser: headless Chromium, with no network.

The site is served from loopback; every other host name is unresolvable for the browser, so
a page that needed a CDN would show it. Checked in the rendered DOM: the navigation, code
highlighting, and the Mermaid diagrams (Material replaces each ``pre.mermaid`` with a rendered
``div.mermaid`` only when Mermaid ran). The screenshots are kept in
``.cache/docs/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .snippets import REPO

SHOTS = REPO / ".cache" / "docs" / "screenshots"
PAGES = {
    "home": "",
    "floor": "concepts/floor/",
    "getting-started": "getting-started/",
    "reference-session": "reference/session/",
}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium; `make test` installs it as root)",
)


# Added to a page served with "?layout": once it is laid out, it writes what it measured
# into the DOM as JSON, where --dump-dom shows it.
LAYOUT_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const column = document.querySelector(".md-content__inner");
  const edge = column.getBoundingClientRect().right;
  const blocks = [...column.querySelectorAll("pre > code")].map((code) => ({
    columns: Math.max(...code.textContent.split("\\n").map((line) => line.length)),
    scrollWidth: code.scrollWidth,
    clientWidth: code.clientWidth,
    overflowX: getComputedStyle(code).overflowX,
  }));
  const tables = [...column.querySelectorAll("table")].map((table) => ({
    right: table.getBoundingClientRect().right,
    edge: edge,
  }));
  const out = document.createElement("pre");
  out.id = "vp-layout";
  out.textContent = JSON.stringify({ column: column.clientWidth, blocks, tables });
  document.body.append(out);
}, 200));
</script>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self) -> Any:
        path, _, query = self.path.partition("?")
        if query != "layout":
            return super().send_head()
        page = Path(self.translate_path(path))
        page = page / "index.html" if page.is_dir() else page
        body = page.read_bytes().replace(b"</body>", LAYOUT_PROBE.encode() + b"</body>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built_site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join(timeout=10)


def chromium(tmp_path: Path, *args: str, scrollbars: bool = False) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        *([] if scrollbars else ["--hide-scrollbars"]),
        f"--user-data-dir={tmp_path / 'profile'}",
        # The network is closed: only the loopback server can be reached.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,1000",
        "--virtual-time-budget=15000",  # let the page's scripts (Mermaid) finish
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_renders_with_navigation_and_highlighting(
    page: str, site_url: str, tmp_path: Path
) -> None:
    dom = chromium(tmp_path, "--dump-dom", site_url + PAGES[page])
    nav = dom[dom.index('class="md-nav md-nav--primary"') :]
    for entry in ("Getting started", "How-to guides", "Testing your agent", "Troubleshooting"):
        assert re.search(rf">\s*{entry}\s*<", nav), f"the navigation lists {entry!r}"
    if page in {"floor", "getting-started"}:
        assert 'class="language-python highlight"' in dom, "highlighted Python"
        assert '<span class="kn">import</span>' in dom or '<span class="k">' in dom
    if page in {"home", "floor"}:
        assert '<pre class="mermaid"' not in dom, "Mermaid did not run"
        assert '<div class="mermaid"></div>' in dom, "a rendered Mermaid diagram"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_screenshot(page: str, site_url: str, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{page}.png"
    with contextlib.suppress(FileNotFoundError):
        shot.unlink()
    chromium(tmp_path, f"--screenshot={shot}", site_url + PAGES[page])
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1000)
    assert len(data) > 30_000, "a page with content, not a blank one"


# Pages with code formatted at (nearly) 100 columns and with tables, the parameter table of
# the reference among them.
LAYOUT_PAGES = ["concepts/collaborators/", "how-to/testing/", "reference/session/"]


@pytest.mark.parametrize("page", LAYOUT_PAGES)
def test_code_up_to_100_columns_and_tables_fit_the_content_column(
    page: str, site_url: str, tmp_path: Path
) -> None:
    # At 1280 px, with a real scrollbar taking its width: the narrowest desktop layout with
    # both sidebars that the pages are written for.
    dom = chromium(tmp_path, "--dump-dom", f"{site_url}{page}?layout", scrollbars=True)
    found = re.search(r'<pre id="vp-layout">(.*?)</pre>', dom, re.S)
    assert found, "the layout probe did not run"
    layout = json.loads(html.unescape(found.group(1)))
    assert layout["blocks"], "the page has code blocks"
    for block in layout["blocks"]:
        if block["columns"] <= 100:
            assert block["scrollWidth"] <= block["clientWidth"], f"{page}: cut: {block}"
        else:  # longer lines (program output, say) scroll rather than being cut
            assert block["overflowX"] in ("auto", "scroll"), f"{page}: {block}"
    for table in layout["tables"]:
        assert table["right"] <= table["edge"] + 1, f"{page}: a table overflows: {table}"
    if page == "concepts/collaborators/":
        assert max(block["columns"] for block in layout["blocks"]) == 100
    if page == "reference/session/":
        assert layout["tables"], "the parameter table"
