"""Players, microphones and load for the benchmarks (none of it is library code).

* :class:`SamplePlayer`: the Azure Voice Live sample's ``AudioProcessor`` playback on
  sounddevice, as written (``fixed=False``: barge-in only raises a sequence threshold, so the
  rest of the packet being played keeps playing) or fixed (``fixed=True``: barge-in also drops
  that leftover). Its callback is instrumented (entry time, PortAudio's ``currentTime``,
  status flags).
* :class:`StampedPlayer`: wraps any player and stamps the first audio handed to it.
* :class:`PacedMicSource`: one thread delivering microphone frames to many sessions.
* :class:`DuplexAudio`: one ``AudioIO`` from a player and a capture source.
* :class:`GilHog`, :func:`busy_loop`: the load of the barge-in benchmark.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

FrameCallback = Callable[[bytes], None]


class SamplePlayer:
    """The sample's playback queue of sequence-numbered packets, on a sounddevice stream."""

    def __init__(self, *, block_ms: int = 50, fixed: bool = True, latency: Any = "low") -> None:
        import sounddevice as sd

        self.fixed = fixed
        self.block_ms = block_ms
        self.playback_queue: queue.Queue[tuple[int, bytes]] = queue.Queue()
        self.playback_base = 0
        self.next_seq_num = 0
        self._leftover = bytearray()
        self.callbacks: list[tuple[float, float, int]] = []  # (entry, currentTime, status)
        self._stream = sd.RawOutputStream(
            samplerate=24_000,
            channels=1,
            dtype="int16",
            blocksize=24 * block_ms,
            latency=latency,
            callback=self._callback,
        )
        self.latency = float(self._stream.latency)
        self._stream.start()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks.append((time.monotonic(), time_info.currentTime, 1 if status else 0))
        needed = frames * 2
        out = bytearray()
        if self._leftover:
            take = min(len(self._leftover), needed)
            out += self._leftover[:take]
            del self._leftover[:take]
        while len(out) < needed:
            try:
                seq, data = self.playback_queue.get_nowait()
            except queue.Empty:
                break
            if seq < self.playback_base:  # skipped by barge-in
                continue
            take = needed - len(out)
            out += data[:take]
            if len(data) > take:
                self._leftover = bytearray(data[take:])
        out += bytes(needed - len(out))
        outdata[:] = out

    # The AudioIO surface the loops use.
    def start_capture(self, on_frame: FrameCallback) -> None:
        return None

    def queue_audio(self, pcm: bytes, **_: Any) -> None:
        self.playback_queue.put((self.next_seq_num, pcm))
        self.next_seq_num += 1

    def skip_pending_audio(self) -> int:
        self.playback_base = self.next_seq_num
        if self.fixed:
            self._leftover = bytearray()  # the fix: drop the rest of the current packet too
        return 0

    def close(self) -> None:
        self._stream.close(ignore_errors=True)


class StampedPlayer:
    """Delegates to ``inner``; ``first_audio_ns`` is when the first audio was queued."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.first_audio_ns: int | None = None

    def queue_audio(self, pcm: bytes, **kwargs: Any) -> None:
        if self.first_audio_ns is None and pcm:
            self.first_audio_ns = time.monotonic_ns()
        self._inner.queue_audio(pcm, **kwargs)

    def start_capture(self, on_frame: FrameCallback) -> None:
        self._inner.start_capture(on_frame)

    def skip_pending_audio(self) -> int:
        dropped: int = self._inner.skip_pending_audio()
        return dropped

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:  # optional capabilities, properties
        return getattr(self._inner, name)


class DuplexAudio:
    """Playback through ``player``, capture from ``mic``."""

    def __init__(self, player: Any, mic: Any) -> None:
        self._player = player
        self._mic = mic

    def start_capture(self, on_frame: FrameCallback) -> None:
        self._mic.start_capture(on_frame)

    def queue_audio(self, pcm: bytes, **kwargs: Any) -> None:
        if self._player is not None:
            self._player.queue_audio(pcm, **kwargs)

    def skip_pending_audio(self) -> int:
        return int(self._player.skip_pending_audio()) if self._player is not None else 0

    def close(self) -> None:
        self._mic.close()
        if self._player is not None:
            self._player.close()


class PacedMicSource:
    """One thread that hands every subscribed session a microphone frame each ``frame_ms``.

    Like a sound card's capture thread, it calls each session's ``on_frame`` from a foreign
    thread; both variants subscribe the same way, so they carry the same load. The frame is
    quiet room noise (below any VAD threshold).
    """

    def __init__(self, frame_ms: int = 20) -> None:
        from benchmarks.alsa import _room_noise

        self.frame_ms = frame_ms
        self.frame = _room_noise(48 * frame_ms)
        self._subscribers: dict[int, FrameCallback] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.ticks = 0
        self.late_ticks = 0  # ticks that started more than one frame late
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="vp-mic-source")
        self._thread.start()

    def subscribe(self, on_frame: FrameCallback) -> int:
        with self._lock:
            key = self._next
            self._next += 1
            self._subscribers[key] = on_frame
        return key

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    def _run(self) -> None:
        period = self.frame_ms / 1000
        due = time.monotonic() + period
        while not self._stop.is_set():
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif -delay > period:
                self.late_ticks += 1
            with self._lock:
                callbacks = list(self._subscribers.values())
            frame = self.frame
            for on_frame in callbacks:
                on_frame(frame)
            self.ticks += 1
            due += period

    def audio_io(self) -> MicAudioIO:
        return MicAudioIO(self)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class MicAudioIO:
    """An ``AudioIO`` whose microphone is a :class:`PacedMicSource` and whose speaker
    discards (counting bytes), for sessions at scale."""

    def __init__(self, source: PacedMicSource) -> None:
        self._source = source
        self._key: int | None = None
        self.played = 0

    def start_capture(self, on_frame: FrameCallback) -> None:
        if self._key is None:
            self._key = self._source.subscribe(on_frame)

    def queue_audio(self, pcm: bytes, **_: Any) -> None:
        self.played += len(pcm)

    def skip_pending_audio(self) -> int:
        return 0

    def close(self) -> None:
        if self._key is not None:
            self._source.unsubscribe(self._key)
            self._key = None


class GilHog:
    """A thread running pure Python, so it holds the GIL except at forced switches."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="vp-gil-hog")

    def _run(self) -> None:
        x = 0
        while not self._stop.is_set():
            for _ in range(10_000):
                x += 1

    def __enter__(self) -> GilHog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def busy_loop(stop: asyncio.Event, busy_ms: float = 2.0) -> None:
    """Keep the event loop busy: ``busy_ms`` of Python work, yield, repeat."""
    while not stop.is_set():
        end = time.perf_counter() + busy_ms / 1000
        while time.perf_counter() < end:
            pass
        await asyncio.sleep(0)
