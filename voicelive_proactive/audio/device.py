"""The default ``AudioIO``: the local sound card through PortAudio (``sounddevice``).

``sounddevice`` is imported only when a :class:`SounddeviceAudioIO` is built, so importing
the library never needs PortAudio. Playback is a PortAudio callback draining a
:class:`PlaybackBuffer`; barge-in clears the buffer, so after ``skip_pending_audio()`` the
listener hears at most the block in flight plus what the device itself still holds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeAlias

from voicelive_proactive.audio.base import (
    BYTES_PER_MS,
    BYTES_PER_SAMPLE,
    SAMPLE_RATE,
    FrameCallback,
)
from voicelive_proactive.audio.convert import InputConverter, OutputConverter, check_formats
from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat
from voicelive_proactive.audio.playout import PlayoutNotifier, PlayoutWaits, run_callback
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError

__all__ = [
    "DEFAULT_PLAYBACK_BLOCK_MS",
    "DeviceSpec",
    "Latency",
    "PlaybackBuffer",
    "PlayoutMark",
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

# The playout clock (PlaybackBuffer._note_timing) sinks by this much a second: more than a
# sound card's crystal drifts (tens of ppm), so it follows a fast one and forgets an
# outlier (10 ms in under a minute).
_CLOCK_DRIFT = 200e-6
# ...and never stays more than this many seconds above what the latest callback implies.
_UNREPORTED_DELAY = 0.2
# A DAC time further ahead than this is not believed (some host APIs report garbage).
_MAX_REPORTED_LEAD = 2.0
# How soon to ask again when a prediction has passed but the audio is not on the stream yet.
_RECHECK = 0.005
# The resampler's tail is flushed when no chunk has come for this many seconds and the
# queue holds less than the margin.
_TAIL_IDLE = 0.3
_TAIL_MARGIN = 0.25  # more than a device pulls in one go (the ALSA file device: 85 ms)
_monotonic = time.monotonic


def _input_converter(fmt: AudioFormat) -> InputConverter | None:
    converter = InputConverter(SAMPLE_RATE, fmt)
    return None if converter.passthrough else converter


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


class PlayoutMark:
    """A point in the audio written to a :class:`PlaybackBuffer`: "everything up to here".

    ``target`` counts the bytes written before the mark. ``position`` is where the last of
    them went in the device stream (its byte offset, silence included) once the callback
    has handed it over, or where the last audio before a barge-in did; ``None`` until then.
    """

    __slots__ = ("position", "target")

    def __init__(self, target: int) -> None:
        self.target = target
        self.position: int | None = None


class PlaybackBuffer:
    """Thread-safe PCM16 queue drained by the PortAudio output callback.

    Producers call :meth:`write` (cheap: an append under a lock). The audio thread calls
    :meth:`callback`, which takes exactly one block off the front and pads with silence
    when too little is queued. :meth:`clear` is barge-in: it drops everything queued and
    bumps :attr:`generation`, so chunks stamped with an older generation are dropped too.
    :meth:`pause` makes the callback play silence and take nothing until :meth:`resume`
    (or :meth:`clear`, which ends a pause).

    An odd-length chunk leaves its last byte aside until the next chunk completes the
    sample, so samples never straddle a block boundary misaligned.

    Two more things are tracked for backends that play another format than they queue:
    each write carries a *credit* (how many queued bytes it stands for, by default its
    length), summed in :attr:`played_credit` as it plays; and a playout clock. Each callback
    notes when its block will be heard (PortAudio's DAC time, but never earlier than
    :attr:`latency_floor` after the callback), which gives the time at which any stream
    position is heard (:meth:`heard_at`) and when a :class:`PlayoutMark` is (:meth:`due`).
    """

    def __init__(self, bytes_per_second: int = SAMPLE_RATE * BYTES_PER_SAMPLE) -> None:
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._carry = b""  # the dangling byte of an odd-length chunk
        self._carry_credit = 0.0
        self._segments: deque[list[float]] = deque()  # [bytes left, credit left] per write
        self._generation = 0
        self._played = 0
        self._played_credit = 0.0
        self._skipped = 0
        self._stale = 0
        self._callback_errors = 0
        self._status_flags = 0
        # How late each recent callback ran after PortAudio asked for it (GIL and scheduler
        # delay), in seconds; bounded, so it costs one append per callback.
        self.callback_delays: deque[float] = deque(maxlen=4096)
        self._zeros = memoryview(bytes(20 * BYTES_PER_MS))
        # The playout clock, all in bytes of the device stream.
        self.bytes_per_second = bytes_per_second
        self.latency_floor = 0.0
        """Seconds from a callback to the DAC at least: the stream's latency plus a block."""
        self._written = 0  # bytes ever appended to _buf
        self._consumed = 0  # bytes ever taken off _buf, played or dropped
        self._stream_pos = 0  # bytes handed to the device, silence included
        self._audio_end = 0  # stream position just after the last audio byte handed over
        self._marks: deque[PlayoutMark] = deque()
        self._paused = False
        # When stream position 0 is heard (monotonic), from what each callback implies.
        self._origin = -math.inf
        self._origin_at = 0.0
        self._skew = math.inf  # time.monotonic() minus PortAudio's currentTime

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`clear`; stamp chunks with it to drop late ones."""
        return self._generation

    @property
    def played_bytes(self) -> int:
        """Bytes handed to the device so far (silence padding excluded)."""
        return self._played

    @property
    def played_credit(self) -> float:
        """The credit of the bytes handed to the device so far (fractional mid-write)."""
        return self._played_credit

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

    @property
    def paused(self) -> bool:
        """Whether the callback plays silence instead of the queue (:meth:`pause`)."""
        return self._paused

    def pause(self) -> None:
        """From the next callback on, play silence and keep the queue as it is."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        """Play the queue again from where :meth:`pause` stopped it."""
        with self._lock:
            self._paused = False

    def write(
        self, pcm: bytes, *, generation: int | None = None, credit: float | None = None
    ) -> int:
        """Queue ``pcm``; return the bytes accepted (0 if ``generation`` is stale).

        ``credit`` is what the chunk stands for in :attr:`played_credit` (default: its
        length); it may come with no bytes at all, for audio a converter just finished.
        """
        with self._lock:
            if generation is not None and generation != self._generation:
                self._stale += len(pcm)
                return 0
            chunk_credit = float(len(pcm) if credit is None else credit)
            if self._carry or len(pcm) & 1:  # rare: keep samples aligned
                data = self._carry + bytes(pcm)
                cut = len(data) & ~1
                total = self._carry_credit + chunk_credit
                self._carry = data[cut:]
                self._carry_credit = total * len(self._carry) / len(data) if data else 0.0
                chunk_credit = total - self._carry_credit
                self._append(data[:cut], chunk_credit)
            else:
                self._append(pcm, chunk_credit)
            return len(pcm)

    def _append(self, pcm: bytes, credit: float) -> None:
        if pcm:
            self._buf += pcm
            self._written += len(pcm)
            self._segments.append([len(pcm), credit])
        elif self._segments:
            self._segments[-1][1] += credit
        else:  # nothing left to play: what it stands for has been played
            self._played_credit += credit

    def clear(self, *, credit_quantum: int = 1) -> int:
        """Drop everything queued, end a pause, bump the generation; return the bytes dropped.

        :attr:`played_credit` is rounded to a multiple of ``credit_quantum`` (the queued
        format's sample size): a sample is either heard or dropped.
        """
        with self._lock:
            dropped = len(self._buf) + len(self._carry)
            self._consumed += len(self._buf)
            self._buf.clear()
            self._carry = b""
            self._carry_credit = 0.0
            self._segments.clear()
            self._played_credit = credit_quantum * round(self._played_credit / credit_quantum)
            self._paused = False  # nothing is left to hold
            self._generation += 1
            self._skipped += dropped
            for mark in self._marks:  # dropped audio is done once what played is heard
                mark.position = self._audio_end
            self._marks.clear()
        return dropped

    def mark_end(self) -> PlayoutMark:
        """A mark after everything written so far (resolved at once if nothing is queued)."""
        with self._lock:
            mark = PlayoutMark(self._written)
            if self._consumed >= mark.target:
                mark.position = self._audio_end
            else:
                self._marks.append(mark)
            return mark

    def read_into(self, out: memoryview) -> int:
        """Fill ``out`` (a byte view) completely; return the payload bytes, the rest is zeros."""
        n = len(out)
        with self._lock:
            take = 0 if self._paused else min(n, len(self._buf))
            start = self._stream_pos
            self._stream_pos = start + n
            if take:
                out[:take] = self._buf[:take]
                del self._buf[:take]  # O(1): bytearray deletes from the front in place
                self._played += take
                self._audio_end = start + take
                before = self._consumed
                self._consumed = before + take
                self._spend(take)
                marks = self._marks
                while marks and marks[0].target <= self._consumed:
                    mark = marks.popleft()
                    mark.position = start + (mark.target - before)
        if take < n:
            pad = n - take
            if pad > len(self._zeros):
                self._zeros = memoryview(bytes(pad))
            out[take:] = self._zeros[:pad]
        return take

    def _spend(self, n: int) -> None:
        # Called with the lock held: move the credit of n played bytes to played_credit.
        segments, credit = self._segments, 0.0
        while n and segments:
            segment = segments[0]
            if segment[0] <= n:
                n -= int(segment[0])
                credit += segment[1]
                segments.popleft()
            else:
                part = segment[1] * n / segment[0]
                segment[0] -= n
                segment[1] -= part
                credit += part
                n = 0
        self._played_credit += credit

    def callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        """The ``sounddevice.OutputStream`` callback; never raises."""
        start = self._stream_pos
        try:
            if status:
                self._status_flags += 1
            self._note_timing(time)
            self.read_into(memoryview(outdata).cast("B"))
        except Exception:  # raising here would abort the stream: play silence instead
            self._callback_errors += 1
            if self._stream_pos == start:  # the device still plays a block (of silence)
                self._stream_pos += frames * BYTES_PER_SAMPLE
            with contextlib.suppress(Exception):
                outdata.fill(0)

    def _note_timing(self, info: Any) -> None:
        # When will the block about to be written be heard? PortAudio's DAC time says, on
        # real hardware. Devices that report no delay (ALSA's null and file plugins) get
        # the stream's latency plus a block, which is at least what PortAudio buffers.
        now = _monotonic()
        lead = self.latency_floor
        if info is not None:
            current = info.currentTime
            reported = info.outputBufferDacTime - current
            if lead < reported < _MAX_REPORTED_LEAD:
                lead = reported
            if current > 0:
                # PortAudio took currentTime before this callback waited for the GIL; map
                # it to our clock by the smallest offset seen (the same clock on Linux).
                skew = now - current
                if skew < self._skew or skew > self._skew + 1.0:  # or another clock base
                    self._skew = skew
                self.callback_delays.append(skew - self._skew)
                now = current + self._skew
        origin = now + lead - self._stream_pos / self.bytes_per_second
        # Each callback gives a lower bound of the true origin (audio cannot be heard before
        # it is written), so keep the max; let it sink as slowly as a sound card's clock may
        # run fast against ours, so it follows that drift and forgets a late callback.
        # But no pipeline hides more than _UNREPORTED_DELAY beyond what it reports: past that
        # the device plays faster than its rate says (a test device, say), so trust the latest.
        sunk = self._origin - _CLOCK_DRIFT * (now - self._origin_at)
        self._origin = min(max(origin, sunk), origin + _UNREPORTED_DELAY)
        self._origin_at = now

    def heard_at(self, position: int) -> float | None:
        """When (``time.monotonic()``) stream byte ``position`` is heard; ``None`` before
        the first callback."""
        origin = self._origin
        if origin == -math.inf:
            return None
        return origin + position / self.bytes_per_second

    def due(self, mark: PlayoutMark) -> tuple[float, bool]:
        """When the audio before ``mark`` has been heard: ``(monotonic time, final)``.

        Final once the mark is on the stream; until then a prediction that assumes the
        device keeps playing, to be asked again at that time.
        """
        position = mark.position
        if position is not None:
            when = self.heard_at(position)
            return (_monotonic() if when is None else when), True
        if self._paused:  # no telling until it resumes (whoever resumes asks again)
            return math.inf, False
        predicted = self.heard_at(self._stream_pos + max(0, mark.target - self._consumed))
        return (_monotonic() + _RECHECK if predicted is None else predicted), False


class _CaptureForwarder:
    """The ``sounddevice.InputStream`` callback: copy the block, hand it on, never raise.

    With a :attr:`converter` the block is first converted to the negotiated input format
    (a few microseconds of libsoxr for a 20 ms block) and cut into frames of the same
    duration as the device's blocks; the converter may be swapped at any time.
    """

    def __init__(
        self, on_frame: FrameCallback, converter: InputConverter | None = None, block_ms: int = 20
    ) -> None:
        self.on_frame = on_frame
        self.converter = converter
        self.block_ms = block_ms
        self.frames = 0
        self.errors = 0
        self._pending = bytearray()  # converted audio not yet a whole frame
        self._pending_format: AudioFormat | None = None

    def __call__(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        try:
            block = bytes(indata)  # a copy: PortAudio reuses indata's memory
            converter = self.converter
            if converter is None:
                self._deliver(block)
                return
            fmt = converter.target
            if fmt != self._pending_format:  # the format changed: start afresh
                self._pending.clear()
                self._pending_format = fmt
            self._pending += converter.convert(block)
            size = fmt.bytes_for_ms(self.block_ms)
            while len(self._pending) >= size:
                frame = bytes(self._pending[:size])
                del self._pending[:size]
                self._deliver(frame)
        except Exception:  # a failing consumer must not stop the microphone
            self.errors += 1
            if self.errors == 1:
                logger.warning(
                    "microphone callback failed; further failures are counted only", exc_info=True
                )

    def _deliver(self, frame: bytes) -> None:
        self.frames += 1
        self.on_frame(frame)


class SounddeviceAudioIO(PlayoutWaits):
    """Plays and captures mono audio on the local sound card through PortAudio.

    Construction imports ``sounddevice`` and checks that the devices can do 24 kHz mono
    int16, raising :class:`~voicelive_proactive.errors.AudioUnavailableError` (which says
    what to install, or which alternative to use) when they cannot. The output stream opens
    on the first :meth:`queue_audio` (or :meth:`open`, or entering ``with``); the input
    stream opens on :meth:`start_capture`.

    The streams always run at 24 kHz PCM16. After :meth:`configure_formats`, queued audio
    in another format is decoded (g711) and resampled (libsoxr, state kept across chunks)
    on its way in, microphone blocks are converted to the input format on their way out,
    and every byte counter is in the queued format. :meth:`notify_when_played` says when
    the listener has heard the audio queued so far, output latency included.

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
        self._block_ms = block_ms
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
        # Formats, and the counters kept in the queued format. _convert_lock orders
        # conversion, the generation check and barge-in against each other.
        self._convert_lock = threading.Lock()
        self._output_format = PCM16_24K
        self._input_format = PCM16_24K
        self._converter = OutputConverter(PCM16_24K, SAMPLE_RATE)
        self._queued = 0
        self._skipped = 0
        self._stale = 0
        self._notifier = PlayoutNotifier("vp-sounddevice-playout")
        self._tail_watch = False  # a flush of the resampler's tail is scheduled
        self._last_chunk = 0.0  # when the last chunk that needed resampling came

    # -- formats --------------------------------------------------------------------------

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """Play ``output`` and capture ``input`` from now on (the streams stay at 24 kHz).

        Audio already queued in the previous format plays out unchanged.
        """
        output, input = check_formats(output, input)
        with self._convert_lock:
            if output != self._output_format:
                self._flush_converter()
                self._output_format = output
                self._converter = OutputConverter(output, SAMPLE_RATE)
            if input != self._input_format:
                self._input_format = input
                if self._forwarder is not None:
                    self._forwarder.converter = _input_converter(input)

    @property
    def output_format(self) -> AudioFormat:
        """The format :meth:`queue_audio` expects."""
        return self._output_format

    @property
    def input_format(self) -> AudioFormat:
        """The format of the microphone frames."""
        return self._input_format

    # -- playback -------------------------------------------------------------------------

    def open(self) -> None:
        """Open and start the output stream now (else the first :meth:`queue_audio` does)."""
        with self._state_lock:
            if self._closed:
                raise AudioUnavailableError("this SounddeviceAudioIO is closed; create a new one")
            if self._output is not None:
                return
            self._output = _start_stream(
                self._sd,
                "output",
                self._device,
                self._sd.OutputStream,
                self._buffer.callback,
                self._output_block_frames,
                self._latency,
                before_start=self._set_latency_floor,
            )

    def _set_latency_floor(self, stream: Any) -> None:
        # Before the first callback: it anchors the playout clock at the stream's start.
        self._buffer.latency_floor = float(stream.latency) + self._playback_block_ms / 1000

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Queue audio in :attr:`output_format` for playback and return at once.

        With ``generation`` (a value read from :attr:`generation`), the chunk is dropped
        if :meth:`skip_pending_audio` was called since: it belongs to a cancelled response.
        After :meth:`close`, chunks are ignored.
        """
        if self._output is None and self._closed:
            return
        with self._convert_lock:
            if generation is not None and generation != self._buffer.generation:
                self._stale += len(pcm)
                return
            self._queued += len(pcm)
            converter = self._converter
            if converter.passthrough:
                self._buffer.write(pcm)
            else:
                self._last_chunk = _monotonic()
                out, credit = converter.convert(pcm)
                self._buffer.write(out, credit=credit)
                if not self._tail_watch and converter.held_bytes:
                    self._tail_watch = True
                    self._notifier.add(self._flush_tail, self._tail_due)
        if self._output is None:
            self.open()  # after the write, so the stream's first block is this audio
            self._last_chunk = _monotonic()  # opening a device can take a while

    def skip_pending_audio(self) -> int:
        """Drop all queued audio now, end a pause, bump :attr:`generation`; return the bytes
        dropped.

        The count is in :attr:`output_format` bytes. The block PortAudio is playing and the
        device's buffer still reach the speaker.
        """
        with self._convert_lock:
            self._buffer.clear(credit_quantum=self._output_format.bytes_per_sample)
            self._converter.reset()
            dropped = max(0, self._queued - self._played() - self._skipped)
            self._skipped += dropped
        self._notifier.poke()
        return dropped

    def pause_audio(self) -> int:
        """Play silence from the next block on, keeping the queue; return the bytes unplayed.

        The count is in :attr:`output_format` bytes. What the device already holds (about
        :attr:`output_latency` plus a block) is still heard. Idempotent.
        """
        with self._convert_lock:
            self._buffer.pause()
            return self.pending_bytes

    def resume_audio(self) -> None:
        """Play on from where :meth:`pause_audio` stopped; a no-op when not paused."""
        self._buffer.resume()
        self._notifier.poke()  # the playout predictions hold again

    @property
    def paused(self) -> bool:
        """Whether :meth:`pause_audio` holds playback."""
        return self._buffer.paused

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the listener has heard all the audio queued so far.

        It runs on a notifier thread at the time the device clock says the last sample
        reaches the speaker (PortAudio's DAC time, or at least the stream latency after the
        callback that played it), or at once when nothing is pending and that time has
        passed. Audio dropped by :meth:`skip_pending_audio` or :meth:`close` counts as
        played. A resampled stream's filter tail is flushed first, so ask at the end of a
        response, not in the middle of one.
        """
        with self._convert_lock:
            if self._closed or self._output is None:
                mark = None
            else:
                self._flush_converter()
                mark = self._buffer.mark_end()
        if mark is None:
            run_callback(callback)
            return
        self._notifier.add(callback, lambda: self._buffer.due(mark))

    def _flush_converter(self) -> None:
        # With _convert_lock held: the resampler's tail joins the queue.
        out, credit = self._converter.flush()
        if out or credit:
            self._buffer.write(out, credit=credit)

    def _tail_due(self) -> tuple[float, bool]:
        # The resampler holds the last ~20-70 ms of audio until more comes. When no chunk
        # has come for a while and the queue is about to run dry, the response is over (or
        # stalled): flush, so its end plays even when nobody asks notify_when_played.
        # Flushing mid-stream would splice the filter (a click), hence the long idle time;
        # a session asks at the end of each response, which flushes at once.
        if self._buffer.paused:  # not the end of a response; resume_audio() asks again
            return math.inf, False
        left = self._buffer.pending_bytes / self._buffer.bytes_per_second
        return max(self._last_chunk + _TAIL_IDLE, _monotonic() + left - _TAIL_MARGIN), True

    def _flush_tail(self) -> None:
        with self._convert_lock:
            self._tail_watch = False
            self._flush_converter()

    def _played(self) -> int:
        quantum = self._output_format.bytes_per_sample
        return quantum * round(self._buffer.played_credit / quantum)

    @property
    def generation(self) -> int:
        """Playback generation, bumped by every :meth:`skip_pending_audio`."""
        return self._buffer.generation

    @property
    def played_bytes(self) -> int:
        """Queued bytes handed to the device so far (in :attr:`output_format`).

        The listener hears them up to :attr:`output_latency` later.
        """
        return min(self._played(), self._queued - self._skipped)

    @property
    def pending_bytes(self) -> int:
        """Queued bytes not yet handed to the device (in :attr:`output_format`)."""
        return max(0, self._queued - self._skipped - self._played())

    @property
    def skipped_bytes(self) -> int:
        """Bytes dropped by :meth:`skip_pending_audio` so far (in :attr:`output_format`)."""
        return self._skipped

    @property
    def stale_bytes(self) -> int:
        """Bytes dropped by :meth:`queue_audio` because their generation was stale."""
        return self._stale

    @property
    def callback_errors(self) -> int:
        """Output callbacks that failed and played silence instead (should stay 0)."""
        return self._buffer.callback_errors

    @property
    def status_flags(self) -> int:
        """Output callbacks PortAudio flagged (an underflow: the device ran dry)."""
        return self._buffer.status_flags

    @property
    def callback_delays(self) -> list[float]:
        """How late (seconds) each recent output callback ran after PortAudio called for it:
        the time it waited for the GIL and the scheduler. A delay longer than the output
        latency is a gap the listener hears."""
        return list(self._buffer.callback_delays)

    @property
    def playback_block_ms(self) -> int:
        """The PortAudio block size of playback, in ms."""
        return self._playback_block_ms

    @property
    def output_latency(self) -> float | None:
        """The output stream's latency in seconds as PortAudio reports it, once open."""
        stream = self._output
        return None if stream is None else float(stream.latency)

    # -- capture --------------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Open the input stream and call ``on_frame`` with each block (about ``block_ms``).

        ``on_frame`` runs on PortAudio's thread with a ``bytes`` copy of the block, in
        :attr:`input_format`; if it raises, the error is counted in :attr:`capture_errors`
        and capture goes on. A second call is a no-op, and so is every call when built with
        ``capture=False``.
        """
        with self._state_lock:
            if self._closed:
                raise AudioUnavailableError("this SounddeviceAudioIO is closed; create a new one")
            if self._input is not None:
                return
            if not self._capture:
                logger.info("SounddeviceAudioIO(capture=False): not capturing the microphone")
                return
            with self._convert_lock:
                converter = _input_converter(self._input_format)
                forwarder = _CaptureForwarder(on_frame, converter, self._block_ms)
                self._forwarder = forwarder
            self._input = _start_stream(
                self._sd,
                "input",
                self._capture_device,
                self._sd.InputStream,
                forwarder,
                self._block_frames,
                self._latency,
            )

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
        """Stop both streams at once (unplayed audio is dropped) and release the device.

        Pending :meth:`notify_when_played` callbacks run now: their audio was dropped.
        """
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
        with self._convert_lock:
            self._buffer.clear(credit_quantum=self._output_format.bytes_per_sample)
            self._converter.reset()
        self._notifier.close()

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
        return (
            f"SounddeviceAudioIO(device={self.device_name!r}, output={self._output_format}, "
            f"state={state})"
        )


def _start_stream(
    sd: Any,
    kind: str,
    device: DeviceSpec,
    factory: Any,
    callback: Any,
    block_frames: int,
    latency: Latency,
    before_start: Callable[[Any], None] | None = None,
) -> Any:
    """Open and start a 24 kHz mono int16 stream, or raise an actionable error."""
    stream = None
    try:
        stream = factory(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            blocksize=block_frames,
            device=device,
            latency=latency,
            callback=callback,
        )
        if before_start is not None:
            before_start(stream)
        stream.start()
    except (ValueError, sd.PortAudioError) as exc:
        if stream is not None:
            stream.close(ignore_errors=True)
        name = "the default" if device is None else repr(device)
        raise AudioUnavailableError(
            f"Cannot open {name} {kind} device at {SAMPLE_RATE} Hz mono int16: {exc}. "
            f"{_ALTERNATIVES}"
        ) from exc
    return stream
