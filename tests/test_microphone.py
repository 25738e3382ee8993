from __future__ import annotations

import asyncio
import base64
import itertools
import threading

from azure.ai.voicelive.models import ClientEvent

from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat
from voicelive_proactive.microphone import (
    BATCH_S,
    HANGOVER_S,
    MAX_QUEUED_BLOCKS,
    MicrophoneUplink,
)
from voicelive_proactive.testing import MemoryAudioIO


class Recorder:
    """A send() that records appends and can be held back, like a stalled socket."""

    def __init__(self, expect: int) -> None:
        self.sent: list[bytes] = []
        self.expect = expect  # frames (of FRAME bytes)
        self.all_sent = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, event: ClientEvent) -> None:
        await self.release.wait()
        self.sent.append(base64.b64decode(event["audio"]))
        if sum(map(len, self.sent)) >= self.expect * FRAME:
            self.all_sent.set()

    @property
    def stream(self) -> bytes:
        return b"".join(self.sent)


FRAME = 960  # 20 ms of PCM16 at 24 kHz


def frame(i: int) -> bytes:
    return i.to_bytes(2, "little") * 480  # 20 ms of near-silence (every sample is i)


def loud(i: int) -> bytes:
    return (1000 + i).to_bytes(2, "little") * 480  # 20 ms of a voice's level (-30 dBFS)


async def test_frames_from_the_audio_thread_are_sent_in_order() -> None:
    frames = [frame(i) for i in range(50)]
    send, mem = Recorder(expect=len(frames)), MemoryAudioIO()
    uplink = MicrophoneUplink(send, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop())
    thread = threading.Thread(target=lambda: [mem.feed(f) for f in frames])
    thread.start()
    await asyncio.to_thread(thread.join)
    await asyncio.wait_for(send.all_sent.wait(), 5)
    assert send.stream == b"".join(frames)  # in order, in messages of at most 100 ms
    assert max(map(len, send.sent)) <= 5 * FRAME
    task = uplink.stop()
    assert task is not None
    await asyncio.gather(task, return_exceptions=True)


async def test_a_stalled_connection_drops_the_oldest_frames_not_memory() -> None:
    total = MAX_QUEUED_BLOCKS + 100
    send, mem = Recorder(expect=MAX_QUEUED_BLOCKS), MemoryAudioIO()
    send.release.clear()
    uplink = MicrophoneUplink(send, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop())
    for i in range(total):
        mem.feed(frame(i))
    await asyncio.sleep(0.05)  # every frame has been handed over by now
    assert uplink.frames_dropped == total - MAX_QUEUED_BLOCKS
    send.release.set()
    await asyncio.wait_for(send.all_sent.wait(), 5)
    assert send.stream == b"".join(frame(i) for i in range(total - MAX_QUEUED_BLOCKS, total))
    uplink.stop()


async def test_a_failing_send_ends_the_uplink_quietly() -> None:
    async def broken(event: ClientEvent) -> None:
        raise ConnectionError("gone")

    mem = MemoryAudioIO()
    uplink = MicrophoneUplink(broken, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop())
    mem.feed(frame(1))
    await asyncio.sleep(BATCH_S + 0.1)
    task = uplink.stop()
    assert task is not None
    assert task.done()
    assert not task.cancelled()  # it ended by itself, without raising
    assert task.exception() is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def feed_paced(mem: MemoryAudioIO, frames: list[bytes]) -> None:
    for f in frames:
        mem.feed(f)
        await asyncio.sleep(0.02)


async def test_while_the_agent_is_silent_blocks_are_gathered_up_to_100_ms() -> None:
    frames = [frame(i) for i in range(20)]  # 400 ms
    send, mem = Recorder(expect=len(frames)), MemoryAudioIO()
    uplink = MicrophoneUplink(send, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop(), PCM16_24K)
    await feed_paced(mem, frames)
    await asyncio.wait_for(send.all_sent.wait(), 5)
    assert send.stream == b"".join(frames)
    assert len(send.sent) < len(frames) / 2  # about 4, never one message per block
    assert all(len(block) <= 5 * FRAME for block in send.sent)
    assert uplink.messages_sent == len(send.sent)
    uplink.stop()


