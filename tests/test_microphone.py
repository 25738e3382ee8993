from __future__ import annotations

import asyncio
import base64
import itertools
import threading

from azure.ai.voicelive.models import ClientEvent

from voicelive_proactive.microphone import MAX_QUEUED_BLOCKS, MicrophoneUplink
from voicelive_proactive.testing import MemoryAudioIO


class Recorder:
    """A send() that records appends and can be held back, like a stalled socket."""

    def __init__(self, expect: int) -> None:
        self.sent: list[bytes] = []
        self.expect = expect
        self.all_sent = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, event: ClientEvent) -> None:
        await self.release.wait()
        self.sent.append(base64.b64decode(event["audio"]))
        if len(self.sent) >= self.expect:
            self.all_sent.set()


def frame(i: int) -> bytes:
    return i.to_bytes(2, "little") * 480  # 20 ms


async def test_frames_from_the_audio_thread_are_sent_in_order() -> None:
    frames = [frame(i) for i in range(50)]
    send, mem = Recorder(expect=len(frames)), MemoryAudioIO()
    uplink = MicrophoneUplink(send, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop())
    thread = threading.Thread(target=lambda: [mem.feed(f) for f in frames])
    thread.start()
    await asyncio.to_thread(thread.join)
    await asyncio.wait_for(send.all_sent.wait(), 5)
    assert send.sent == frames
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
    assert send.sent == [frame(i) for i in range(total - MAX_QUEUED_BLOCKS, total)]
    uplink.stop()


async def test_a_failing_send_ends_the_uplink_quietly() -> None:
    async def broken(event: ClientEvent) -> None:
        raise ConnectionError("gone")

    mem = MemoryAudioIO()
    uplink = MicrophoneUplink(broken, map(str, itertools.count()))
    uplink.start(mem, asyncio.get_running_loop())
    mem.feed(frame(1))
    await asyncio.sleep(0.01)
    task = uplink.stop()
    assert task is not None
    assert task.done()
    assert not task.cancelled()  # it ended by itself, without raising
    assert task.exception() is None
