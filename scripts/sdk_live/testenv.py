"""The virtualenv the SDK's tests run in, separate from the project's.

The SDK's test extra pulls in packages the project does not use (OpenTelemetry, soundfile),
so they live in their own venv under the cache directory, built once and reused while the
requirements stay the same.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

from .sdist import DIST_NAME

__all__ = ["TestEnv", "requirements"]

# What the live tests import or need to run: the SDK itself (with aiohttp, which the tests
# importorskip), pytest with its asyncio plugin, OpenTelemetry for the telemetry tests
# (azure-core's "opentelemetry" tracing needs the azure-core plugin), soundfile (the SDK's
# test extra; the harness also uses it to encode the MP3 asset) and pytest-xdist to run the
# tests in parallel.
_BASE = (
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-xdist>=3.5",
    "opentelemetry-sdk>=1.20",
    "azure-core-tracing-opentelemetry>=1.0.0b11",
    "soundfile>=0.12",
    "numpy>=1.24",
)
_RERUNS = "pytest-rerunfailures>=13.0"


def requirements(sdk_version: str, *, reruns: bool) -> list[str]:
    """The pip requirements of the test venv."""
    wanted = [f"{DIST_NAME}[aiohttp]=={sdk_version}", *_BASE]
    if reruns:
        wanted.append(_RERUNS)
    return wanted


class TestEnv:
    """A venv at ``path`` holding ``requirements``; ``ensure()`` builds or refreshes it."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, path: Path, wanted: list[str]) -> None:
        self.path = path
        self.wanted = wanted

    @property
    def python(self) -> Path:
        scripts = "Scripts" if sys.platform == "win32" else "bin"
        suffix = ".exe" if sys.platform == "win32" else ""
        return self.path / scripts / f"python{suffix}"

    @property
    def _stamp(self) -> Path:
        return self.path / ".sdk-live-requirements"

    def _digest(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.wanted)).encode()).hexdigest()

    def ensure(self) -> None:
        """Create the venv and install the requirements, unless it already has them."""
        if self._stamp.is_file() and self._stamp.read_text().strip() == self._digest():
            return
        if not self.python.is_file():
            venv.EnvBuilder(with_pip=True, clear=True).create(self.path)
        pip = [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *self.wanted], check=True)
        self._stamp.write_text(self._digest() + "\n")