async def test_while_the_agent_is_audible_a_voice_goes_out_at_once() -> None:
    clock = Clock()
    send, mem = Recorder(expect=12), MemoryAudioIO()
    uplink = MicrophoneUplink(send, map(str, itertools.count()), clock=clock)
    uplink.start(mem, asyncio.get_running_loop(), PCM16_24K)
    mem.feed(loud(0))
    mem.feed(loud(1))
    await asyncio.sleep(0.01)
    assert send.sent == []  # gathered
    uplink.agent_audio(1.0)  # the agent speaks: what was gathered goes at once
    await asyncio.sleep(0.01)
    assert send.stream == loud(0) + loud(1)
    for i in range(2, 5):
        mem.feed(loud(i))
        await asyncio.sleep(0.005)
        assert send.sent[-1] == loud(i)  # no waiting for a batch: barge-in latency
    # Near-silence waits (it carries no barge-in); the next voiced block takes it along.
    mem.feed(frame(5))
    mem.feed(frame(6))
    await asyncio.sleep(0.01)
    assert send.sent[-1] == loud(4)
    mem.feed(loud(7))
    await asyncio.sleep(0.01)
    assert send.sent[-1] == frame(5) + frame(6) + loud(7)
    # Once the agent's audio has played (and the hangover passed), voices are gathered too.
    clock.now += 1.0 + HANGOVER_S + 0.01
    mem.feed(loud(8))  # the block that notices
    await asyncio.sleep(0.01)
    sent = len(send.sent)
    for i in range(9, 12):
        mem.feed(loud(i))
    await asyncio.sleep(0.01)
    assert len(send.sent) == sent
    await asyncio.wait_for(send.all_sent.wait(), 5)
    expected = [loud(i) for i in range(5)] + [frame(5), frame(6)]
    assert send.stream == b"".join(expected + [loud(i) for i in range(7, 12)])
    uplink.stop()


async def test_without_pcm16_every_block_goes_out_at_once_while_the_agent_speaks() -> None:
    ulaw = AudioFormat("g711_ulaw", 8000)
    send, mem = Recorder(expect=3), MemoryAudioIO()
    uplink = MicrophoneUplink(send, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop(), ulaw)
    uplink.agent_audio(1.0)
    for i in range(3):
        block = bytes([0xFF]) * 160  # ulaw silence, which the PCM16 test cannot read
        mem.feed(block)
        await asyncio.sleep(0.005)
        assert len(send.sent) == i + 1
    uplink.stop()


async def test_sessions_on_one_loop_share_the_audio_threads_wakeups() -> None:
    loop = asyncio.get_running_loop()
    wakeups = 0
    original = loop.call_soon_threadsafe

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal wakeups
        wakeups += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        sessions = 10
        sends = [Recorder(expect=1) for _ in range(sessions)]
        mems = [MemoryAudioIO() for _ in range(sessions)]
        uplinks = [MicrophoneUplink(s, map(str, itertools.count())) for s in sends]
        for uplink, mem in zip(uplinks, mems, strict=True):
            uplink.start(mem, loop, PCM16_24K)
            uplink.agent_audio(5.0)  # every block is due at once
        barrier = threading.Event()

        def capture() -> None:  # one capture thread serving every session, as a gateway's
            for mem in mems:
                mem.feed(loud(1))
            barrier.set()

        threading.Thread(target=capture).start()
        await asyncio.to_thread(barrier.wait)
        for send in sends:
            await asyncio.wait_for(send.all_sent.wait(), 5)
        assert wakeups < sessions  # usually 1
    finally:
        del loop.call_soon_threadsafe
        for uplink in uplinks:
            uplink.stop()
