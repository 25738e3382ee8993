from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .snippets import REPO

sys.path.insert(0, str(REPO / "docs" / "_tools"))
from fetch_mermaid import fetch

# Anything that tries the network during the build goes to a closed port and fails.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
OFFLINE |= {key.lower(): value for key, value in OFFLINE.items()}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `make docs` builds it: strict, with no network."""
    fetch()  # Mermaid's bundle from npm, unless already cached (make docs does this first)
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, **OFFLINE, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return site
