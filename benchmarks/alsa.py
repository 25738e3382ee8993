"""A real PortAudio device without a sound card: ALSA's ``file`` PCM over FIFOs.

A temporary ``HOME`` holds an ``.asoundrc`` whose default device plays into ``speaker.fifo``
(read at real-time pace by :class:`TimedSpeaker`, the library's ``PacedSpeaker`` with a read
log) and, for duplex runs, captures from ``mic.fifo`` (the ``file`` plugin's ``infile``, fed
by :class:`MicFeeder`). PortAudio reads the ALSA configuration once, at import, so code using
the device runs in a child process started with :meth:`AlsaFileDevice.env`.

What this device is, and is not:

* Playback is paced by the 4 KiB FIFO: PortAudio's writer blocks until the listener has read
  a whole pipe page (85 ms of audio), so output callbacks come in bursts of 85 ms, not one per
  block. Gaps between callbacks therefore say nothing about a sound card, and the ``null``
  slave never reports an underrun. What does carry over is how late a callback runs once
  PortAudio wants it (``time.monotonic()`` at entry minus ``time_info.currentTime``, both
  CLOCK_MONOTONIC): that is the GIL wait a real device would see too.
* Capture is paced exactly when the feeder writes whole capture blocks at real-time pace: each
  ALSA read then blocks until the next block (checked: 5, 10 and 20 ms blocks come every 5, 10
  and 20 ms, and every sample is the feeder's).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from voicelive_proactive.testing.alsa import PacedSpeaker, asoundrc

RATE = 48_000  # bytes per second of 24 kHz mono PCM16
REPO = Path(__file__).resolve().parents[1]
FIFO_NAME = "speaker.fifo"
MIC_NAME = "mic.fifo"
F_SETPIPE_SZ = 1031


@dataclass
class AlsaFileDevice:
    """A temporary ``HOME`` whose default ALSA device plays into ``home/speaker.fifo``
    (and, with ``capture=True``, records from ``home/mic.fifo``)."""

    home: Path
    capture: bool = False

    @classmethod
    def create(cls, *, capture: bool = False) -> AlsaFileDevice:
        home = Path(tempfile.mkdtemp(prefix="vp-bench-alsa-"))
        os.mkfifo(home / FIFO_NAME)
        if capture:
            os.mkfifo(home / MIC_NAME)
            text = asoundrc(home / FIFO_NAME, home / MIC_NAME)
        else:
            text = asoundrc(home / FIFO_NAME)
        (home / ".asoundrc").write_text(text)
        return cls(home, capture)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALSA_")}
        env["HOME"] = str(self.home)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env

    def run_module(self, module: str, *args: str, timeout: float = 600) -> str:
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


class TimedSpeaker(PacedSpeaker):
    """The shared ``PacedSpeaker`` (found in this process's ``HOME``) with a read log.

    ``reads`` holds ``(monotonic time, bytes heard after the read)`` for every read that
    returned data, so the time any byte offset was heard can be looked up.
    """

    def __init__(self, path: str | os.PathLike[str], speed: float = 1.0) -> None:
        self.reads: list[tuple[float, int]] = []
        self.first_voiced: tuple[int, float] | None = None  # (byte offset, when read)
        super().__init__(path, speed)

    @classmethod
    def in_home(cls, speed: float = 1.0) -> TimedSpeaker:
        return cls(Path(os.environ["HOME"]) / FIFO_NAME, speed)

    def _read(self, n: int) -> int:
        got = super()._read(n)
        if got:
            now = time.monotonic()
            self.reads.append((now, len(self.data)))
            if self.first_voiced is None:
                new = self.data[len(self.data) - got :]
                silent = len(new) - len(new.lstrip(b"\x00"))
                if silent < len(new):
                    offset = (len(self.data) - got + silent) & ~1
                    self.first_voiced = (offset, now)
        return got

    def read_at(self, offset: int) -> float | None:
        """When the byte at ``offset`` was read (the first read that reached past it).

        The library's ``PacedSpeaker.heard_at`` gives the time it played, like a DAC."""
        for t, heard in self.reads:
            if heard > offset:
                return t
        return None


class MicFeeder:
    """Writes whole capture blocks into the ``infile`` FIFO at real-time pace (a thread).

    The FIFO is opened read-write and non-blocking, so ALSA's own open never waits for a
    writer and a stalled capture never blocks the feeder (a block that does not fit is
    counted in ``dropped``). ``pcm`` is one block, repeated.
    """

    def __init__(self, path: Path, block_bytes: int, pcm: bytes | None = None) -> None:
        self.block_bytes = block_bytes
        self.pcm = pcm if pcm is not None else _room_noise(block_bytes)
        self.written = 0
        self.dropped = 0
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._fd, F_SETPIPE_SZ, 4096)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="vp-mic-feeder")

    def start(self) -> MicFeeder:
        self._thread.start()
        return self

    def _run(self) -> None:
        start = time.monotonic()
        sent = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * RATE)
            while due >= sent + self.block_bytes:
                try:
                    os.write(self._fd, self.pcm)
                    self.written += 1
                except BlockingIOError:
                    self.dropped += 1
                sent += self.block_bytes
            time.sleep(0.0005)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        os.close(self._fd)


def _room_noise(block_bytes: int) -> bytes:
    """A quiet room (about -60 dBFS): never silent, never speech to a VAD."""
    import numpy as np

    rng = np.random.default_rng(7)
    return bytes(rng.integers(-30, 31, block_bytes // 2).astype("<i2").tobytes())


# ----------------------------------------------------------------- a separate device process


def _drive(home: Path, mic_block_bytes: int) -> None:
    """``python -m benchmarks.alsa drive``: the listener and the microphone, in their own
    process, so their threads cost the measured process nothing."""
    feeder = MicFeeder(home / MIC_NAME, mic_block_bytes) if mic_block_bytes else None
    speaker = PacedSpeaker(home / FIFO_NAME, 1.0)
    if feeder is not None:
        feeder.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    if feeder is not None:
        feeder.stop()
    heard = speaker.stop()
    print(
        json.dumps(
            {
                "speaker_bytes": len(heard),
                "speaker_voiced_bytes": len(heard) - heard.count(0),
                "mic_blocks": feeder.written if feeder else 0,
                "mic_dropped": feeder.dropped if feeder else 0,
            }
        ),
        flush=True,
    )


class DeviceDriver:
    """Parent side of :func:`_drive`."""

    def __init__(self, device: AlsaFileDevice, mic_block_bytes: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.alsa",
                "drive",
                str(device.home),
                str(mic_block_bytes),
            ],
            cwd=REPO,
            env=device.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        out: IO[str] = self.proc.stdout  # type: ignore[assignment]
        if out.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the device driver did not start")

    def stop(self) -> dict[str, Any]:
        out, _ = self.proc.communicate(timeout=30)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        _drive(Path(sys.argv[2]), int(sys.argv[3]))
