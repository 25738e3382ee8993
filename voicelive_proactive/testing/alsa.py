"""A real PortAudio output device with no sound card: ALSA's ``file`` PCM.

Write :func:`asoundrc` to ``$HOME/.asoundrc`` of a process *before* it imports
``sounddevice`` (PortAudio reads the ALSA configuration once, at initialisation). That
process's default device then plays into ``playback_file`` and captures silence-like data
from ALSA's ``null`` PCM, so ``SounddeviceAudioIO`` can be tested for real, sample for sample.

The ``file`` PCM does not run in real time: it accepts audio as fast as it is produced. Use
``/dev/null`` when only the code path matters, or a FIFO read at 48,000 bytes a second when
timing matters (our own device tests and benchmarks do this).
"""

from __future__ import annotations

import os

__all__ = ["PacedSpeaker", "asoundrc"]


def asoundrc(playback_file: str | os.PathLike[str]) -> str:
    """The text of an ``.asoundrc`` whose default device plays into ``playback_file``."""
    path = os.fspath(playback_file)
    if '"' in path or "\n" in path:
        raise ValueError(f"{path!r} cannot be quoted in an ALSA configuration file.")
    return f"""\
pcm.!default {{
    type asym
    playback.pcm {{
        type file
        slave.pcm "null"
        file "{path}"
        format "raw"
    }}
    capture.pcm {{
        type null
    }}
}}
"""


F_SETPIPE_SZ = 1031  # from <linux/fcntl.h>; not exposed by Python 3.10's fcntl
F_GETPIPE_SZ = 1032
BYTES_PER_SECOND = 48_000  # 24 kHz mono PCM16


class PacedSpeaker:
    """Reads the ``file`` device's FIFO at ``speed`` x real time, as a sound card's DAC would.

    Make ``path`` with ``os.mkfifo`` and point :func:`asoundrc` at it. The pipe is shrunk to
    4 KiB, so PortAudio's writer blocks between reads and is paced like real hardware.
    ``data`` is what the listener has heard so far. Linux only.
    """

    def __init__(
        self, path: str | os.PathLike[str], speed: float = 1.0, *, paused: bool = False
    ) -> None:
        import fcntl
        import threading

        self.speed = speed
        self.data = bytearray()
        self.first_sample_at: float | None = None
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # no writer needed yet
        fcntl.fcntl(self._fd, F_SETPIPE_SZ, 4096)  # the smallest pipe Linux allows
        self.pipe_bytes: int = fcntl.fcntl(self._fd, F_GETPIPE_SZ)
        self._playing = threading.Event()
        if not paused:
            self._playing.set()
        self._started = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="vp-speaker")
        self._thread.start()

    @property
    def position(self) -> int:
        """Bytes heard so far."""
        return len(self.data)

    def resume(self) -> None:
        """Start reading (after ``paused=True``). Until then the FIFO fills and blocks."""
        self._playing.set()

    def wait_first_sample(self, timeout: float) -> float:
        """Block until the device has written its first sample; return when (monotonic)."""
        if not self._started.wait(timeout) or self.first_sample_at is None:
            raise TimeoutError("the device wrote nothing")
        return self.first_sample_at

    def snapshot(self) -> tuple[int, int]:
        """``(heard, written)``: bytes read from the FIFO, and bytes written into it, now."""
        import array
        import fcntl
        import termios

        buf = array.array("i", [0])
        with self._lock:
            fcntl.ioctl(self._fd, termios.FIONREAD, buf)
            heard = len(self.data)
        return heard, heard + buf[0]

    def stop(self) -> bytes:
        """Stop reading, drain what the device still holds, and return everything heard."""
        self._stop.set()
        self._playing.set()
        self._thread.join()
        while self._read(65536):
            pass
        os.close(self._fd)
        return bytes(self.data)

    def _read(self, n: int) -> int:
        with self._lock:
            try:
                chunk = os.read(self._fd, n)
            except BlockingIOError:  # a writer is there but has nothing for us yet
                return 0
            self.data += chunk
        return len(chunk)

    def _run(self) -> None:
        import time

        start: float | None = None
        first = 0
        self._playing.wait()
        while not self._stop.is_set():
            if start is None:  # the clock starts with the first sample
                first = self._read(65536)
                if first:
                    start = self.first_sample_at = time.monotonic()
                    self._started.set()
            else:
                due = first + int((time.monotonic() - start) * BYTES_PER_SECOND * self.speed)
                if due > len(self.data):
                    self._read(min(due - len(self.data), 65536))
            time.sleep(0.0005)
