"""The three ways an app greets first, and the stamp they all share.

* ``bare``: the loop users write by hand without the library (the seed's pattern): on the
  first ``session.updated``, ``conn.response.create(...)`` with a pre-generated assistant
  message; audio deltas go to the app's own queue.
* ``dropin``: the app keeps that loop and calls ``await proactive.handle(event)``.
* ``run``: ``await proactive.run()`` drives the loop.

All three end at ``response.done`` of the greeting. The client-side stamp, "received
``session.updated``", is taken in a wrapper around the aiohttp socket's ``receive()``, when
the frame comes out of the socket and before the SDK parses it, identically for the three.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    Modality,
    OutputAudioFormat,
    OutputTextContentPart,
    RequestSession,
    ResponseCreateParams,
    ServerEventType,
)
from azure.core.credentials import AzureKeyCredential

from voicelive_proactive import ProactiveSession
from voicelive_proactive.audio import NullAudioIO

VARIANTS = ("bare", "dropin", "run", "dropin_audio")
SESSION = RequestSession(
    modalities=[Modality.TEXT, Modality.AUDIO], output_audio_format=OutputAudioFormat.PCM16
)
_MARK = '"session.updated"'


@dataclass
class Stamp:
    """``ns``: when the first ``session.updated`` frame came out of the socket."""

    ns: int | None = None
    frame: str | None = None
    greeted: bool = False

    @property
    def session_id(self) -> str | None:
        if self.frame is None:
            return None
        sid: str | None = json.loads(self.frame).get("session", {}).get("id")
        return sid


def install_stamp(conn: VoiceLiveConnection) -> Stamp:
    """Wrap the connection's socket so the first ``session.updated`` is stamped on arrival."""
    ws: aiohttp.ClientWebSocketResponse = conn._connection
    receive = ws.receive
    stamp = Stamp()

    async def stamped_receive(*args: Any, **kwargs: Any) -> aiohttp.WSMessage:
        message = await receive(*args, **kwargs)
        if (
            stamp.ns is None
            and message.type is aiohttp.WSMsgType.TEXT
            and _MARK in message.data[:64]
        ):
            stamp.ns = time.monotonic_ns()
            stamp.frame = message.data
        return message

    ws.receive = stamped_receive  # type: ignore[method-assign]
    return stamp


_bare_ids = itertools.count(1)


def _greet_by_hand(conn: VoiceLiveConnection, greeting: str) -> Awaitable[None]:
    return conn.response.create(
        response=ResponseCreateParams(
            pre_generated_assistant_message=AssistantMessageItem(
                content=[OutputTextContentPart(text=greeting)]
            )
        ),
        event_id=f"bare_{next(_bare_ids)}",
    )


async def bare(conn: VoiceLiveConnection, greeting: str) -> bool:
    """The hand-written loop: greet on the first ``session.updated``, queue audio deltas."""
    greeted = False
    audio: deque[bytes] = deque()
    async for event in conn:
        if event.type == ServerEventType.SESSION_UPDATED and not greeted:
            greeted = True
            await _greet_by_hand(conn, greeting)
        elif event.type == ServerEventType.RESPONSE_AUDIO_DELTA:
            audio.append(event.delta)  # type: ignore[attr-defined]
        elif event.type == ServerEventType.RESPONSE_DONE:
            break
    return greeted


async def dropin(conn: VoiceLiveConnection, greeting: str) -> bool:
    """The same app loop, its own audio handling untouched, plus ``await proactive.handle()``.

    ``audio=None``: the library only greets; the app keeps its audio queue, as in ``bare``.
    """
    proactive = ProactiveSession(conn, greeting=greeting, audio=None)
    audio: deque[bytes] = deque()
    async for event in conn:
        await proactive.handle(event)
        if event.type == ServerEventType.RESPONSE_AUDIO_DELTA:
            audio.append(event.delta)  # type: ignore[attr-defined]
        elif event.type == ServerEventType.RESPONSE_DONE:
            break
    await proactive.aclose()
    return proactive.metrics.greeting_sent is not None


