"""A Hypothesis state machine: the service does everything it legally may, in any order.

The model is a faithful Voice Live: it processes the client's events in order but whenever
it likes (so any answer can be late), runs one response at a time, starts its own replies
(server VAD) whenever none is active, cancels the active response when the user speaks (unless
told ``interrupt_response: false``), rejects what it likes, and may or may not echo
``response.metadata``. The session under test is driven only through its public API.

After every step, the rules of behaviour must hold:

* at most one greeting response ever reaches the user;
* no ``response.create`` is sent while a response the session knows of is active;
* nothing is cancelled or truncated that is not a response of the session's own;
* a settled outcome never changes, and a status that left ``pending`` never changes;
* ``handle()`` returns without awaiting user code (strategies here block until released).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

import voicelive_proactive as vp
from voicelive_proactive.testing import FakeConnection, ManualClock, MemoryAudioIO

BUSY = "conversation_already_has_active_response"


@dataclass
class Response:
    id: str
    owner: str  # "vad", or the event_id of the response.create that made it
    item_id: str
    text: str | None = None
    chunks: int = 0
    started: bool = False


@dataclass
class Truth:
    """What really happened, which the session can only infer."""

    echo: bool
    interrupt_response: bool = True
    inbox: deque[dict[str, Any]] = field(default_factory=deque)
    active: Response | None = None
    responses: dict[str, Response] = field(default_factory=dict)
    greeting_creates: set[str] = field(default_factory=set)
    our_creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunk_owner: dict[bytes, str] = field(default_factory=dict)  # audio bytes -> response id
    known_active: set[str] = field(default_factory=set)  # created delivered, done not yet
    seen_sent: int = 0


class Recorder(MemoryAudioIO):
    """A speaker that remembers every chunk it was ever given."""

    def __init__(self) -> None:
        super().__init__()
        self.every: list[bytes] = []

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        self.every.append(bytes(pcm))
        super().queue_audio(pcm, generation=generation)


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.ids = itertools.count(1)
        self.truth: Truth | None = None
        self.closed = False
        self.release = asyncio.Event()
        self.speeches: list[vp.Speech] = []
        self.snapshots: dict[int, vp.GreetingOutcome] = {}
        self.statuses: dict[int, vp.GreetingStatus] = {}
        self.exhausted = 0
        self.nudges_in_a_row = 0

    def teardown(self) -> None:
        if self.truth is not None and not self.closed:
            self.run(self.proactive.aclose())
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    # -- plumbing ---------------------------------------------------------------------------

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def settle_tasks(self) -> None:
        for _ in range(5):
            self.run(asyncio.sleep(0))
        self.collect_sent()

    def deliver(self, event: dict[str, Any]) -> None:
        truth = self.truth
        assert truth is not None
        kind = event["type"]
        if kind == "response.created":
            truth.known_active.add(event["response"]["id"])
        elif kind == "response.done":
            truth.known_active.discard(event["response"]["id"])

        async def go() -> None:
            self.fake.push(event)
            # handle() never awaits user code: it returns even though the strategies block.
            await asyncio.wait_for(self.proactive.handle(await self.fake.recv()), timeout=5)

        self.run(go())
        self.settle_tasks()

    def collect_sent(self) -> None:
        """Move what the session sent into the service's inbox, checking the send rules."""
        truth = self.truth
        assert truth is not None
        sent = self.fake.sent
        for event in sent[truth.seen_sent :]:
            kind = event["type"]
            if kind == "response.create":
                assert not truth.known_active, (
                    f"response.create sent while {truth.known_active} was known to be active"
                )
                truth.our_creates[event["event_id"]] = event
                if self.greeting_text(event) is not None or self.is_greeting_instructed(event):
                    truth.greeting_creates.add(event["event_id"])
            elif kind == "response.cancel":
                target = truth.responses.get(event.get("response_id", ""))
                assert target is not None and target.owner != "vad", (
                    f"cancelled {event.get('response_id')!r}, which is not ours"
                )
            elif kind == "conversation.item.truncate":
                owners = {
                    r.owner for r in truth.responses.values() if r.item_id == event["item_id"]
                }
                assert owners and "vad" not in owners, f"truncated {event['item_id']}: not ours"
            if kind != "input_audio_buffer.append":
                truth.inbox.append(event)
        truth.seen_sent = len(sent)

    def greeting_text(self, create: dict[str, Any]) -> str | None:
        message = (create.get("response") or {}).get("pre_generated_assistant_message")
        if message is None:
            return None
        text: str = message["content"][0]["text"]
        return text if text.startswith("Hello") else None

    def is_greeting_instructed(self, create: dict[str, Any]) -> bool:
        # The instructed greeting is the only strategy here that sends a system item first.
        sent = self.fake.sent
        index = next(i for i, e in enumerate(sent) if e is create or e == create)
        return index > 0 and sent[index - 1]["type"] == "conversation.item.create"

    def new_response(self, owner: str, metadata: Any, text: str | None) -> None:
        truth = self.truth
        assert truth is not None
        n = next(self.ids)
        response = Response(f"r{n}", owner, f"i{n}", text)
        truth.responses[response.id] = response
        truth.active = response
        self.deliver(
            {"type": "response.created", "response": {"id": response.id, "metadata": metadata}}
        )

    def end_active(self, status: str, reason: str | None = None) -> None:
        truth = self.truth
        assert truth is not None and truth.active is not None
        response, truth.active = truth.active, None
        details = {"type": "cancelled", "reason": reason} if reason else None
        self.deliver(
            {
                "type": "response.done",
                "response": {"id": response.id, "status": status, "status_details": details},
            }
        )

    # -- setup ------------------------------------------------------------------------------

    @precondition(lambda self: self.truth is None)
    @rule(
        echo=st.booleans(),
        instructed=st.booleans(),
        interruptible=st.booleans(),
        skip=st.booleans(),
    )
    def start(self, echo: bool, instructed: bool, interruptible: bool, skip: bool) -> None:
        self.truth = Truth(echo=echo)
        release = self.release

        async def slow(context: vp.GreetingContext) -> vp.Greeting:
            await release.wait()
            return vp.Greeting.spoken("Hello, slowly!")

        first: vp.GreetingStrategy = (
            vp.LLMGreeting("Greet the user.") if instructed else vp.StaticGreeting("Hello!")
        )
        self.clock = ManualClock()
        self.audio = Recorder()

        async def build() -> None:
            self.fake = FakeConnection()
            self.proactive = vp.ProactiveSession(
                self.fake,
                greeting=vp.CallableGreeting(slow) | first | vp.StaticGreeting("Hello there!"),
                audio=self.audio,
                clock=self.clock,
                render_timeout=30.0,
                interruptible=interruptible,
                skip_if_user_spoke=skip,
                nudge=vp.IdleNudge(
                    after=5.0, max_nudges=2, strategy="Still there?", on_exhausted=self.on_done
                ),
            )

        self.run(build())
        self.speeches.append(self.proactive.greeting)

    def on_done(self) -> None:
        self.exhausted += 1

    # -- the service ------------------------------------------------------------------------

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule(turn_detection=st.booleans())
    def session_updated(self, turn_detection: bool) -> None:
        session: dict[str, Any] = {"id": "s"}
        if turn_detection:
            session["turn_detection"] = {"type": "server_vad", "interrupt_response": True}
        self.deliver({"type": "session.updated", "session": session})

    @precondition(lambda self: self.truth is not None and not self.closed and self.truth.inbox)
    @rule(reject=st.sampled_from(["no", "no", "no", "bad", "busy"]))
    def service_processes_the_next_client_event(self, reject: str) -> None:
        truth = self.truth
        assert truth is not None
        event = truth.inbox.popleft()
        kind, event_id = event["type"], event.get("event_id")

        def error(code: str) -> None:
            body = {"code": code, "message": code, "event_id": event_id}
            self.deliver({"type": "error", "error": body})

        if kind == "session.update":
            detection = event["session"].get("turn_detection") or {}
            truth.interrupt_response = detection.get("interrupt_response", True) is not False
            self.deliver({"type": "session.updated", "session": {"id": "s", **event["session"]}})
        elif kind == "conversation.item.create":
            if reject == "bad":
                error("invalid_value")
            else:
                self.deliver({"type": "conversation.item.created", "item": event["item"]})
        elif kind == "response.create":
            if truth.active is not None or reject == "busy":
                if truth.active is not None:
                    error(BUSY)
                else:
                    error("server_error")
                return
            if reject == "bad":
                error("unknown_parameter")
                return
            params = event.get("response") or {}
            metadata = params.get("metadata") if truth.echo else None
            message = params.get("pre_generated_assistant_message")
            text = message["content"][0]["text"] if message else None
            self.new_response(event_id or "", metadata, text)
        elif kind == "response.cancel":
            active = truth.active
            if active is not None and event.get("response_id") in (None, active.id):
                self.end_active("cancelled", "client_cancelled")
            else:
                error("response_cancel_not_active")
        elif kind == "conversation.item.truncate":
            self.deliver(
                {
                    "type": "conversation.item.truncated",
                    "item_id": event["item_id"],
                    "audio_end_ms": event["audio_end_ms"],
                }
            )

    @precondition(lambda self: self.truth is not None and not self.closed and not self.truth.active)
    @rule()
    def server_vad_replies(self) -> None:
        self.new_response("vad", None, None)

    @precondition(lambda self: self.truth is not None and not self.closed and self.truth.active)
    @rule(transcript=st.booleans())
    def audio_chunk(self, transcript: bool) -> None:
        truth = self.truth
        assert truth is not None and truth.active is not None
        response = truth.active
        where = {"response_id": response.id, "item_id": response.item_id, "output_index": 0}
        if not response.started:
            response.started = True
            item = {"id": response.item_id, "type": "message", "role": "assistant"}
            self.deliver({"type": "response.output_item.added", **where, "item": item})
            if transcript and response.text is not None:
                delta = {**where, "content_index": 0, "delta": response.text}
                self.deliver({"type": "response.audio_transcript.delta", **delta})
        response.chunks += 1
        pcm = f"{response.id}:{response.chunks};".encode().ljust(48, b"\x00")
        truth.chunk_owner[pcm] = response.id
        delta = base64.b64encode(pcm).decode()
        self.deliver({"type": "response.audio.delta", **where, "content_index": 0, "delta": delta})

    @precondition(lambda self: self.truth is not None and not self.closed and self.truth.active)
    @rule()
    def response_completes(self) -> None:
        self.end_active("completed")

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule()
    def user_starts_speaking(self) -> None:
        truth = self.truth
        assert truth is not None
        self.deliver({"type": "input_audio_buffer.speech_started", "item_id": "u"})
        if truth.active is not None and truth.interrupt_response:
            self.end_active("cancelled", "turn_detected")
        self.nudges_in_a_row = 0

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule()
    def user_stops_speaking(self) -> None:
        self.deliver({"type": "input_audio_buffer.speech_stopped", "item_id": "u"})

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule(event_id=st.sampled_from([None, "someone_else"]))
    def unrelated_error(self, event_id: str | None) -> None:
        self.deliver(
            {"type": "error", "error": {"code": "x", "message": "m", "event_id": event_id}}
        )

    # -- the app and the listener --------------------------------------------------------------

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule(policy=st.sampled_from(["wait", "skip", "speak"]), interruptible=st.booleans())
    def app_says_something(self, policy: Any, interruptible: bool) -> None:
        speech = self.proactive.say(
            f"Message {len(self.speeches)}.",
            if_user_speaking=policy,
            interruptible=interruptible,
        )
        self.speeches.append(speech)
        self.settle_tasks()

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule()
    def strategy_finishes_rendering(self) -> None:
        self.release.set()
        self.settle_tasks()

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule(seconds=st.sampled_from([0.5, 2.0, 6.0, 31.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.settle_tasks()

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule(all_of_it=st.booleans())
    def speaker_plays(self, all_of_it: bool) -> None:
        if all_of_it:
            self.audio.play_all()
        else:
            self.audio.play(48)
        self.settle_tasks()

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule()
    def app_cancels_the_latest_speech(self) -> None:
        self.speeches[-1].cancel()
        self.settle_tasks()

    @precondition(lambda self: self.truth is not None and not self.closed)
    @rule()
    def close(self) -> None:
        self.run(self.proactive.aclose())
        self.closed = True
        self.settle_tasks()

    @precondition(lambda self: self.closed)
    @rule()
    def a_late_event_reaches_the_closed_session(self) -> None:
        async def go() -> None:
            try:
                await self.proactive.handle({"type": "response.done", "response": {"id": "x"}})
            except vp.SessionClosedError:
                return
            raise AssertionError("handle() on a closed session must raise SessionClosedError")

        self.run(go())

    # -- the rules of behaviour -------------------------------------------------------------

    @invariant()
    def at_most_one_greeting_reaches_the_user(self) -> None:
        if self.truth is None:
            return
        truth = self.truth
        heard = {truth.chunk_owner[pcm] for pcm in self.audio.every if pcm in truth.chunk_owner}
        greetings = {r for r in heard if truth.responses[r].owner in truth.greeting_creates}
        assert len(greetings) <= 1, f"greeting responses reached the user: {greetings}"

    @invariant()
    def outcomes_only_move_forward(self) -> None:
        for speech in self.speeches:
            key, outcome = id(speech), speech.outcome
            before = self.snapshots.get(key)
            if before is not None:
                assert outcome == before, f"{speech!r} changed after it settled"
            elif outcome.settled:
                self.snapshots[key] = outcome
            status = self.statuses.get(key)
            if status is not None and status is not vp.GreetingStatus.PENDING:
                assert outcome.status is status, f"{speech!r}: {status} became {outcome.status}"
            self.statuses[key] = outcome.status

    @invariant()
    def on_exhausted_runs_at_most_once(self) -> None:
        assert self.exhausted <= 1


SessionMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("VP_MACHINE_EXAMPLES", "2000")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_session_keeps_its_rules_whatever_the_service_does = SessionMachine.TestCase
