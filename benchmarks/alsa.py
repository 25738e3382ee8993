"""A real PortAudio device without a sound card: ALSA's ``file`` PCM into a FIFO read in real time.

The same recipe as tests/audio (copied here: benchmarks do not import the tests). A temporary
``HOME`` holds an ``.asoundrc`` whose default device plays into a ``file`` PCM over ``null``
and captures from ``null``. ``null`` never blocks, so the output file is a FIFO that
:class:`Speaker` reads at a fixed rate; the 4 KiB pipe blocks PortAudio's writer in between,
which paces playback like a DAC. PortAudio reads the ALSA configuration once, at import, so
code using the device runs in a child process started with :meth:`AlsaFileDevice.env`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voicelive_proactive.testing.alsa import PacedSpeaker, asoundrc

RATE = 48_000  # bytes per second of 24 kHz mono PCM16
REPO = Path(__file__).resolve().parents[1]
FIFO_NAME = "speaker.fifo"


@dataclass
class AlsaFileDevice:
    """A temporary ``HOME`` whose default ALSA device plays into ``home/speaker.fifo``."""

    home: Path

    @classmethod
    def create(cls) -> AlsaFileDevice:
        home = Path(tempfile.mkdtemp(prefix="vp-bench-alsa-"))
        os.mkfifo(home / FIFO_NAME)
        (home / ".asoundrc").write_text(asoundrc(home / FIFO_NAME))
        return cls(home)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALSA_")}
        env["HOME"] = str(self.home)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env

    def run_module(self, module: str, *args: str, timeout: float = 300) -> str:
        """Run ``python -m module args`` with this ``HOME``; return stdout, raise on failure."""
        proc = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=self.env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{module} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return proc.stdout

    def cleanup(self) -> None:
        for child in self.home.iterdir():
            child.unlink()
        self.home.rmdir()


def portaudio_unavailable() -> str | None:
    """Why the ALSA file device cannot be used here, or ``None`` when it can."""
    if not sys.platform.startswith("linux") or not hasattr(os, "mkfifo"):
        return "the ALSA file-device recipe needs Linux"
    device = AlsaFileDevice.create()
    probe = (
        "import sounddevice as sd; "
        "print(any(d['name'] == 'default' and d['max_output_channels'] > 0 "
        "for d in sd.query_devices()))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", probe],
            env=device.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "probing PortAudio timed out"
    finally:
        device.cleanup()
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"sounddevice cannot start: {last}"
    if proc.stdout.strip() != "True":
        return "PortAudio sees no ALSA 'default' device from ~/.asoundrc (is libasound2 there?)"
    return None


class Speaker(PacedSpeaker):
    """The shared :class:`PacedSpeaker`, found in this process's ``HOME``."""

    @classmethod
    def in_home(cls, speed: float = 1.0) -> Speaker:
        return cls(Path(os.environ["HOME"]) / FIFO_NAME, speed)
