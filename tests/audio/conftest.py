"""Fixtures for the audio tests, including a real PortAudio device made of an ALSA file PCM.

The recipe (also in docs/audio.md): a temporary ``HOME`` whose ``~/.asoundrc`` makes ALSA's
default device an ``asym`` PCM that plays into a ``file`` PCM over the ``null`` PCM and
captures from a ``null`` PCM. The file is a FIFO that the scenario process reads at a fixed
rate, which paces playback like a sound card (see ``device_scenarios.py``). PortAudio reads
the ALSA configuration when ``sounddevice`` is imported, so each scenario runs in a fresh
process with that ``HOME``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from voicelive_proactive.testing.alsa import asoundrc

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).with_name("device_scenarios.py")


@dataclass
class AlsaFileDevice:
    """A temporary ``HOME`` whose default ALSA device plays into ``fifo``."""

    home: Path
    out: Path

    @property
    def fifo(self) -> Path:
        return self.home / "speaker.fifo"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALSA_")}
        env["HOME"] = str(self.home)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env

    def run(self, scenario: str, **params: Any) -> dict[str, Any]:
        """Run one scenario of device_scenarios.py in a fresh process; return its JSON."""
        proc = self.run_raw(scenario, **params)
        if proc.returncode != 0:
            pytest.fail(f"scenario {scenario!r} failed:\n{proc.stderr}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    def run_raw(self, scenario: str, **params: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCENARIOS), scenario, str(self.out), json.dumps(params)],
            env=self.env(),
            cwd=self.out,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def read(self, name: str) -> bytes:
        return (self.out / name).read_bytes()


def make_alsa_file_device(root: Path) -> AlsaFileDevice:
    home, out = root / "home", root / "out"
    home.mkdir()
    out.mkdir()
    device = AlsaFileDevice(home, out)
    os.mkfifo(device.fifo)
    (home / ".asoundrc").write_text(asoundrc(device.fifo))
    return device


@pytest.fixture(scope="session")
def alsa_unavailable(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """Why the ALSA file device cannot be used here, or ``None`` when it can."""
    if not sys.platform.startswith("linux") or not hasattr(os, "mkfifo"):
        return "the ALSA file-device recipe needs Linux"
    device = make_alsa_file_device(tmp_path_factory.mktemp("alsa-probe"))
    try:
        proc = device.run_raw("probe")
    except subprocess.TimeoutExpired:
        return "probing PortAudio timed out"
    if proc.returncode != 0:
        if "PortAudio library not found" in proc.stderr:
            return "libportaudio2 is not installed (apt-get install libportaudio2)"
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"sounddevice cannot start: {last}"
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    names = {d["name"] for d in probe["devices"] if d["max_output_channels"] > 0}
    if "default" not in names:
        return "PortAudio sees no ALSA 'default' device from ~/.asoundrc (is libasound2 there?)"
    return None


@pytest.fixture
def alsa_device(tmp_path: Path, alsa_unavailable: str | None) -> AlsaFileDevice:
    if alsa_unavailable is not None:
        pytest.skip(alsa_unavailable)
    return make_alsa_file_device(tmp_path)
