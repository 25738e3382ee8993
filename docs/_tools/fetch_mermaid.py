"""Put Mermaid's browser bundle where the docs build finds it, from the npm registry.

The site renders its diagrams with Mermaid in the reader's browser. mkdocs-material would load
it from a CDN at page view; the site ships its own copy instead, so the built site works with
no network at all. This script fetches that copy once, with the ordinary npm client, checks it
against the pinned integrity hash and keeps ``dist/mermaid.min.js`` and the licence in
``.cache/docs/`` (the mkdocs hook copies them into the site). Nothing is fetched when the
cached copy is already there, so ``mkdocs build`` itself never touches the network.

    python docs/_tools/fetch_mermaid.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "11.17.2"  # mkdocs-material 9.x drives the Mermaid 11 API
INTEGRITY = (
    "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7Lo"
    "aRQxULMa80/qt5gHO73aCleBBg=="
)
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "docs"
TARGET = CACHE / f"mermaid-{VERSION}.min.js"
LICENSE = CACHE / f"mermaid-{VERSION}.LICENSE"


def fetch() -> Path:
    """Return the cached bundle, fetching and checking it first if needed."""
    if TARGET.is_file() and LICENSE.is_file():
        return TARGET
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "The docs need Mermaid's browser bundle from the npm registry, and npm is not "
            "installed: apt-get install npm (or install Node.js), then run make docs again."
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"mermaid@{VERSION}", "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = Path(tmp, f"mermaid-{VERSION}.tgz").read_bytes()
    algorithm, _, expected = INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise SystemExit(f"mermaid@{VERSION} from npm does not match its pinned integrity hash")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        bundle = archive.extractfile("package/dist/mermaid.min.js")
        licence = archive.extractfile("package/LICENSE")
        assert bundle is not None and licence is not None
        CACHE.mkdir(parents=True, exist_ok=True)
        LICENSE.write_bytes(licence.read())
        TARGET.write_bytes(bundle.read())
    return TARGET


if __name__ == "__main__":
    if not TARGET.is_file():
        print(f"fetching mermaid@{VERSION} from the npm registry", file=sys.stderr)
    fetch()
