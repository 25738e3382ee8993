"""MemoryAudioIO: the public test double's playback model and microphone."""

from __future__ import annotations

import threading

import pytest

from voicelive_proactive.audio import PCM16_24K, AudioFormat, AudioIO, FormatAware, PlayoutAware
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError
from voicelive_proactive.testing import MemoryAudioIO

A, B, C = b"\x01\x00" * 1200, b"\x02\x00" * 1200, b"\x03\x00" * 1200  # 50 ms each


def test_it_is_an_audio_io() -> None:
    assert isinstance(MemoryAudioIO(), AudioIO)


def test_queued_audio_stays_pending_until_played() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    mem.queue_audio(B)
    assert mem.queued == A + B and mem.pending == A + B and mem.played == b""
    assert mem.play(1000) == A[:1000]
    assert mem.play_ms(10) == A[1000:1480]
    assert mem.play_all() == A[1480:] + B
    assert mem.played == A + B and mem.pending == b"" and mem.queued == A + B
    assert mem.play(10) == b"", "nothing left to play"
    assert (mem.played_bytes, mem.pending_bytes) == (4800, 0)


def test_skip_drops_exactly_the_pending_audio() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    mem.queue_audio(B)
    mem.play(len(A))  # the user has heard A
    assert mem.skip_pending_audio() == len(B)
    assert mem.skip_pending_audio() == 0
    assert mem.skip_count == 2 and mem.skipped_bytes == len(B)
    mem.queue_audio(C)
    assert mem.queued == A + C, "queued excludes what was skipped"
    assert mem.played == A and mem.pending == C


def test_chunks_of_a_stale_generation_are_dropped() -> None:
    mem = MemoryAudioIO()
    old = mem.generation
    mem.queue_audio(A, generation=old)
    mem.skip_pending_audio()
    mem.queue_audio(B, generation=old)  # a late chunk of the cancelled response
    mem.queue_audio(C, generation=mem.generation)
    assert mem.queued == C and mem.stale_bytes == len(B)


def test_feed_delivers_20ms_blocks_to_on_frame() -> None:
    mem = MemoryAudioIO()
    frames: list[bytes] = []
    mem.start_capture(frames.append)
    assert mem.capturing
    assert mem.feed(A) == 3  # 50 ms: 20 + 20 + 10
    assert [len(f) for f in frames] == [960, 960, 480]
    assert b"".join(frames) == A
    assert mem.feed_silence(40) == 2 and frames[-1] == bytes(960)


def test_audio_fed_before_capture_starts_is_delivered_when_it_starts() -> None:
    mem = MemoryAudioIO()
    assert mem.feed(B) == 0 and not mem.capturing
    frames: list[bytes] = []
    mem.start_capture(frames.append)
    mem.start_capture(lambda frame: pytest.fail("the second start_capture is a no-op"))
    mem.feed(C)
    assert b"".join(frames) == B + C


def test_feed_rejects_half_samples_and_on_frame_errors_reach_the_test() -> None:
    mem = MemoryAudioIO()
    with pytest.raises(ValueError, match="even"):
        mem.feed(b"\x00\x01\x02")

    def broken(frame: bytes) -> None:
        raise RuntimeError("consumer bug")

    mem.start_capture(broken)
    with pytest.raises(RuntimeError, match="consumer bug"):
        mem.feed(A)


def test_close_stops_everything() -> None:
    with MemoryAudioIO(block_ms=10) as mem:
        mem.start_capture(lambda frame: pytest.fail("closed"))
        mem.queue_audio(A)
    assert mem.closed and not mem.capturing
    mem.close()
    mem.queue_audio(B)
    assert mem.feed(C) == 0
    assert mem.queued == A, "audio queued after close is ignored"
    with pytest.raises(AudioUnavailableError, match="closed"):
        mem.start_capture(lambda frame: None)


