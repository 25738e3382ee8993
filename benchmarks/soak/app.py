"""The app under chaos: one conversation, over as many connections as the drops make it take.

It is written the way ``docs/how-to/redis.md`` says: each connection of the call gets a new
``RedisOnceGuard`` on the conversation's key and a new ``ProactiveSession`` with a
``resume_greeting``, run by ``proactive.run()``. The app says its lines (some before the
greeting is over), answers the model's tool calls itself, hangs up when everything was said,
and when the connection drops it reconnects and says again what was not delivered.

What each connection leaves behind (:class:`ConnectionRecord`) is raw: the emulator's record
of what it sent, what reached the caller's :class:`~benchmarks.soak.ear.Ear`, and each
speech's outcome. :mod:`benchmarks.soak.count` judges it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

from .ear import Ear
from .plan import (
    MAX_CONNECTIONS,
    RENDER_TIMEOUT,
    RESUME,
    TOOL,
    TOOL_OUTPUT,
    ConversationPlan,
    SpeechPlan,
)

EAR_SPEED = 25.0  # the caller hears 25 s of audio per second: a soak, not a phone call
STEP_TIMEOUT = 20.0  # any single wait longer than this is a hang, reported as such
POLL_S = 0.005
TOOL_METADATA = {"soak": "tool"}
SESSION: dict[str, Any] = {
    "modalities": ["text", "audio"],
    "tools": [
        {
            "type": "function",
            "name": TOOL,
            "description": "Look up the status of the caller's order.",
            "parameters": {"type": "object", "properties": {}},
        }
    ],
    "tool_choice": "auto",
}


class SlowRender(vp.GreetingStrategy):
    """A strategy that takes ``delay`` seconds to render (a slow CRM lookup, say)."""

    def __init__(self, text: str, delay: float) -> None:
        self.text, self.delay = text, delay

    async def render(self, context: vp.GreetingContext) -> vp.Greeting:
        await asyncio.sleep(self.delay)
        return vp.Greeting.spoken(self.text)

    def __repr__(self) -> str:
        return f"SlowRender({self.text!r}, delay={self.delay})"


def strategy(plan: SpeechPlan) -> vp.GreetingStrategy:
    """What the app hands the library for one planned speech."""
    if plan.kind == "tool":
        return vp.LLMGreeting(plan.text)
    primary: vp.GreetingStrategy = (
        vp.StaticGreeting(plan.text) if plan.kind == "static" else SlowRender(plan.text, plan.delay)
    )
    return primary | vp.StaticGreeting(plan.fallback) if plan.fallback else primary


@dataclass
class SpeechRecord:
    """One ``Speech`` (the greeting or one ``say()``) on one connection, as it ended."""

    label: str
    kind: str
    texts: tuple[str, ...]  # what it may be heard as (primary, fallback); () for a tool say
    status: str = "pending"
    reason: str | None = None
    interrupted: bool = False
    played_ms: int | None = None
    resumed: bool = False
    settled: bool = False
    done_when_connection_ended: bool = False  # done (not pending) once run() had returned
    asked_as_it_ended: bool = False  # say() raced the drop: run() ended during the call
    error: str | None = None


@dataclass
class ConnectionRecord:
    """One connection of a conversation: what the emulator sent, heard, and said."""

    index: int
    faults: dict[str, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)  # the emulator's record
    received: list[dict[str, Any]] = field(default_factory=list)  # (both, of this connection)
    segments: list[tuple[bytes, int]] = field(default_factory=list)  # (pcm, bytes played)
    speeches: list[SpeechRecord] = field(default_factory=list)
    dropped: bool = False  # it ended without the app hanging up
    hang: str | None = None  # a wait that never ended, and where
    audio_closed: bool = False  # the library closed its AudioIO
    health: dict[str, int] = field(default_factory=dict)
    app_error: str | None = None


def _outcome_into(record: SpeechRecord, speech: vp.Speech) -> None:
    outcome = speech.outcome
    record.status = outcome.status.value
    record.reason = outcome.reason
    record.interrupted = outcome.interrupted
    record.played_ms = outcome.played_ms
    record.resumed = outcome.resumed
    record.settled = outcome.settled
    if outcome.error is not None:
        record.error = f"{type(outcome.error).__name__}: {outcome.error}"


async def _until(condition: Callable[[], bool], runner: asyncio.Task[Any], what: str) -> bool:
    """Wait for ``condition``; False if the connection ended first. A hang raises."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while not condition():
        if runner.done():
            return condition()
        if time.monotonic() > deadline:
            raise _Hang(what)
        await asyncio.sleep(POLL_S)
    return True


class _Hang(Exception):
    pass


async def _answer_tool(conn: Any, call_id: str, delay: float) -> None:
    """The app's own tool: look the order up, then ask for the spoken answer."""
    await asyncio.sleep(delay)
    output = {"type": "function_call_output", "call_id": call_id, "output": TOOL_OUTPUT}
    try:
        await conn.send({"type": "conversation.item.create", "item": output})
        await conn.send({"type": "response.create", "response": {"metadata": TOOL_METADATA}})
    except Exception:  # the connection dropped while the tool ran: the reconnection retries
        return


async def _say(proactive: vp.ProactiveSession, plan: SpeechPlan) -> vp.Speech:
    result: Any = proactive.say(strategy(plan))
    # say() is becoming a plain method returning the Speech; until then it is a coroutine.
    speech: vp.Speech = await result if inspect.iscoroutine(result) else result
    return speech


