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


def asoundrc(
    playback_file: str | os.PathLike[str], capture_file: str | os.PathLike[str] | None = None
) -> str:
    """The text of an ``.asoundrc`` whose default device plays into ``playback_file``.

    Capture reads ALSA's ``null`` PCM, or ``capture_file`` when given (raw 16-bit PCM, e.g.
    a FIFO a test writes at real-time pace: the ``file`` plugin's ``infile``).
    """
    path = _quoted(playback_file)
    capture = "type null"
    if capture_file is not None:
        capture = "\n        ".join(
            (
                "type file",
                'slave.pcm "null"',
                'file "/dev/null"',
                f'infile "{_quoted(capture_file)}"',
                'format "raw"',
            )
        )
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
        {capture}
    }}
}}
"""


def _quoted(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if '"' in text or "\n" in text:
        raise ValueError(f"{text!r} cannot be quoted in an ALSA configuration file.")
    return text


F_SETPIPE_SZ = 1031  # from <linux/fcntl.h>; not exposed by Python 3.10's fcntl
F_GETPIPE_SZ = 1032
BYTES_PER_SECOND = 48_000  # 24 kHz mono PCM16


class PacedSpeaker:
    """Plays the ``file`` device's FIFO at ``speed`` x real time, as a sound card's DAC would.

    Make ``path`` with ``os.mkfifo`` and point :func:`asoundrc` at it. The pipe is shrunk to
    4 KiB, so PortAudio's writer blocks between reads and is paced like real hardware.
    The clock starts when the first byte is in the FIFO; from then on byte ``n`` is due
    ``n / (48000 * speed)`` seconds later and is read (heard) then, or as soon as it arrives
    if the writer was late. ``data`` is what the listener has heard so far, and
    :meth:`heard_at` says when each byte was heard. Linux only.
    """

    def __init__(
        self, path: str | os.PathLike[str], speed: float = 1.0, *, paused: bool = False
    ) -> None:
        import array
        import fcntl
        import threading

        self.speed = speed
        self.data = bytearray()
        self.first_sample_at: float | None = None
        self._lock = threading.Lock()
        # When each read happened and where it left the position: heard_at() bisects them.
        self._read_times = array.array("d")
        self._read_ends = array.array("q")
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

    def heard_at(self, offset: int) -> float:
        """When (``time.monotonic()``) the byte at ``offset`` of :attr:`data` was heard."""
        import bisect

        with self._lock:
            if not 0 <= offset < len(self.data):
                raise ValueError(f"byte {offset} has not been heard (heard {len(self.data)})")
            index = bisect.bisect_right(self._read_ends, offset)
            return self._read_times[index]

    def snapshot(self) -> tuple[int, int]:
        """``(heard, written)``: bytes read from the FIFO, and bytes written into it, now."""
        with self._lock:
            heard = len(self.data)
            return heard, heard + self._available()

    def stop(self) -> bytes:
        """Stop reading, drain what the device still holds, and return everything heard."""
        self._stop.set()
        self._playing.set()
        self._thread.join()
        while self._read(65536):
            pass
        os.close(self._fd)
        return bytes(self.data)

    def _available(self) -> int:
        import array
        import fcntl
        import termios

        buf = array.array("i", [0])
        fcntl.ioctl(self._fd, termios.FIONREAD, buf)
        return buf[0]

    def _read(self, n: int) -> int:
        import time

        with self._lock:
            try:
                chunk = os.read(self._fd, n)
            except BlockingIOError:  # a writer is there but has nothing for us yet
                return 0
            if chunk:
                self.data += chunk
                self._read_times.append(time.monotonic())
                self._read_ends.append(len(self.data))
        return len(chunk)

    def _run(self) -> None:
        import time

        start: float | None = None
        self._playing.wait()
        while not self._stop.is_set():
            now = time.monotonic()
            if start is None:  # the clock starts with the first byte, which plays at once
                if self._available():
                    start = self.first_sample_at = now
                    self._started.set()
                    self._read(2)
            else:
                due = int((now - start) * BYTES_PER_SECOND * self.speed) & ~1
                if due > len(self.data):
                    self._read(min(due - len(self.data), 65536))
            time.sleep(0.0005)
