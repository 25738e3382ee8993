"""The default ``AudioIO``: the local sound card through PortAudio (``sounddevice``).

``sounddevice`` is imported only when a :class:`SounddeviceAudioIO` is built, so importing
the library never needs PortAudio. Playback is a PortAudio callback draining a
:class:`PlaybackBuffer`; barge-in clears the buffer, so after ``skip_pending_audio()`` the
listener hears at most the block in flight plus what the device itself still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from types import TracebackType
from typing import Any, Literal, TypeAlias

from voicelive_proactive.audio.base import BYTES_PER_MS, SAMPLE_RATE, FrameCallback
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError

__all__ = [
    "DEFAULT_PLAYBACK_BLOCK_MS",
    "DeviceSpec",
    "Latency",
    "PlaybackBuffer",
    "SounddeviceAudioIO",
]

logger = logging.getLogger(__name__)

#: A PortAudio device: its index, a substring of its name, or ``None`` for the default.
DeviceSpec: TypeAlias = int | str | None
#: PortAudio's suggested latency: seconds, or the device's ``"low"``/``"high"`` preset.
Latency: TypeAlias = float | Literal["low", "high"]

# Performance (barge-in): after skip_pending_audio() the listener still hears what PortAudio has
# already handed to the device: its buffer (the reported output latency plus one block) and
# the block being written, i.e. latency + 2 blocks. Through the ALSA file device that is 60 ms
# with 20 ms blocks, 30 ms with 10 ms and 20 ms with 5 ms (benchmarks/barge_in.py). The time a
# late callback has before the device runs dry is the output latency (10 ms with "low"),
# whatever the block size, so small playback blocks do not shorten it; they mean more
# callbacks (200 a second at 5 ms, a few microseconds each, each taking the GIL).
DEFAULT_PLAYBACK_BLOCK_MS = 5

_ALTERNATIVES = (
    "To run without a sound device, pass audio=None (your app handles audio), "
    "NullAudioIO() (discard the agent's voice) or WavAudioIO('out.wav') "
    "(record it to a WAV file); they live in voicelive_proactive.audio."
)


def _load_sounddevice() -> Any:
    """Import ``sounddevice``, turning a missing PortAudio into an actionable error."""
    try:
        import sounddevice
    except OSError as exc:  # the package is installed but the PortAudio C library is not
        raise AudioUnavailableError(
            f"PortAudio is not available ({exc}). Install the system library: "
            "`apt-get install libportaudio2` (Debian/Ubuntu), `dnf install portaudio` "
            f"(Fedora) or `brew install portaudio` (macOS). {_ALTERNATIVES}"
        ) from exc
    except ImportError as exc:
        raise AudioUnavailableError(
            f"The sounddevice package cannot be imported ({exc}). Install it with "
            "`pip install sounddevice`; on Linux it also needs the PortAudio library "
            f"(`apt-get install libportaudio2`). {_ALTERNATIVES}"
        ) from exc
    return sounddevice


def _device_names(sd: Any, kind: Literal["input", "output"]) -> str:
    try:
        devices = sd.query_devices()
    except Exception:  # only used to enrich an error message
        return "unknown"
    key = f"max_{kind}_channels"
    names = [f"{d['index']}: {d['name']!r}" for d in devices if d[key] > 0]
    return ", ".join(names) if names else "none"


def _check_device_spec(device: object, name: str) -> None:
    if device is not None and (isinstance(device, bool) or not isinstance(device, (int, str))):
        raise ConfigurationError(
            f"{name} must be a device index (int), part of a device name (str) or None "
            f"for the default device, not {device!r}"
        )


def _check_block_ms(value: object, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 200:
        raise ConfigurationError(f"{name} must be an int from {low} to 200 (ms), not {value!r}")


def _resolve_device(sd: Any, device: DeviceSpec, kind: Literal["input", "output"]) -> str:
    """Fail early unless ``device`` can do 24 kHz mono int16; return its name."""
    check = sd.check_output_settings if kind == "output" else sd.check_input_settings
    try:
        info = sd.query_devices(device, kind=kind)
        check(device=device, channels=1, dtype="int16", samplerate=SAMPLE_RATE)
    except (ValueError, sd.PortAudioError) as exc:
        what = f"default {kind} device" if device is None else f"{kind} device {device!r}"
        hint = " (is there a sound card?)" if device is None else ""
        extra = " Pass capture=False if you only need playback." if kind == "input" else ""
        raise AudioUnavailableError(
            f"Cannot use the {what}{hint}: {exc}. Available {kind} devices: "
            f"{_device_names(sd, kind)}.{extra} {_ALTERNATIVES}"
        ) from exc
    return str(info["name"])


class PlaybackBuffer:
    """Thread-safe PCM16 queue drained by the PortAudio output callback.

    Producers call :meth:`write` (cheap: an append under a lock). The audio thread calls
    :meth:`callback`, which takes exactly one block off the front and pads with silence
    when too little is queued. :meth:`clear` is barge-in: it drops everything queued and
    bumps :attr:`generation`, so chunks stamped with an older generation are dropped too.

    An odd-length chunk leaves its last byte aside until the next chunk completes the
    sample, so samples never straddle a block boundary misaligned.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._carry = b""  # the dangling byte of an odd-length chunk
        self._generation = 0
        self._played = 0
        self._skipped = 0
        self._stale = 0
        self._callback_errors = 0
        self._status_flags = 0
        self._zeros = memoryview(bytes(20 * BYTES_PER_MS))

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`clear`; stamp chunks with it to drop late ones."""
        return self._generation

    @property
    def played_bytes(self) -> int:
        """Bytes handed to the device so far (silence padding excluded)."""
        return self._played

    @property
    def pending_bytes(self) -> int:
        """Bytes queued and not yet handed to the device."""
        return len(self._buf) + len(self._carry)

    @property
    def skipped_bytes(self) -> int:
        """Bytes dropped by :meth:`clear` so far."""
        return self._skipped

    @property
    def stale_bytes(self) -> int:
        """Bytes refused by :meth:`write` because their generation was stale."""
        return self._stale

    @property
    def callback_errors(self) -> int:
        """Output callbacks that failed and played silence instead (should stay 0)."""
        return self._callback_errors

    @property
    def status_flags(self) -> int:
        """Output callbacks that PortAudio flagged (underflow/overflow)."""
        return self._status_flags

    def write(self, pcm: bytes, *, generation: int | None = None) -> int:
        """Queue ``pcm``; return the bytes accepted (0 if ``generation`` is stale)."""
        with self._lock:
            if generation is not None and generation != self._generation:
                self._stale += len(pcm)
                return 0
            if self._carry or len(pcm) & 1:  # rare: keep samples aligned
                data = self._carry + bytes(pcm)
                cut = len(data) & ~1
                self._carry = data[cut:]
                self._buf += data[:cut]
            else:
                self._buf += pcm
            return len(pcm)

    def clear(self) -> int:
        """Drop everything queued, bump the generation; return the bytes dropped."""
        with self._lock:
            dropped = len(self._buf) + len(self._carry)
            self._buf.clear()
            self._carry = b""
            self._generation += 1
            self._skipped += dropped
        return dropped

    def read_into(self, out: memoryview) -> int:
        """Fill ``out`` (a byte view) completely; return the payload bytes, the rest is zeros."""
        n = len(out)
        with self._lock:
            take = min(n, len(self._buf))
            if take:
                out[:take] = self._buf[:take]
                del self._buf[:take]  # O(1): bytearray deletes from the front in place
                self._played += take
        if take < n:
            pad = n - take
            if pad > len(self._zeros):
                self._zeros = memoryview(bytes(pad))
            out[take:] = self._zeros[:pad]
        return take

    def callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        """The ``sounddevice.OutputStream`` callback; never raises."""
        try:
            if status:
                self._status_flags += 1
            self.read_into(memoryview(outdata).cast("B"))
        except Exception:  # raising here would abort the stream: play silence instead
            self._callback_errors += 1
            with contextlib.suppress(Exception):
                outdata.fill(0)


class _CaptureForwarder:
    """The ``sounddevice.InputStream`` callback: copy the block, hand it on, never raise."""

    def __init__(self, on_frame: FrameCallback) -> None:
        self.on_frame = on_frame
        self.frames = 0
        self.errors = 0

    def __call__(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        try:
            block = bytes(indata)  # a copy: PortAudio reuses indata's memory
            self.frames += 1
            self.on_frame(block)
        except Exception:  # a failing consumer must not stop the microphone
            self.errors += 1
            if self.errors == 1:
                logger.warning(
                    "microphone callback failed; further failures are counted only", exc_info=True
                )


class SounddeviceAudioIO:
    """Plays and captures 24 kHz mono PCM16 on the local sound card through PortAudio.

    Construction imports ``sounddevice`` and checks that the devices can do 24 kHz mono
    int16, raising :class:`~voicelive_proactive.errors.AudioUnavailableError` (which says
    what to install, or which alternative to use) when they cannot. The output stream opens
    on the first :meth:`queue_audio` (or :meth:`open`, or entering ``with``); the input
    stream opens on :meth:`start_capture`.

    ``device``/``capture_device`` select the output/input device by index or by a substring
    of its name (``None``: the system default). ``block_ms`` is the PortAudio block size of
    capture: the size of the microphone frames. ``playback_block_ms`` is that of playback:
    after barge-in the listener still hears about ``latency`` plus two playback blocks, so it
    is small by default (5 ms); raise it only if your platform cannot call back that often.
    ``latency`` is PortAudio's suggested output latency, which is also how late a callback
    may be before the device runs dry. ``capture=False`` makes it playback-only: the input
    device is not checked and :meth:`start_capture` does nothing.
    """

    def __init__(
        self,
        device: DeviceSpec = None,
        *,
        capture_device: DeviceSpec = None,
        block_ms: int = 20,
        playback_block_ms: int = DEFAULT_PLAYBACK_BLOCK_MS,
        latency: Latency = "low",
        capture: bool = True,
    ) -> None:
        _check_device_spec(device, "device")
        _check_device_spec(capture_device, "capture_device")
        _check_block_ms(block_ms, "block_ms", 5)
        _check_block_ms(playback_block_ms, "playback_block_ms", 2)
        if latency not in ("low", "high") and (
            isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency <= 0
        ):
            raise ConfigurationError(
                f'latency must be "low", "high" or a positive number of seconds, not {latency!r}'
            )
        self._sd = _load_sounddevice()
        self._device = device
        self._capture_device = capture_device
        self._block_frames = SAMPLE_RATE * block_ms // 1000
        self._playback_block_ms = playback_block_ms
        self._output_block_frames = SAMPLE_RATE * playback_block_ms // 1000
        self._latency = latency
        self._capture = capture
        self.device_name = _resolve_device(self._sd, device, "output")
        self.capture_device_name: str | None = (
            _resolve_device(self._sd, capture_device, "input") if capture else None
        )
        self._buffer = PlaybackBuffer()
        self._state_lock = threading.Lock()
        self._output: Any = None
        self._input: Any = None
        self._forwarder: _CaptureForwarder | None = None
        self._closed = False

    # -- playback -------------------------------------------------------------------------

    def open(self) -> None:
        """Open and start the output stream now (else the first :meth:`queue_audio` does)."""
        with self._state_lock:
            if self._closed:
                raise AudioUnavailableError("this SounddeviceAudioIO is closed; create a new one")
            if self._output is not None:
                return
            self._output = self._start_stream(
                "output",
                self._device,
                self._sd.OutputStream,
                self._buffer.callback,
                self._output_block_frames,
            )

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Queue PCM16 for playback and return at once (an append under a lock).

        With ``generation`` (a value read from :attr:`generation`), the chunk is dropped
        if :meth:`skip_pending_audio` was called since: it belongs to a cancelled response.
        After :meth:`close`, chunks are ignored.
        """
        if self._output is None:
            if self._closed:
                return
            self._buffer.write(pcm, generation=generation)
            self.open()  # after the write, so the stream's first block is this audio
            return
        self._buffer.write(pcm, generation=generation)

    def skip_pending_audio(self) -> int:
        """Drop all queued audio now and bump :attr:`generation`; return the bytes dropped.

        The block PortAudio is playing and the device's buffer still reach the speaker.
        """
        return self._buffer.clear()

    @property
    def generation(self) -> int:
        """Playback generation, bumped by every :meth:`skip_pending_audio`."""
        return self._buffer.generation

    @property
    def played_bytes(self) -> int:
        """Bytes handed to the device so far (silence padding excluded).

        The listener hears them up to :attr:`output_latency` later.
        """
        return self._buffer.played_bytes

    @property
    def pending_bytes(self) -> int:
        """Bytes queued and not yet handed to the device."""
        return self._buffer.pending_bytes

    @property
    def skipped_bytes(self) -> int:
        """Bytes dropped by :meth:`skip_pending_audio` so far."""
        return self._buffer.skipped_bytes

    @property
    def stale_bytes(self) -> int:
        """Bytes dropped by :meth:`queue_audio` because their generation was stale."""
        return self._buffer.stale_bytes

    @property
    def callback_errors(self) -> int:
        """Output callbacks that failed and played silence instead (should stay 0)."""
        return self._buffer.callback_errors

    @property
    def playback_block_ms(self) -> int:
        """The PortAudio block size of playback, in ms."""
        return self._playback_block_ms

    @property
    def output_latency(self) -> float | None:
        """The output stream's latency in seconds as PortAudio reports it, once open."""
        stream = self._output
        return None if stream is None else float(stream.latency)

    def wait_until_played(self, timeout: float | None = None) -> bool:
        """Block until queued audio has been played (device latency included).

        Return ``False`` if ``timeout`` seconds passed first. Meant for scripts and demos.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._buffer.pending_bytes and not self._closed:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        time.sleep(self.output_latency or 0.0)
        return True

    async def drain(self, timeout: float | None = None) -> bool:
        """Like :meth:`wait_until_played`, without blocking the event loop."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._buffer.pending_bytes and not self._closed:
            if deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        await asyncio.sleep(self.output_latency or 0.0)
        return True

    # -- capture --------------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Open the input stream and call ``on_frame`` with each block (about ``block_ms``).

        ``on_frame`` runs on PortAudio's thread with a ``bytes`` copy of the block; if it
        raises, the error is counted in :attr:`capture_errors` and capture goes on.
        A second call is a no-op, and so is every call when built with ``capture=False``.
        """
        with self._state_lock:
            if self._closed:
                raise AudioUnavailableError("this SounddeviceAudioIO is closed; create a new one")
            if self._input is not None:
                return
            if not self._capture:
                logger.info("SounddeviceAudioIO(capture=False): not capturing the microphone")
                return
            forwarder = _CaptureForwarder(on_frame)
            self._input = self._start_stream(
                "input", self._capture_device, self._sd.InputStream, forwarder, self._block_frames
            )
            self._forwarder = forwarder

    @property
    def capturing(self) -> bool:
        """Whether the input stream is running."""
        return self._input is not None

    @property
    def captured_frames(self) -> int:
        """Microphone blocks handed to ``on_frame`` so far (whether or not it raised)."""
        return 0 if self._forwarder is None else self._forwarder.frames

    @property
    def capture_errors(self) -> int:
        """Times ``on_frame`` raised (the first one is logged)."""
        return 0 if self._forwarder is None else self._forwarder.errors

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop both streams at once (unplayed audio is dropped) and release the device."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            streams = [s for s in (self._output, self._input) if s is not None]
            self._output = self._input = None
        for stream in streams:
            try:
                stream.close(ignore_errors=True)  # Pa_CloseStream aborts: no draining
            except Exception:  # closing must not fail; the device is gone either way
                logger.debug("closing a PortAudio stream failed", exc_info=True)
        self._buffer.clear()

    def __enter__(self) -> SounddeviceAudioIO:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._output is not None else "ready")
        return f"SounddeviceAudioIO(device={self.device_name!r}, state={state})"

    def _start_stream(
        self, kind: str, device: DeviceSpec, factory: Any, callback: Any, block_frames: int
    ) -> Any:
        stream = None
        try:
            stream = factory(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=block_frames,
                device=device,
                latency=self._latency,
                callback=callback,
            )
            stream.start()
        except (ValueError, self._sd.PortAudioError) as exc:
            if stream is not None:
                stream.close(ignore_errors=True)
            name = "the default" if device is None else repr(device)
            raise AudioUnavailableError(
                f"Cannot open {name} {kind} device at {SAMPLE_RATE} Hz mono int16: {exc}. "
                f"{_ALTERNATIVES}"
            ) from exc
        return stream
