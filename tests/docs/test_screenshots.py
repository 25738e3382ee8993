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
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


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


def chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
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
