"""Fetch the ``azure-ai-voicelive`` sdist with pip and lay out a pristine copy of its tests."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

__all__ = ["DIST_NAME", "download_sdist", "extract_sdist", "installed_sdk_version"]

DIST_NAME = "azure-ai-voicelive"


def installed_sdk_version() -> str:
    """The SDK version installed next to the harness (the project's venv)."""
    return importlib.metadata.version(DIST_NAME)


def _archive_name(version: str) -> str:
    return f"{DIST_NAME.replace('-', '_')}-{version}.tar.gz"


def download_sdist(version: str, dist_dir: Path) -> Path:
    """The sdist of exactly ``version``, downloaded once into ``dist_dir`` and reused after."""
    archive = dist_dir / _archive_name(version)
    if archive.is_file():
        return archive
    dist_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"{DIST_NAME}=={version}",
        "--dest",
        str(dist_dir),
    ]
    subprocess.run(command, check=True)
    if not archive.is_file():
        raise FileNotFoundError(f"pip download did not produce {archive}")
    return archive


def extract_sdist(archive: Path, work_dir: Path) -> Path:
    """A fresh copy of the sdist under ``work_dir``; returns its root (with ``tests/``).

    Extracted anew on every run, so the tests that run are byte for byte the published ones.
    """
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        roots = {member.name.split("/", 1)[0] for member in members}
        if len(roots) != 1:
            raise ValueError(f"{archive.name}: expected one top folder, found {sorted(roots)}")
        root = work_dir / roots.pop()
        if root.exists():
            shutil.rmtree(root)
        work_dir.mkdir(parents=True, exist_ok=True)
        tar.extractall(work_dir, filter="data")
    if not (root / "tests" / "live").is_dir():
        raise FileNotFoundError(f"{archive.name} has no tests/live")
    return root