def test_block_size_is_configurable_and_checked() -> None:
    mem = MemoryAudioIO(block_ms=10)
    frames: list[bytes] = []
    mem.start_capture(frames.append)
    mem.feed(A)
    assert [len(f) for f in frames] == [480] * 5
    with pytest.raises(ValueError, match="block_ms"):
        MemoryAudioIO(block_ms=0)


def test_concurrent_queue_play_and_skip_keep_the_books_balanced() -> None:
    mem = MemoryAudioIO()
    chunk = b"\x07\x00" * 480
    stop = threading.Event()

    def player() -> None:
        while not stop.is_set():
            mem.play(700)
            mem.skip_pending_audio()

    thread = threading.Thread(target=player)
    thread.start()
    for _ in range(2000):
        mem.queue_audio(chunk)
    stop.set()
    thread.join()
    assert mem.played_bytes + mem.pending_bytes + mem.skipped_bytes == 2000 * len(chunk)


# -- formats and playout -------------------------------------------------------------------

ULAW = AudioFormat.from_output("g711_ulaw")


def test_it_has_both_capabilities() -> None:
    mem = MemoryAudioIO()
    assert isinstance(mem, FormatAware) and isinstance(mem, PlayoutAware)


def test_formats_keep_bytes_as_queued_and_time_follows_the_format() -> None:
    mem = MemoryAudioIO()
    mem.configure_formats(output=ULAW, input=ULAW)
    assert mem.formats_configured == [(ULAW, ULAW)]
    mem.queue_audio(b"\x11" * 800)  # 100 ms of µ-law
    assert mem.play_ms(10) == b"\x11" * 80
    assert mem.pending_bytes == 720 and mem.queued == b"\x11" * 800

    frames: list[bytes] = []
    mem.start_capture(frames.append)
    assert mem.block_bytes == 160
    assert mem.feed_silence(40) == 2 and frames == [b"\xff" * 160] * 2, "µ-law silence"
    assert mem.feed(b"\x01" * 161) == 2, "one byte a sample: odd lengths are fine"
    with pytest.raises(ConfigurationError):
        mem.configure_formats(output=ULAW, input="pcm16")  # type: ignore[arg-type]


def test_pcm16_input_at_16khz_still_needs_whole_samples() -> None:
    mem = MemoryAudioIO()
    mem.configure_formats(output=PCM16_24K, input=AudioFormat.from_input("pcm16", 16_000))
    assert mem.block_bytes == 640
    with pytest.raises(ValueError, match="even"):
        mem.feed(b"\x00\x01\x02")


def test_playout_is_reported_as_the_test_plays_the_audio() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    played: list[str] = []
    mem.notify_when_played(lambda: played.append("A"))
    mem.queue_audio(B)  # queued after the request: not waited for
    mem.notify_when_played(lambda: played.append("A+B"))
    assert mem.notifications_pending == 2
    mem.play(len(A) - 2)
    assert played == [], "the agent is still being heard"
    mem.play_ms(1)
    assert played == ["A"]
    mem.play_all()
    assert played == ["A", "A+B"] and mem.notifications_pending == 0


def test_playout_is_reported_on_skip_on_close_and_at_once_when_idle() -> None:
    mem = MemoryAudioIO()
    played: list[str] = []
    mem.notify_when_played(lambda: played.append("idle"))
    assert played == ["idle"]
    mem.queue_audio(A)
    mem.notify_when_played(lambda: played.append("skipped"))
    mem.skip_pending_audio()
    assert played == ["idle", "skipped"]
    mem.queue_audio(B)
    mem.notify_when_played(lambda: played.append("closed"))
    mem.close()
    assert played == ["idle", "skipped", "closed"]


def test_a_failing_playout_callback_reaches_the_test_after_the_others_ran() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("callback bug")

    mem.notify_when_played(broken)
    mem.notify_when_played(lambda: ran.append("second"))
    with pytest.raises(RuntimeError, match="callback bug"):
        mem.play_all()
    assert ran == ["second"]
