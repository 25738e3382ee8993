"""``AudioIO`` backends without a sound device: discard audio, or record it to a WAV file.

Both need nothing but the standard library, so they work on servers, in CI and in
containers with no sound card.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import wave
from collections.abc import Callable
from types import TracebackType

from voicelive_proactive.audio.base import BYTES_PER_SAMPLE, SAMPLE_RATE, FrameCallback
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError

__all__ = ["NullAudioIO", "WavAudioIO", "check_wav_format"]

logger = logging.getLogger(__name__)

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

    Audio "plays" the instant it is queued, so :meth:`skip_pending_audio` always
    returns 0, and :meth:`start_capture` never delivers a frame.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._played = 0
        self._generation = 0
        self._closed = False

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Do nothing: there is no microphone."""

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Count ``pcm`` as played (unless its ``generation`` is stale) and discard it."""
        with self._lock:
            if self._closed or (generation is not None and generation != self._generation):
                return
            self._played += len(pcm)

    def skip_pending_audio(self) -> int:
        """Bump :attr:`generation`; return 0, since nothing is ever pending."""
        with self._lock:
            self._generation += 1
        return 0

    def close(self) -> None:
        self._closed = True

    @property
    def played_bytes(self) -> int:
        """Bytes queued (and so "played") so far."""
        return self._played

    @property
    def pending_bytes(self) -> int:
        return 0

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


class WavAudioIO:
    """Records the agent's audio to a WAV file and can play a WAV file as the microphone.

    ``path`` receives what is played as 24 kHz mono 16-bit PCM (``None``: record nothing).
    The header is completed by :meth:`close`.

    Playback model, which decides what barge-in drops:

    * ``realtime=False`` (default): the file "plays" instantly. Queued audio is written at
      once and :meth:`skip_pending_audio` drops nothing (returns 0), so the file holds
      every byte the agent sent.
    * ``realtime=True``: the file plays like a sound card, at 24 kHz of ``clock`` time
      from the moment audio is queued. :meth:`skip_pending_audio` drops whatever the
      playhead has not reached and returns its size, so the file holds exactly what a
      listener would have heard before the barge-in. :meth:`close` writes what is still
      pending, as if playback had been allowed to finish (skip first to drop it).

    Either way the file holds played audio back to back, without the silences between
    responses, so it can be compared byte for byte with what was queued.

    ``mic`` is a 24 kHz mono 16-bit WAV file (checked at construction) that
    :meth:`start_capture` feeds to ``on_frame`` from a background thread in ``block_ms``
    blocks (the last one may be shorter), in real time when ``realtime=True``, else as fast
    as the consumer takes them. Capture stops at the end of the file; give it trailing
    silence if server-side VAD must notice the end of speech.
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
        self._block_frames = SAMPLE_RATE * block_ms // 1000
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._carry = b""
        self._head_time = 0.0  # clock time at which the first pending byte starts playing
        self._played = 0
        self._skipped = 0
        self._generation = 0
        self._closed = False
        self._stop = threading.Event()
        self._mic_done = threading.Event()
        self._mic_thread: threading.Thread | None = None
        self._capture_errors = 0
        self._captured_frames = 0
        self.path = None if path is None else os.fspath(path)
        self._wav: wave.Wave_write | None = None
        if self.path is not None:
            try:  # first on our own: a failing wave.open() leaves a broken object to collect
                with open(self.path, "wb"):
                    pass
            except OSError as exc:
                raise ConfigurationError(f"cannot write WAV file {self.path!r}: {exc}") from exc
            wav = wave.open(self.path, "wb")  # noqa: SIM115 (open until close())
            wav.setnchannels(1)
            wav.setsampwidth(BYTES_PER_SAMPLE)
            wav.setframerate(SAMPLE_RATE)
            self._wav = wav

    # -- playback -------------------------------------------------------------------------

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Play ``pcm`` (see the class docstring for when it reaches the file).

        Chunks stamped with a stale ``generation`` are dropped; after :meth:`close`, all
        chunks are. An odd-length chunk's last byte waits for the next chunk.
        """
        with self._lock:
            if self._closed or (generation is not None and generation != self._generation):
                return
            if self._carry or len(pcm) & 1:
                data = self._carry + bytes(pcm)
                cut = len(data) & ~1
                self._carry, pcm = data[cut:], data[:cut]
            if not self._realtime:
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
            self._generation += 1
            self._skipped += dropped
        return dropped

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
        if not self._pending:
            return
        due = int((self._clock() - self._head_time) * SAMPLE_RATE) * BYTES_PER_SAMPLE
        if due <= 0:
            return
        take = min(due, len(self._pending))
        self._write(bytes(self._pending[:take]))
        del self._pending[:take]
        self._head_time += take / (SAMPLE_RATE * BYTES_PER_SAMPLE)

    def _write(self, pcm: bytes) -> None:
        self._played += len(pcm)
        if self._wav is not None:
            self._wav.writeframesraw(pcm)

    # -- capture --------------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Start feeding the ``mic`` file to ``on_frame`` (nothing happens without ``mic``).

        ``on_frame`` runs on a background thread; if it raises, the error is counted in
        :attr:`capture_errors` and feeding goes on. A second call is a no-op.
        """
        with self._lock:
            if self._closed:
                raise AudioUnavailableError("this WavAudioIO is closed; create a new one")
            if self._mic_thread is not None or self._mic_path is None:
                return
            self._mic_thread = threading.Thread(
                target=self._feed_mic, args=(self._mic_path, on_frame), name="wav-mic", daemon=True
            )
            self._mic_thread.start()

    def _feed_mic(self, path: str, on_frame: FrameCallback) -> None:
        block_seconds = self._block_frames / SAMPLE_RATE
        try:
            with wave.open(path, "rb") as wav:
                start = time.monotonic()
                index = 0
                while not self._stop.is_set():
                    block = wav.readframes(self._block_frames)
                    if not block:
                        break
                    index += 1
                    if self._realtime:  # a microphone hands a block over once it is recorded
                        delay = start + index * block_seconds - time.monotonic()
                        if delay > 0 and self._stop.wait(delay):
                            break
                    self._captured_frames += 1
                    try:
                        on_frame(block)
                    except Exception:
                        self._capture_errors += 1
                        if self._capture_errors == 1:
                            logger.warning(
                                "microphone callback failed; further failures are counted only",
                                exc_info=True,
                            )
        except (OSError, wave.Error, EOFError):  # the file changed since construction
            logger.exception("reading the microphone WAV file %r failed", path)
        finally:
            self._mic_done.set()

    def wait_for_capture(self, timeout: float | None = None) -> bool:
        """Block until the whole ``mic`` file was delivered; ``False`` on timeout.

        Returns at once when there is no ``mic`` or capture was never started.
        """
        if self._mic_thread is None:
            return True
        return self._mic_done.wait(timeout)

    @property
    def capturing(self) -> bool:
        """Whether the microphone thread is feeding ``on_frame``."""
        return self._mic_thread is not None and not self._mic_done.is_set()

    @property
    def captured_frames(self) -> int:
        """Microphone blocks handed to ``on_frame`` so far (whether or not it raised)."""
        return self._captured_frames

    @property
    def capture_errors(self) -> int:
        """Times ``on_frame`` raised (the first one is logged)."""
        return self._capture_errors

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop the microphone, write what is pending and complete the WAV file."""
        self._stop.set()
        thread = self._mic_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = bytes(self._pending)
            self._pending.clear()
            self._carry = b""  # half a sample cannot be played
            self._write(pending)
            if self._wav is not None:
                self._wav.close()

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