async def managed(conn: VoiceLiveConnection, greeting: str) -> bool:
    """``proactive.run()``; the app's audio handling moves into ``on_event``."""
    proactive = ProactiveSession(conn, greeting=greeting, audio=None)
    audio: deque[bytes] = deque()

    async def on_event(event: Any) -> None:
        if event.type == ServerEventType.RESPONSE_AUDIO_DELTA:
            audio.append(event.delta)
        elif event.type == ServerEventType.RESPONSE_DONE:
            await conn.close()

    await proactive.run(on_event=on_event)
    await proactive.aclose()
    return proactive.metrics.greeting_sent is not None


async def dropin_audio(conn: VoiceLiveConnection, greeting: str) -> bool:
    """Drop-in with the library owning audio (``NullAudioIO``): it queues the deltas and
    starts its microphone uplink task on ``session.updated``, work ``bare`` does not do."""
    proactive = ProactiveSession(conn, greeting=greeting, audio=NullAudioIO())
    async for event in conn:
        await proactive.handle(event)
        if event.type == ServerEventType.RESPONSE_DONE:
            break
    await proactive.aclose()
    return proactive.metrics.greeting_sent is not None


LOOPS: dict[str, Callable[[VoiceLiveConnection, str], Awaitable[bool]]] = {
    "bare": bare,
    "dropin": dropin,
    "run": managed,
    "dropin_audio": dropin_audio,
}


async def session(
    endpoint: str,
    api_key: str,
    variant: str,
    greeting: str,
    *,
    gate: asyncio.Semaphore | None = None,
    connected: Callable[[], None] | None = None,
    go: asyncio.Event | None = None,
) -> Stamp:
    """One session: connect, (wait for ``go``), ``session.update``, the variant's loop.

    ``gate`` limits how many handshakes run at once; ``connected`` is called once the
    socket is open.
    """
    manager = connect(
        endpoint=endpoint, credential=AzureKeyCredential(api_key), model="gpt-realtime"
    )
    if gate is not None:
        async with gate:
            conn = await manager.__aenter__()
    else:
        conn = await manager.__aenter__()
    try:
        stamp = install_stamp(conn)
        if connected is not None:
            connected()
        if go is not None:
            await go.wait()
        await conn.session.update(session=SESSION)
        stamp.greeted = await LOOPS[variant](conn, greeting)
    finally:
        await manager.__aexit__(None, None, None)
    return stamp


def emulator_counts(created: list[tuple[str, int]], opened: list[str]) -> dict[str, int]:
    """The emulator's own view: connections, and those with no or several greetings."""
    per: dict[str, int] = dict.fromkeys(opened, 0)
    for sid, _ in created:
        per[sid] = per.get(sid, 0) + 1
    return {
        "connections": len(per),
        "without_greeting": sum(1 for n in per.values() if n == 0),
        "greeted_twice_or_more": sum(1 for n in per.values() if n > 1),
    }


def latencies_us(
    stamps: list[tuple[str, Stamp]], created: list[tuple[str, int]]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Pair client and emulator stamps by session id.

    Returns the dispatch latencies in µs per variant and the correctness counts:
    ``sessions``, ``greeted_once``, ``missed`` (no ``response.create`` arrived), ``double``
    (more than one arrived) and ``unmatched`` (a client session that never saw
    ``session.updated``, e.g. it failed to connect).
    """
    arrivals: dict[str, list[int]] = {}
    for sid, ns in created:
        arrivals.setdefault(sid, []).append(ns)
    out: dict[str, list[float]] = {}
    counts = {"sessions": 0, "greeted_once": 0, "missed": 0, "double": 0, "unmatched": 0}
    for variant, stamp in stamps:
        counts["sessions"] += 1
        session_id = stamp.session_id
        if session_id is None or stamp.ns is None:
            counts["unmatched"] += 1
            continue
        got = arrivals.get(session_id, [])
        if not got:
            counts["missed"] += 1
            continue
        if len(got) > 1:
            counts["double"] += 1
            continue
        counts["greeted_once"] += 1
        out.setdefault(variant, []).append((got[0] - stamp.ns) / 1000)
    return out, counts
