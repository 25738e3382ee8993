"""``.venv-livekit``: LiveKit Agents in a venv of its own, built once and reused.

``python -m benchmarks.peers.venv`` (``make livekit-venv``) builds it from
``benchmarks/peers/requirements-livekit.txt``; the ``peers`` section calls :func:`ensure`
itself, so ``make bench`` needs nothing by hand. LiveKit never enters the project's ``.venv``:
``make test`` does not grow, and LiveKit's pins cannot move ours.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from benchmarks.alsa import REPO

VENV = REPO / ".venv-livekit"
REQUIREMENTS = Path(__file__).with_name("requirements-livekit.txt")
STAMP = VENV / ".requirements-sha256"


def python() -> Path:
    return VENV / "bin" / "python"


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(quiet: bool = True) -> Path:
    """The LiveKit venv's Python, built or updated when the requirements changed.

    Raises ``RuntimeError`` saying why when it cannot be built (e.g. no package index).
    """
    if python().exists() and STAMP.exists() and STAMP.read_text().strip() == _digest():
        return python()
    flags = ["--quiet"] if quiet else []
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(python()), "-m", "pip", "install", *flags, "--upgrade", "pip"],
        [str(python()), "-m", "pip", "install", *flags, "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            raise RuntimeError(f"could not build {VENV.name} ({' '.join(step[2:5])}): {last}")
    STAMP.write_text(_digest() + "\n")
    return python()


if __name__ == "__main__":
    print(ensure(quiet=False))