async def one_connection(
    emu: Emulator,
    plan: ConversationPlan,
    number: int,
    to_say: list[SpeechPlan],
    guard_client: Any,
) -> ConnectionRecord:
    """Connect, greet (or resume), say ``to_say``, hang up; or be dropped trying."""
    faults = plan.faults_for(number)
    emu.faults = faults
    record = ConnectionRecord(number, {k: v for k, v in vars(faults).items() if v})
    ear = Ear(speed=EAR_SPEED)
    tools: set[asyncio.Task[None]] = set()
    tracked: list[tuple[SpeechRecord, vp.Speech]] = []
    credential = AzureKeyCredential(emu.api_key)
    async with connect(endpoint=emu.endpoint, credential=credential, model="gpt-realtime") as conn:
        await conn.session.update(session=SESSION)
        guard = vp.RedisOnceGuard(guard_client, key=plan.key, ttl=3600)
        proactive = vp.ProactiveSession(
            conn,
            greeting=strategy(plan.greeting),
            resume_greeting=vp.StaticGreeting(RESUME),
            guard=guard,
            audio=ear,
            render_timeout=RENDER_TIMEOUT,
        )
        greeting = SpeechRecord("greeting", plan.greeting.kind, (*_texts(plan.greeting), RESUME))
        tracked.append((greeting, proactive.greeting))

        def on_event(event: Any) -> None:
            if event["type"] == "response.function_call_arguments.done":
                task = asyncio.ensure_future(_answer_tool(conn, event["call_id"], plan.tool_delay))
                tools.add(task)
                task.add_done_callback(tools.discard)

        async with proactive:
            runner = asyncio.ensure_future(proactive.run(on_event=on_event))
            try:
                await _script(proactive, runner, to_say, tracked)
                record.dropped = runner.done()
                if not record.dropped:
                    await conn.close()  # the app hangs up: everything was said
                await asyncio.wait_for(asyncio.shield(runner), STEP_TIMEOUT)
            except (_Hang, asyncio.TimeoutError) as exc:
                record.hang = str(exc) or "the run did not end after the app hung up"
                record.dropped = runner.done()
                runner.cancel()
            except Exception as exc:  # the harness's own bug: keep going, but say so
                record.app_error = f"{type(exc).__name__}: {exc}"
                runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            for speech_record, speech in tracked:
                speech_record.done_when_connection_ended = speech.done
            for task in list(tools):
                task.cancel()
            await asyncio.gather(*tools, return_exceptions=True)
            record.health = _health(proactive)
        # After aclose(): nothing may still be pending.
        for speech_record, speech in tracked:
            _outcome_into(speech_record, speech)
    record.speeches = [speech_record for speech_record, _ in tracked]
    record.audio_closed = ear.closed
    ear.close()
    record.segments = [(segment.pcm, segment.played) for segment in ear.segments]
    return record


async def _script(
    proactive: vp.ProactiveSession,
    runner: asyncio.Task[Any],
    to_say: list[SpeechPlan],
    tracked: list[tuple[SpeechRecord, vp.Speech]],
) -> None:
    async def say(plan: SpeechPlan) -> None:
        record = SpeechRecord(plan.label, plan.kind, _texts(plan))
        if runner.done():
            return  # the app knows the call dropped: it says it on the next connection
        speech = await _say(proactive, plan)
        record.asked_as_it_ended = runner.done()
        tracked.append((record, speech))

    for plan in to_say:
        if plan.when == "early":
            await say(plan)
    if not await _until(lambda: proactive.finished, runner, "the greeting never finished"):
        return
    for plan in to_say:
        if plan.when != "early":
            await say(plan)
    for record, speech in tracked:
        done = functools.partial(getattr, speech, "done")
        if not await _until(done, runner, f"{record.label} never finished"):
            return
    for record, speech in tracked:
        settled = functools.partial(_settled, speech)
        what = f"{record.label} never settled (its audio never finished playing)"
        if not await _until(settled, runner, what):
            return


def _settled(speech: vp.Speech) -> bool:
    return speech.outcome.settled


def _texts(plan: SpeechPlan) -> tuple[str, ...]:
    if plan.kind == "tool":
        return ()
    return (plan.text,) + ((plan.fallback,) if plan.fallback else ())


def _health(proactive: vp.ProactiveSession) -> dict[str, int]:
    """The faults the session absorbed, by concern (only those it saw)."""
    health = vars(proactive.health)
    return {k: v for k, v in health.items() if isinstance(v, int) and not isinstance(v, bool) and v}


async def conversation(plan: ConversationPlan, guard_client: Any) -> list[ConnectionRecord]:
    """Every connection of one conversation, each with the emulator's record of it."""
    records: list[ConnectionRecord] = []
    to_say = list(plan.says)
    async with Emulator(pace=plan.pace, voice="synthetic") as emu:
        for number in range(MAX_CONNECTIONS):
            record = await one_connection(emu, plan, number, to_say, guard_client)
            record.sent = list(emu.connections[number].sent)
            record.received = list(emu.connections[number].received)
            records.append(record)
            if not record.dropped or record.hang:
                break
            delivered = {s.label for s in record.speeches if s.status == "sent"}
            to_say = [s for s in to_say if s.label not in delivered]
    return records
