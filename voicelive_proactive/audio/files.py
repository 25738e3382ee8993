"""``AudioIO`` backends without a sound device: discard audio, or record it to a WAV file.

Both need nothing but the standard library, so they work on servers, in CI and in
containers with no sound card.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import struct
import threading
import time
import wave
from collections.abc import Callable
from types import TracebackType

from voicelive_proactive.audio.base import BYTES_PER_SAMPLE, SAMPLE_RATE, FrameCallback
from voicelive_proactive.audio.convert import InputConverter, OutputConverter, check_formats
from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat
from voicelive_proactive.audio.playout import PlayoutNotifier, run_callback
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError

__all__ = ["NullAudioIO", "WavAudioIO", "check_wav_format"]

logger = logging.getLogger(__name__)

# With an injected clock, a realtime WAV cannot sleep until its playhead is due: it looks
# again this often (seconds) for pending notify_when_played callbacks.
_FOREIGN_CLOCK_POLL = 0.05

_CONVERT_HINT = (
    "Convert it with `ffmpeg -i in.wav -ar 24000 -ac 1 -c:a pcm_s16le out.wav` "
    "or `sox in.wav -r 24000 -c 1 -b 16 out.wav`."
)


def check_wav_format(path: str | os.PathLike[str]) -> int:
    """Check that ``path`` is a 24 kHz mono 16-bit PCM WAV; return its length in frames.

    Raises :class:`~voicelive_proactive.errors.ConfigurationError` saying what is wrong.
    """
    try:
        with wave.open(os.fspath(path), "rb") as wav:
            found = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
            nframes = wav.getnframes()
    except FileNotFoundError as exc:
        raise ConfigurationError(f"WAV file not found: {os.fspath(path)!r}") from exc
    except (wave.Error, EOFError, OSError) as exc:
        raise ConfigurationError(
            f"{os.fspath(path)!r} is not a PCM WAV file ({exc}). "
            f"It must be 24 kHz mono 16-bit PCM. {_CONVERT_HINT}"
        ) from exc
    if found != (SAMPLE_RATE, 1, BYTES_PER_SAMPLE):
        rate, channels, width = found
        raise ConfigurationError(
            f"{os.fspath(path)!r} is {rate} Hz, {channels} channel(s), {8 * width}-bit; "
            f"Voice Live needs 24000 Hz, 1 channel, 16-bit PCM. {_CONVERT_HINT}"
        )
    return nframes


class NullAudioIO:
    """Discards the agent's audio, counting it, and has no microphone.

    Audio "plays" the instant it is queued, so :meth:`skip_pending_audio` returns 0,
    :meth:`notify_when_played` calls back at once, and :meth:`start_capture` never
    delivers a frame. Any format is accepted; bytes are counted as queued.

    It can pause (:class:`~voicelive_proactive.audio.Pausable`): audio queued while paused
    is held (:attr:`pending_bytes`) and "plays" all at once on :meth:`resume_audio`;
    :meth:`skip_pending_audio` drops it and ends the pause, and a
    :meth:`notify_when_played` asked while audio is held waits for one or the other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._played = 0
        self._generation = 0
        self._closed = False
        self._paused = False
        self._held = 0  # bytes queued while paused
        self._waiting: list[Callable[[], None]] = []  # notify_when_played, held audio
        self._output_format = PCM16_24K
        self._input_format = PCM16_24K

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """Count ``output`` bytes from now on (there is nothing to convert)."""
        self._output_format, self._input_format = check_formats(output, input)

    @property
    def output_format(self) -> AudioFormat:
        return self._output_format

    @property
    def input_format(self) -> AudioFormat:
        return self._input_format

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Do nothing: there is no microphone."""

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Count ``pcm`` as played (unless its ``generation`` is stale) and discard it.

        While paused it is held instead, until :meth:`resume_audio` or a skip.
        """
        with self._lock:
            if self._closed or (generation is not None and generation != self._generation):
                return
            if self._paused:
                self._held += len(pcm)
            else:
                self._played += len(pcm)

    def skip_pending_audio(self) -> int:
        """Bump :attr:`generation` and end any pause; return the bytes held by the pause
        (0 when not paused: nothing else is ever pending)."""
        with self._lock:
            self._generation += 1
            dropped, self._held, self._paused = self._held, 0, False
            waiting, self._waiting = self._waiting, []
        for callback in waiting:
            run_callback(callback)
        return dropped

    def pause_audio(self) -> int:
        """Hold audio queued from now on; return the bytes held so far. Idempotent."""
        with self._lock:
            self._paused = True
            return self._held

    def resume_audio(self) -> None:
        """Play what was held, at once; a no-op when not paused."""
        with self._lock:
            if not self._paused:
                return
            self._played += self._held
            self._held, self._paused = 0, False
            waiting, self._waiting = self._waiting, []
        for callback in waiting:
            run_callback(callback)

    @property
    def paused(self) -> bool:
        """Whether :meth:`pause_audio` is holding the audio."""
        return self._paused

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` now (everything queued has already "played"), or, while a pause
        holds audio, once it is resumed, skipped or closed."""
        with self._lock:
            if self._held and not self._closed:
                self._waiting.append(callback)
                return
        run_callback(callback)

    def close(self) -> None:
        """Drop held audio and run waiting notifications. Safe to call twice."""
        with self._lock:
            self._closed = True
            self._held = 0
            waiting, self._waiting = self._waiting, []
        for callback in waiting:
            run_callback(callback)

    @property
    def played_bytes(self) -> int:
        """Bytes queued (and so "played") so far."""
        return self._played

    @property
    def pending_bytes(self) -> int:
        """Bytes held by a pause (0 when not paused)."""
        return self._held

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def capturing(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"NullAudioIO(played_bytes={self._played}, closed={self._closed})"


_HEADER_BYTES = 44
_MAX_DATA_BYTES = 0xFFFFFFFF - 36  # what a RIFF header can count


def _wav_header(rate: int, data_bytes: int) -> bytes:
    data_bytes = min(data_bytes, _MAX_DATA_BYTES)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,  # the size of this PCM fmt chunk
        1,  # PCM
        1,  # mono
        rate,
        rate * BYTES_PER_SAMPLE,
        BYTES_PER_SAMPLE,
        8 * BYTES_PER_SAMPLE,
        b"data",
        data_bytes,
    )


class _WavWriter:
    """A mono PCM16 WAV file whose header is right after every write.

    Data goes out with ``os.write`` (no buffer in this process to lose) and the header is
    then rewritten in place with one ``os.pwrite`` (no seek), so a process killed at any
    moment leaves a valid file that counts every sample it holds (issue 8).
    """

    def __init__(self, path: str, rate: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o666)
        self.rate = rate
        self.data_bytes = 0
        self._write_all(_wav_header(rate, 0))

    def set_rate(self, rate: int) -> bool:
        """Change the sample rate while no audio is written; ``False`` if it is too late."""
        if self.data_bytes:
            return rate == self.rate
        self.rate = rate
        self._update_header()
        return True

    def write(self, pcm: bytes) -> None:
        if not pcm:
            return
        self._write_all(pcm)
        self.data_bytes += len(pcm)
        self._update_header()

    def close(self) -> None:
        os.close(self._fd)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def _update_header(self) -> None:
        header = _wav_header(self.rate, self.data_bytes)
        if hasattr(os, "pwrite"):
            os.pwrite(self._fd, header, 0)
        else:  # Windows has no pwrite: seek there and back
            end = os.lseek(self._fd, 0, os.SEEK_CUR)
            os.lseek(self._fd, 0, os.SEEK_SET)
            self._write_all(header)
            os.lseek(self._fd, end, os.SEEK_SET)


class _Framer:
    """Converts 24 kHz PCM16 to an input format and cuts it into ``block_ms`` frames."""

    def __init__(self, block_ms: int) -> None:
        self._block_ms = block_ms
        self._converter: InputConverter | None = None
        self._buffer = bytearray()

    def push(self, pcm: bytes, fmt: AudioFormat) -> list[bytes]:
        """The whole frames ready after ``pcm`` (the format may change between pushes)."""
        frames: list[bytes] = []
        if self._converter is None or self._converter.target != fmt:
            frames = self.end()  # what the previous format still held
            self._converter = InputConverter(SAMPLE_RATE, fmt)
        self._buffer += self._converter.convert(pcm)
        return frames + self._cut(whole=True)

    def end(self) -> list[bytes]:
        """The rest: the converter's tail, the last frame shorter."""
        if self._converter is None:
            return []
        self._buffer += self._converter.flush()
        return self._cut(whole=False)

    def _cut(self, *, whole: bool) -> list[bytes]:
        assert self._converter is not None
        size = self._converter.target.bytes_for_ms(self._block_ms)
        frames = []
        while len(self._buffer) >= size or (self._buffer and not whole):
            frames.append(bytes(self._buffer[:size]))
            del self._buffer[:size]
        return frames


class _MicFile:
    """A 24 kHz WAV file played into ``on_frame`` as a microphone, on its own thread.

    ``block_ms`` frames of the format ``input_format()`` gives at that moment; in real time
    (a block once it would have been recorded) or as fast as ``on_frame`` takes them.
    """

    def __init__(
        self, path: str, block_ms: int, realtime: bool, input_format: Callable[[], AudioFormat]
    ) -> None:
        self.path = path
        self.frames = 0
        self.errors = 0
        self._block_ms = block_ms
        self._realtime = realtime
        self._input_format = input_format
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def start(self, on_frame: FrameCallback) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(on_frame,), name="wav-mic", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None) -> bool:
        """Until the whole file was delivered (at once if never started)."""
        return self._thread is None or self._done.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, on_frame: FrameCallback) -> None:
        block_seconds = self._block_ms / 1000
        start = time.monotonic()
        index = 0  # frames delivered: each one is block_ms long, whatever the format

        def deliver(frame: bytes) -> bool:
            nonlocal index
            index += 1
            if self._realtime:  # a microphone hands a block over once it is recorded
                delay = start + index * block_seconds - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return False
            self.frames += 1
            try:
                on_frame(frame)
            except Exception:
                self.errors += 1
                if self.errors == 1:
                    logger.warning(
                        "microphone callback failed; further failures are counted only",
                        exc_info=True,
                    )
            return not self._stop.is_set()

        try:
            with wave.open(self.path, "rb") as wav:
                framer = _Framer(self._block_ms)
                frames_per_block = SAMPLE_RATE * self._block_ms // 1000
                while not self._stop.is_set():
                    block = wav.readframes(frames_per_block)
                    frames = framer.push(block, self._input_format()) if block else framer.end()
                    if not all(deliver(frame) for frame in frames) or not block:
                        break
        except (OSError, wave.Error, EOFError):  # the file changed since construction
            logger.exception("reading the microphone WAV file %r failed", self.path)
        finally:
            self._done.set()


class WavAudioIO:
    """Records the agent's audio to a WAV file and can play a WAV file as the microphone.

    ``path`` receives what is played as mono 16-bit PCM (``None``: record nothing), at
    24 kHz or at the rate of the output format configured before the first audio
    (:meth:`configure_formats`; g711 is decoded, 8 kHz). The header is kept valid as audio
    is written, so the file is readable even if the process is killed.

    Playback model, which decides what barge-in drops:

    * ``realtime=False`` (default): the file "plays" instantly. Queued audio is written at
      once and :meth:`skip_pending_audio` drops nothing (returns 0), so the file holds
      every byte the agent sent.
    * ``realtime=True``: the file plays like a sound card, at the output format's rate of
      ``clock`` time from the moment audio is queued. :meth:`skip_pending_audio` drops
      whatever the playhead has not reached and returns its size, so the file holds
      exactly what a listener would have heard before the barge-in. :meth:`close` writes
      what is still pending, as if playback had been allowed to finish (skip first to drop
      it).

    Either way the file holds played audio back to back, without the silences between
    responses, so it can be compared byte for byte with what was queued. Byte counts are
    in the queued (output) format.

    Pause (:class:`~voicelive_proactive.audio.Pausable`): :meth:`pause_audio` stops the
    playhead (``realtime=True``) or holds queued audio back (``realtime=False``); nothing
    reaches the file while paused, not even silence, so the file still holds the played
    audio back to back. :meth:`resume_audio` plays on from where it stopped (the held audio
    at once when not realtime). :meth:`skip_pending_audio` drops what is pending and ends
    the pause; :meth:`close` while paused drops it too.

    ``mic`` is a 24 kHz mono 16-bit WAV file (checked at construction) that
    :meth:`start_capture` feeds to ``on_frame`` from a background thread in ``block_ms``
    blocks of the input format (the last one may be shorter), in real time when
    ``realtime=True``, else as fast as the consumer takes them. Capture stops at the end of
    the file; give it trailing silence if server-side VAD must notice the end of speech.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        mic: str | os.PathLike[str] | None = None,
        realtime: bool = False,
        block_ms: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(block_ms, bool) or not isinstance(block_ms, int) or not 1 <= block_ms <= 1000:
            raise ConfigurationError(f"block_ms must be an int from 1 to 1000, not {block_ms!r}")
        self._mic_path = None if mic is None else os.fspath(mic)
        self.mic_frames = 0 if self._mic_path is None else check_wav_format(self._mic_path)
        self._realtime = realtime
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._carry = b""
        self._head_time = 0.0  # clock time at which the first pending byte starts playing
        self._paused = False
        self._played = 0
        self._skipped = 0
        self._generation = 0
        self._closed = False
        self._mic = (
            None
            if self._mic_path is None
            else _MicFile(self._mic_path, block_ms, realtime, lambda: self._input_format)
        )
        self._output_format = PCM16_24K
        self._input_format = PCM16_24K
        self._converter = OutputConverter(PCM16_24K, SAMPLE_RATE)
        self._notifier = PlayoutNotifier("vp-wav-playout")
        self.write_errors = 0
        """Writes to ``path`` that failed (the first is logged; recording stops there)."""
        self.path = None if path is None else os.fspath(path)
        self._wav: _WavWriter | None = None
        if self.path is not None:
            try:
                self._wav = _WavWriter(self.path, SAMPLE_RATE)
            except OSError as exc:
                raise ConfigurationError(f"cannot write WAV file {self.path!r}: {exc}") from exc

    # -- formats --------------------------------------------------------------------------

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """Take ``output`` from now on and feed the microphone in ``input``.

        The file keeps one rate: the output format's if no audio was written yet, else the
        one it has (later audio is resampled to it). Audio still pending in the previous
        format (in real time, or held by a pause) is written at once, as if it had finished
        playing.
        """
        output, input = check_formats(output, input)
        with self._lock:
            self._input_format = input
            if output == self._output_format:
                return
            self._pending_to_file()
            self._flush_converter()
            rate = output.sample_rate
            if self._wav is not None and not self._wav.set_rate(rate):
                rate = self._wav.rate
            self._output_format = output
            self._converter = OutputConverter(output, rate)

    @property
    def output_format(self) -> AudioFormat:
        """The format :meth:`queue_audio` expects."""
        return self._output_format

    @property
    def input_format(self) -> AudioFormat:
        """The format of the microphone frames."""
        return self._input_format

    @property
    def file_rate(self) -> int:
        """The sample rate of the recorded WAV file."""
        return self._wav.rate if self._wav is not None else self._converter.rate

    # -- playback -------------------------------------------------------------------------

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Play ``pcm`` (see the class docstring for when it reaches the file).

        Chunks stamped with a stale ``generation`` are dropped; after :meth:`close`, all
        chunks are. An odd-length PCM16 chunk's last byte waits for the next chunk.
        """
        with self._lock:
            if self._closed or (generation is not None and generation != self._generation):
                return
            if self._output_format.encoding == "pcm16" and (self._carry or len(pcm) & 1):
                data = self._carry + bytes(pcm)
                cut = len(data) & ~1
                self._carry, pcm = data[cut:], data[:cut]
            if not self._realtime and not self._paused:
                self._write(pcm)
                return
            self._advance()
            if not self._pending:
                self._head_time = self._clock()
            self._pending += pcm

    def skip_pending_audio(self) -> int:
        """Drop what the playhead has not reached; return its size (always 0 unless realtime)."""
        with self._lock:
            self._advance()
            dropped = len(self._pending) + len(self._carry)
            self._pending.clear()
            self._carry = b""
            self._paused = False
            self._generation += 1
            self._skipped += dropped
            self._flush_converter()  # the filter's tail is audio that played
        self._notifier.poke()
        return dropped

    def pause_audio(self) -> int:
        """Stop the playhead now (hold queued audio when not realtime); return the bytes
        still pending. Idempotent."""
        with self._lock:
            self._advance()  # what the clock reached before the pause has played
            self._paused = True
            return len(self._pending) + len(self._carry)

    def resume_audio(self) -> None:
        """Play on from where the pause stopped; a no-op when not paused."""
        with self._lock:
            if not self._paused:
                return
            self._paused = False
            if self._realtime:
                self._head_time = self._clock()  # the first pending byte starts now
            else:
                self._pending_to_file(keep_carry=True)
        self._notifier.poke()

    @property
    def paused(self) -> bool:
        """Whether :meth:`pause_audio` holds playback."""
        return self._paused

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the audio queued so far has played.

        At once unless ``realtime=True``; then when the playhead passes the end of it (on
        a notifier thread), or at once if a barge-in or :meth:`close` drops it first.
        """
        with self._lock:
            self._flush_converter()
            self._advance()
            target = self._played + self._skipped + len(self._pending)
            if self._closed or not self._pending:
                target = -1
        if target < 0:
            run_callback(callback)
        else:
            self._notifier.add(callback, lambda: self._due(target))

    def _due(self, target: int) -> tuple[float, bool]:
        now = time.monotonic()
        with self._lock:
            self._advance()
            left = target - self._played - self._skipped
            if left <= 0 or self._closed:
                return now, True
            if self._paused:  # resume_audio() and skip_pending_audio() poke
                return math.inf, False
            seconds = left / self._output_format.bytes_per_second
            seconds -= self._clock() - self._head_time
        if self._clock is not time.monotonic:  # another clock: look again soon
            seconds = min(seconds, _FOREIGN_CLOCK_POLL)
        return now + max(seconds, 0.0005), False

    @property
    def played_bytes(self) -> int:
        """Bytes played (written to the file, or due by the clock) so far."""
        with self._lock:
            self._advance()
            return self._played

    @property
    def pending_bytes(self) -> int:
        """Bytes queued that the playhead has not reached (always 0 unless realtime)."""
        with self._lock:
            self._advance()
            return len(self._pending) + len(self._carry)

    @property
    def skipped_bytes(self) -> int:
        """Bytes dropped by :meth:`skip_pending_audio` so far."""
        return self._skipped

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`skip_pending_audio`."""
        return self._generation

    def _advance(self) -> None:
        # Called with the lock held: "play" the pending bytes the clock has reached.
        if not self._pending or self._paused:
            return
        fmt = self._output_format
        # The epsilon keeps float noise (0.05 s * 8000 = 399.9999) from losing a sample.
        due = int((self._clock() - self._head_time) * fmt.sample_rate + 1e-6)
        due *= fmt.bytes_per_sample
        if due <= 0:
            return
        take = min(due, len(self._pending))
        self._write(bytes(self._pending[:take]))
        del self._pending[:take]
        self._head_time += take / fmt.bytes_per_second

    def _pending_to_file(self, *, keep_carry: bool = False) -> None:
        # Called with the lock held: play out what is pending now.
        pending = bytes(self._pending)
        self._pending.clear()
        if not keep_carry:
            self._carry = b""  # half a sample cannot be played
        self._write(pending)

    def _write(self, data: bytes) -> None:
        # Called with the lock held: ``data`` (queued format) has played.
        self._played += len(data)
        if self._wav is not None:
            pcm, _ = self._converter.convert(data)
            self._record(pcm)

    def _flush_converter(self) -> None:
        if self._wav is not None:
            pcm, _ = self._converter.flush()
            self._record(pcm)

    def _record(self, pcm: bytes) -> None:
        wav = self._wav
        if wav is None or not pcm:
            return
        try:
            wav.write(pcm)
        except OSError:  # a full disk must not break the caller's event loop
            self.write_errors += 1
            logger.exception("writing %r failed; recording stops here", self.path)
            self._wav = None
            with contextlib.suppress(OSError):
                wav.close()

    # -- capture --------------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Start feeding the ``mic`` file to ``on_frame`` (nothing happens without ``mic``).

        ``on_frame`` runs on a background thread; if it raises, the error is counted in
        :attr:`capture_errors` and feeding goes on. A second call is a no-op.
        """
        with self._lock:
            if self._closed:
                raise AudioUnavailableError("this WavAudioIO is closed; create a new one")
            if self._mic is not None and not self._mic.started:
                self._mic.start(on_frame)

    def wait_for_capture(self, timeout: float | None = None) -> bool:
        """Block until the whole ``mic`` file was delivered; ``False`` on timeout.

        Returns at once when there is no ``mic`` or capture was never started.
        """
        return self._mic is None or self._mic.wait(timeout)

    @property
    def capturing(self) -> bool:
        """Whether the microphone thread is feeding ``on_frame``."""
        return self._mic is not None and self._mic.running

    @property
    def captured_frames(self) -> int:
        """Microphone blocks handed to ``on_frame`` so far (whether or not it raised)."""
        return 0 if self._mic is None else self._mic.frames

    @property
    def capture_errors(self) -> int:
        """Times ``on_frame`` raised (the first one is logged)."""
        return 0 if self._mic is None else self._mic.errors

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop the microphone, write what is pending and close the WAV file.

        Pending :meth:`notify_when_played` callbacks run now.
        """
        if self._mic is not None:
            self._mic.stop()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._paused:  # a paused player that is switched off never plays the rest
                self._skipped += len(self._pending)
                self._pending.clear()
            self._pending_to_file()
            self._flush_converter()
            if self._wav is not None:
                self._wav.close()
        self._notifier.close()

    def __enter__(self) -> WavAudioIO:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"WavAudioIO({self.path!r}, mic={self._mic_path!r}, realtime={self._realtime}, "
            f"closed={self._closed})"
        )
