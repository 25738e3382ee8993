"""``MemoryAudioIO``: an in-memory ``AudioIO`` with a playback clock you move by hand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from voicelive_proactive.audio.base import FrameCallback
from voicelive_proactive.audio.convert import check_formats
from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat, silence
from voicelive_proactive.errors import AudioUnavailableError

__all__ = ["MemoryAudioIO"]


class MemoryAudioIO:
    """An ``AudioIO`` that keeps everything in memory, for tests.

    Playback model: queued audio stays *pending* until the test "plays" it with
    :meth:`play` or :meth:`play_all`, the way a sound card would over time. Barge-in
    (:meth:`skip_pending_audio`) drops exactly the pending audio and returns its size. So:

    * :attr:`played` holds the bytes played so far, in order;
    * :attr:`pending` holds the bytes queued and not yet played;
    * :attr:`queued` is ``played + pending``: everything queued minus what was skipped.

    Microphone: :meth:`feed` delivers PCM16 to the ``on_frame`` given to
    :meth:`start_capture`, split into ``block_ms`` blocks (the last may be shorter), on the
    caller's thread. Audio fed before capture starts is kept and delivered when it starts.
    Errors raised by ``on_frame`` propagate to the caller of :meth:`feed`, so they fail
    the test.

    Formats: the bytes are kept exactly as queued, whatever the format. After
    :meth:`configure_formats`, :meth:`play_ms` and the ``block_ms`` blocks of :meth:`feed`
    follow the formats' byte rates, and :meth:`feed_silence` feeds the input format's
    silence (``0xFF`` for µ-law). :attr:`formats_configured` lists each configuration.

    Playout: :meth:`notify_when_played` callbacks run, on the thread that plays or skips,
    as soon as everything queued before the request has been played or skipped, so a test
    can hold the agent's audio "still playing" for as long as it likes.

    Pause (:class:`~voicelive_proactive.audio.Pausable`): after :meth:`pause_audio`,
    :meth:`play`, :meth:`play_ms` and :meth:`play_all` play nothing (the sound card plays
    silence) until :meth:`resume_audio`; queued audio stays pending, and so do the
    notifications waiting for it. :meth:`skip_pending_audio` ends a pause. :attr:`paused`
    says whether it is paused and :attr:`pause_count` how often it was.

    Like the real backends, :meth:`skip_pending_audio` bumps :attr:`generation`, and
    :meth:`queue_audio` drops a chunk stamped with an older one. After :meth:`close`,
    queued audio is ignored (and pending notifications run). All methods are thread-safe.
    """

    def __init__(self, *, block_ms: int = 20) -> None:
        if isinstance(block_ms, bool) or not isinstance(block_ms, int) or block_ms <= 0:
            raise ValueError(f"block_ms must be a positive int, not {block_ms!r}")
        self.block_ms = block_ms
        self.output_format: AudioFormat = PCM16_24K
        """The format of the queued audio (24 kHz PCM16 until :meth:`configure_formats`)."""
        self.input_format: AudioFormat = PCM16_24K
        """The format :meth:`feed` delivers."""
        self.formats_configured: list[tuple[AudioFormat, AudioFormat]] = []
        """``(output, input)`` of every :meth:`configure_formats` call, in order."""
        self._waiters: list[tuple[int, Callable[[], None]]] = []  # (consumed target, callback)
        self._consumed = 0  # bytes played or skipped, ever
        self._lock = threading.Lock()
        self._played = bytearray()
        self._pending = bytearray()
        self._mic_backlog: list[bytes] = []
        self._on_frame: FrameCallback | None = None
        self.skip_count = 0
        """Times :meth:`skip_pending_audio` was called."""
        self.skipped_bytes = 0
        """Bytes dropped by :meth:`skip_pending_audio`, in total."""
        self.stale_bytes = 0
        """Bytes dropped by :meth:`queue_audio` because their generation was stale."""
        self.generation = 0
        """Bumped by every :meth:`skip_pending_audio`."""
        self.closed = False
        """Whether :meth:`close` was called."""
        self._paused = False
        self.pause_count = 0
        """Times :meth:`pause_audio` paused playback (a call while paused does not count)."""

    @property
    def block_bytes(self) -> int:
        """The size of a microphone block: ``block_ms`` of :attr:`input_format`."""
        return self.input_format.bytes_for_ms(self.block_ms)

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """Record the formats; queued bytes are still kept as they are."""
        output, input = check_formats(output, input)
        with self._lock:
            self.output_format, self.input_format = output, input
            self.formats_configured.append((output, input))

    # -- playback -------------------------------------------------------------------------

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        """Append ``pcm`` to the pending audio."""
        with self._lock:
            if self.closed:
                return
            if generation is not None and generation != self.generation:
                self.stale_bytes += len(pcm)
                return
            self._pending += pcm

    def skip_pending_audio(self) -> int:
        """Drop the pending audio and end any pause; return how many bytes that was."""
        with self._lock:
            dropped = len(self._pending)
            self._pending.clear()
            self._paused = False
            self.skip_count += 1
            self.skipped_bytes += dropped
            self.generation += 1
            ready = self._consume(dropped)
        _run(ready)
        return dropped

    def pause_audio(self) -> int:
        """Hold playback: :meth:`play` and friends play nothing until :meth:`resume_audio`.

        Return the bytes pending (queued and unplayed). Idempotent.
        """
        with self._lock:
            if not self._paused:
                self._paused = True
                self.pause_count += 1
            return len(self._pending)

    def resume_audio(self) -> None:
        """Let :meth:`play` and friends play again; a no-op when not paused."""
        with self._lock:
            self._paused = False

    @property
    def paused(self) -> bool:
        """Whether playback is held by :meth:`pause_audio`."""
        return self._paused

    def play(self, n_bytes: int) -> bytes:
        """Play up to ``n_bytes`` of the pending audio; return the bytes played.

        While paused nothing plays and ``b""`` is returned.
        """
        if n_bytes < 0:
            raise ValueError(f"n_bytes must be >= 0, not {n_bytes}")
        with self._lock:
            if self._paused:
                return b""
            chunk = bytes(self._pending[:n_bytes])
            del self._pending[:n_bytes]
            self._played += chunk
            ready = self._consume(len(chunk))
        _run(ready)
        return chunk

    def play_ms(self, ms: float) -> bytes:
        """Play up to ``ms`` milliseconds (of :attr:`output_format`); return the bytes played."""
        return self.play(self.output_format.bytes_for_ms(ms))

    def play_all(self) -> bytes:
        """Play all the pending audio; return the bytes played (``b""`` while paused)."""
        with self._lock:
            if self._paused:
                return b""
            chunk = bytes(self._pending)
            self._pending.clear()
            self._played += chunk
            ready = self._consume(len(chunk))
        _run(ready)
        return chunk

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the audio queued so far is played or skipped.

        It runs at once if nothing is pending, else on the thread whose :meth:`play`,
        :meth:`play_ms`, :meth:`play_all`, :meth:`skip_pending_audio` or :meth:`close`
        gets there. An error it raises reaches that caller, so it fails the test.
        """
        with self._lock:
            if self._pending and not self.closed:
                self._waiters.append((self._consumed + len(self._pending), callback))
                return
        _run([callback])

    @property
    def notifications_pending(self) -> int:
        """:meth:`notify_when_played` callbacks still waiting for audio to play."""
        return len(self._waiters)

    def _consume(self, n: int) -> list[Callable[[], None]]:
        # Called with the lock held: n more bytes were played or skipped.
        self._consumed += n
        ready = [cb for target, cb in self._waiters if target <= self._consumed]
        if ready:
            self._waiters = [(t, cb) for t, cb in self._waiters if t > self._consumed]
        return ready

    @property
    def queued(self) -> bytes:
        """Everything queued so far, minus what was skipped (``played + pending``)."""
        with self._lock:
            return bytes(self._played + self._pending)

    @property
    def played(self) -> bytes:
        """The audio played so far."""
        with self._lock:
            return bytes(self._played)

    @property
    def pending(self) -> bytes:
        """The audio queued and not yet played."""
        with self._lock:
            return bytes(self._pending)

    @property
    def played_bytes(self) -> int:
        return len(self._played)

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    # -- microphone -----------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Deliver audio passed to :meth:`feed` (including earlier feeds) to ``on_frame``.

        A second call is a no-op.
        """
        with self._lock:
            if self.closed:
                raise AudioUnavailableError("this MemoryAudioIO is closed; create a new one")
            if self._on_frame is not None:
                return
            self._on_frame = on_frame
            backlog, self._mic_backlog = self._mic_backlog, []
        for block in backlog:
            on_frame(block)

    def feed(self, pcm: bytes) -> int:
        """Act as the microphone: deliver ``pcm`` in ``block_ms`` blocks; return the count.

        ``pcm`` is in :attr:`input_format`. Before :meth:`start_capture` the blocks are kept
        (and 0 is returned); after :meth:`close` they are ignored.
        """
        if self.input_format.encoding == "pcm16" and len(pcm) % 2:
            raise ValueError(f"PCM16 has an even number of bytes, got {len(pcm)}")
        size = self.block_bytes
        blocks = [bytes(pcm[i : i + size]) for i in range(0, len(pcm), size)]
        with self._lock:
            if self.closed:
                return 0
            on_frame = self._on_frame
            if on_frame is None:
                self._mic_backlog.extend(blocks)
                return 0
        for block in blocks:
            on_frame(block)
        return len(blocks)

    def feed_silence(self, ms: float) -> int:
        """Feed ``ms`` milliseconds of :attr:`input_format` silence; return the blocks delivered."""
        return self.feed(silence(self.input_format, ms))

    @property
    def capturing(self) -> bool:
        """Whether :meth:`start_capture` was called (and :meth:`close` was not)."""
        return self._on_frame is not None and not self.closed

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop capture; queued audio is ignored from now on. Safe to call twice.

        Pending :meth:`notify_when_played` callbacks run now: their audio will never play.
        """
        with self._lock:
            self.closed = True
            self._mic_backlog.clear()
            ready = [cb for _, cb in self._waiters]
            self._waiters.clear()
        _run(ready)

    def __enter__(self) -> MemoryAudioIO:
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
            f"MemoryAudioIO(played={len(self._played)}B, pending={len(self._pending)}B, "
            f"skip_count={self.skip_count}, paused={self._paused}, capturing={self.capturing}, "
            f"closed={self.closed})"
        )


def _run(callbacks: list[Callable[[], None]]) -> None:
    # Run them all, then let the first error reach the test, like feed() does.
    error: Exception | None = None
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            error = error or exc
    if error is not None:
        raise error
