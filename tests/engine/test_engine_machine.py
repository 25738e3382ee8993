"""Hypothesis drives the bare engine: both sides do everything they legally may.

The service (``harness.Service``) answers late, starts its own responses at any free moment,
echoes ``response.metadata`` or not, rejects requests and settings, calls tools (and the user
cuts them off), changes formats and closes. The app says things with every option, cancels
in every phase, answers its guard and strategies now, later, wrongly or never, lets time pass,
plays audio, and closes. No asyncio: thousands of conversations run in seconds.

After every step the rules of behaviour must hold:

* at most one greeting is heard; each speech settles exactly once and never changes after;
* no ``response.create`` while a response or a tool call is open, or for a settled speech;
* every cancel, truncate and delete names a response proven ours (its tag was echoed); at
  most one truncate per item, with ``audio_end_ms`` equal to what was played, in the item's
  own format; a cancelled speech's audio never plays after the cancel;
* the app's ``interrupt_response`` is in force whenever no protected speech is on the
  service or playing;
* after close, nothing is sent;
* what the outcome says was heard is what was heard (``heard_text``, ``delivered``,
  ``SpeechStarted``), and the echo guard starts only once the speech is heard.

At the end, the conversation is driven to quiet and every speech must have settled.

``VP_ENGINE_EXAMPLES`` sets the number of examples (default 1,500, about 20 s), and
``VP_ENGINE_RANDOM=1`` draws new ones instead of the fixed set ``make test`` replays.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from voicelive_proactive.core import EngineConfig
from voicelive_proactive.events import SpeechInterrupted, SpeechQueued, SpeechStarted
from voicelive_proactive.interruptions import InterruptionPolicy
from voicelive_proactive.lifecycle import Phase, SpeechKind, SpeechState
from voicelive_proactive.nudge import IdleNudge
from voicelive_proactive.outcome import GreetingStatus

from .harness import CHUNK_MS, FORMATS, Harness

if os.environ.get("VP_EXPECT_PACKAGE"):  # the mutation runner: is the mutated copy in use?
    import voicelive_proactive

    assert voicelive_proactive.__file__.startswith(os.environ["VP_EXPECT_PACKAGE"])

LIBRARY_FIELDS = ("type", "interrupt_response", "create_response")
LIVE = (Phase.REQUESTED, Phase.SPEAKING, Phase.AWAITING_TOOL, Phase.PLAYING)


class EngineMachine(RuleBasedStateMachine):
    h: Harness

    @initialize(
        echo=st.booleans(),
        vad=st.booleans(),
        interruptible=st.booleans(),
        echo_guard=st.sampled_from([0, 0, 200]),
        nudge=st.booleans(),
        policy=st.booleans(),
        instant=st.booleans(),
        manual=st.booleans(),
        skip=st.booleans(),
        render_timeout=st.sampled_from([None, 1.0]),
        app_updates=st.sampled_from([0, 0, 2]),
        shared_guard=st.booleans(),
        output_format=st.sampled_from(["pcm16", "pcm16", "g711_ulaw"]),
        user_first=st.sampled_from(["", "", "speaking", "spoke"]),
    )
    def start(
        self,
        echo: bool,
        vad: bool,
        interruptible: bool,
        echo_guard: int,
        nudge: bool,
        policy: bool,
        instant: bool,
        manual: bool,
        skip: bool,
        render_timeout: float | None,
        app_updates: int,
        shared_guard: bool,
        output_format: str,
        user_first: str,
    ) -> None:
        config = EngineConfig(
            interruptible=interruptible,
            skip_if_user_spoke=skip,
            echo_guard_ms=echo_guard,
            render_timeout=render_timeout,
            greet_when="manual" if manual else "ready",
            interruptions=InterruptionPolicy(300, 1500) if policy else None,
            can_pause=policy,
            nudge=IdleNudge(after=5.0, max_nudges=1) if nudge else None,
            nudge_alternatives=("instruct: are you there?",) if nudge else (),
            resume_alternatives=("welcome back",),
            # The app's guard is asked; the session's own is not (the greeting may go first).
            asks_guard=shared_guard,
        )
        # The engine logs every skip and failure; thousands of conversations need no log.
        logging.getLogger("voicelive_proactive").setLevel(logging.CRITICAL)
        self.h = Harness(config, echo=echo, vad=vad, instant_user_code=instant)
        self.snapshots: dict[int, Any] = {}
        self.statuses: dict[int, GreetingStatus] = {}
        self.said = 0
        h = self.h
        h.service.output_format = output_format  # what the first session.updated says
        h.engine.start(h.now)
        h.perform()
        h.deliver({"type": "session.created", "session": {"id": "sess"}})
        if user_first and vad:  # the user speaks before the session is ready
            h.user_starts()
            if user_first == "spoke":  # ...and stopped: no reply came in time
                h.user_stops()
                h.service.user_turn_done = False
                h.advance(2.0)
        if app_updates and vad:
            # The app configures the session in steps before it is ready: every step is
            # answered, the first one makes the session ready, the rest come later.
            for step in range(app_updates):
                td = {**(h.service.app_td or {}), "threshold": 0.5 + step / 10}
                h.app_session_update(td, output_format)
            h.process_next()
        else:
            h.session_updated()

    # -- the service ---------------------------------------------------------------------------

    # Preconditions keep rules that would do nothing from wasting steps.

    @precondition(lambda self: self.h.service.inbox)
    @rule(reject=st.sampled_from([False, False, False, True]))
    def service_processes_the_next_event(self, reject: bool) -> None:
        self.h.process_next(reject)

    @precondition(lambda self: _streaming(self.h))
    @rule(n=st.integers(1, 3))
    def service_streams_audio(self, n: int) -> None:
        self.h.stream(n)

    @precondition(lambda self: self.h.service.active is not None)
    @rule()
    def service_finishes_its_response(self) -> None:
        self.h.finish()

    @precondition(lambda self: self.h.service.active is None)
    @rule()
    def service_starts_its_own_response(self) -> None:
        self.h.vad_reply()

    @precondition(lambda self: _may_call_a_tool(self.h))
    @rule(complete=st.booleans())
    def the_response_calls_a_tool(self, complete: bool) -> None:
        self.h.tool_call(complete)

    @precondition(lambda self: self.h.service.tool_waiting)
    @rule()
    def the_app_answers_the_tool(self) -> None:
        self.h.app_answers_tool()

    @precondition(lambda self: not self.h.service.user_speaking)
    @rule()
    def user_starts_speaking(self) -> None:
        self.h.user_starts()

    @precondition(lambda self: self.h.service.user_speaking)
    @rule()
    def user_stops_speaking(self) -> None:
        self.h.user_stops()

    @precondition(lambda self: _audible(self.h))
    @rule(n=st.sampled_from([1, 500, 1920, 4000]))
    def the_user_talks_over_what_is_playing(self, n: int) -> None:
        """Part of what is queued plays, then the user speaks over the rest."""
        h = self.h
        h.play(n)
        if not h.service.user_speaking:
            h.user_starts()

    @precondition(lambda self: _may_call_a_tool(self.h))
    @rule(complete=st.booleans())
    def the_user_cuts_off_a_tool_call(self, complete: bool) -> None:
        """The response calls a tool, and the user speaks before it is over."""
        h = self.h
        h.tool_call(complete)
        if h.service.user_speaking:
            h.user_stops()
        h.user_starts()

    @rule(event_id=st.sampled_from([None, "someone_else"]))
    def an_unrelated_error(self, event_id: str | None) -> None:
        self.h.deliver(
            {"type": "error", "error": {"code": "x", "message": "m", "event_id": event_id}}
        )

    @rule(fmt=st.sampled_from(sorted(FORMATS)), threshold=st.sampled_from([0.5, 0.6]))
    def the_app_changes_its_settings(self, fmt: str, threshold: float) -> None:
        td = self.h.service.app_td
        new = None if td is None else {**td, "threshold": threshold}
        self.h.app_session_update(new, fmt)

    @precondition(lambda self: not (self.h.closed or self.h.link_down))
    @rule(how=st.sampled_from(["close", "drop"]), now=st.integers(0, 4))
    def the_session_ends(self, how: str, now: int) -> None:
        """The app closes, or the connection drops: rarely, so that most conversations run
        to their end, where everything must settle (see :meth:`teardown`)."""
        if now:
            return
        if how == "close":
            self.h.close()
        else:
            self.h.connection_lost()

    # -- the app and the listener ----------------------------------------------------------------

    @rule(
        interruptible=st.sampled_from([None, True, False]),
        policy=st.sampled_from(["wait", "skip", "speak"]),
        key=st.sampled_from([None, None, "order"]),
        expires=st.sampled_from([None, None, 1.0]),
        instructed=st.booleans(),
    )
    def the_app_says_something(
        self,
        interruptible: bool | None,
        policy: Any,
        key: str | None,
        expires: float | None,
        instructed: bool,
    ) -> None:
        h = self.h
        self.said += 1
        text = f"{'instruct: ' if instructed else ''}Message {self.said}."
        state = SpeechState(
            SpeechKind.SAY,
            (text,),
            interruptible=h.config.interruptible if interruptible is None else interruptible,
            if_user_speaking=policy,
            key=key,
            expires_at=h.now + expires if expires is not None else None,
        )
        state.handle = state
        h.speeches.append(state)
        h.engine.say(state, h.now)
        h.perform()

    @precondition(lambda self: self.h.speeches)
    @rule(index=st.integers(0, 5), which=st.sampled_from(["recent", "live", "audible"]))
    def the_app_cancels(self, index: int, which: str) -> None:
        """Cancel one of the last speeches, one on the service or playing, or one whose
        audio is in the speaker."""
        h = self.h
        choices = h.speeches
        if which == "live":
            choices = [s for s in h.speeches if s.phase in LIVE] or choices
        elif which == "audible":
            choices = [
                s for s in h.speeches if s.response is not None and h.pending_of(s.response.id)
            ] or choices
        speech = choices[-1 - index % len(choices)]
        stopped = speech.response is not None and speech.phase in (Phase.SPEAKING, Phase.PLAYING)
        if stopped:
            assert speech.response is not None
            h.cancelled_views[speech.response.id] = h.speaker.position
        h.engine.cancel(speech, h.now)
        h.perform()
        if stopped and not h.closed:
            assert speech.response is not None
            left = h.pending_of(speech.response.id)
            assert not left, f"{speech!r} cancelled while playing: {left} bytes still play"

    @rule()
    def the_app_greets(self) -> None:
        self.h.engine.greet(self.h.now)
        self.h.perform()

    @precondition(lambda self: self.h.preparing)
    @rule(index=st.integers(0, 3), how=st.sampled_from(["ok", "ok", "error", "wrong", "taken"]))
    def user_code_answers(self, index: int, how: str) -> None:
        h = self.h
        action = h.preparing.pop(index % len(h.preparing))
        h.answer(action, how)
        h.perform()

    @precondition(lambda self: self.h.abandoned)
    @rule(how=st.sampled_from(["ok", "error", "taken"]))
    def abandoned_user_code_answers_anyway(self, how: str) -> None:
        """A guard or strategy the engine gave up on (its speech was cancelled, skipped or
        closed) finishes in the same tick: its answer must change nothing."""
        h = self.h
        action = h.abandoned.pop()
        h.answer(action, how)
        h.perform()

    @rule()
    def the_app_sees_activity(self) -> None:
        self.h.engine.activity(self.h.now)
        self.h.perform()

    @precondition(lambda self: self.h.speaker.queue)
    @rule(n=st.sampled_from([1, 500, 1920, 100_000]))
    def the_speaker_plays(self, n: int) -> None:
        self.h.play(n)

    @rule(seconds=st.sampled_from([0.1, 0.4, 2.0, 6.0]))
    def time_passes(self, seconds: float) -> None:
        self.h.advance(seconds)

    # -- the rules of behaviour ---------------------------------------------------------------

    @invariant()
    def a_speech_continues_only_after_its_own_tool_call_completed(self) -> None:
        """A response is taken as a speech's continuation only after a tool call of that
        speech's own response completed: a call cut off before its arguments were complete
        is void, and the next response (the service's reply to the user) is not ours."""
        h = self.h
        if not h.service.echo:
            return  # without tags a continuation is a guess, and may be wrong (weak proof)
        for speech in h.speeches:
            if speech.outcome.proof != "continuation":
                continue
            own = [r for r in h.service.responses.values() if h.create_owner.get(r.owner) is speech]
            if any(r.tool for r in own):
                assert any(r.tool and r.tool_done for r in own), (
                    f"{speech!r} continued after its tool call was cut off"
                )

    @invariant()
    def nothing_the_harness_forbids_happened(self) -> None:
        assert not self.h.violations, self.h.violations

    @invariant()
    def a_speech_is_queued_before_it_is_heard_and_says_what_was_sent(self) -> None:
        queued = set()
        for event in self.h.events:
            if isinstance(event, SpeechQueued):
                queued.add(id(event.speech))
            elif isinstance(event, SpeechStarted):
                assert id(event.speech) in queued, f"{event.speech!r} started, never queued"
        for speech in self.h.speeches:
            outcome = speech.outcome
            if outcome.status is GreetingStatus.SENT:
                assert outcome.greeting is not None, f"{speech!r} was sent: with what?"

    @invariant()
    def at_most_one_greeting_is_heard(self) -> None:
        h = self.h
        heard = {
            rid
            for rid, n in h.heard_by_response.items()
            if n
            and rid in h.service.responses
            and h.service.responses[rid].owner in h.service.greeting_creates
        }
        assert len(heard) <= 1, f"greetings heard: {heard}"

    @invariant()
    def outcomes_only_move_forward(self) -> None:
        for speech in self.h.speeches:
            key, outcome = id(speech), speech.outcome
            before = self.snapshots.get(key)
            if before is not None:
                assert outcome == before, f"{speech!r} changed after it settled"
            elif outcome.settled:
                self.snapshots[key] = outcome
            status = self.statuses.get(key)
            if status is not None and status is not GreetingStatus.PENDING:
                assert outcome.status is status, f"{speech!r}: {status} became {outcome.status}"
            self.statuses[key] = outcome.status
            assert self.h.finished.get(key, 0) <= 1, f"{speech!r} finished twice"
            if outcome.settled:
                assert speech.phase is Phase.DONE, f"{speech!r} settled in {speech.phase}"

    @invariant()
    def only_responses_proven_ours_are_touched(self) -> None:
        h = self.h
        service = h.service
        truncated: set[str] = set()
        for event in h.sent:
            kind = event["type"]
            if kind == "response.cancel":
                response = service.responses.get(event["response_id"])
                assert response is not None, event
                assert response.owner in service.our_creates, f"cancelled {response}"
                assert service.echo, "cancelled a response not proven by its tag"
            elif kind in ("conversation.item.truncate", "conversation.item.delete"):
                item_id = event["item_id"]
                response = next(
                    (r for r in service.responses.values() if r.item_id == item_id), None
                )
                assert response is not None, event
                assert response.owner in service.our_creates, f"cut the item of {response}"
                assert service.echo, "cut an item not proven by its tag"
                assert item_id not in truncated, f"{item_id} cut twice"
                truncated.add(item_id)
                if kind == "conversation.item.truncate":
                    heard = h.heard_by_response.get(response.id, 0) * 1000 // response.bps
                    assert event["audio_end_ms"] == heard, (
                        f"truncated {item_id} to {event['audio_end_ms']} ms; {heard} ms played"
                    )

    @invariant()
    def the_apps_interrupt_response_is_in_force_when_nothing_is_protected(self) -> None:
        h = self.h
        service = h.service
        if h.closed or h.link_down or service.inbox or service.turn_detection is None:
            return
        paces = h.config.paces_interruptions
        if any(
            s.phase in LIVE and (s.protected or (paces and s.interruptible)) for s in h.speeches
        ):
            return
        app = service.app_td or {}
        now = service.turn_detection
        if service.ambiguous:  # see Service.ambiguous: the library's own fields, then
            now = {k: v for k, v in now.items() if k in LIBRARY_FIELDS}
            app = {k: v for k, v in app.items() if k in LIBRARY_FIELDS}
        assert now == app, f"turn_detection left at {service.turn_detection}; the app's is {app}"

    @invariant()
    def what_was_heard_is_what_the_outcome_says(self) -> None:
        h = self.h
        started = {id(e.speech) for e in h.events if isinstance(e, SpeechStarted)}
        for speech in h.speeches:
            view = speech.response
            if view is None:
                continue
            played = h.heard_by_response.get(view.id, 0)
            if played and speech.outcome.status is GreetingStatus.SENT:
                assert speech.started and id(speech) in started, f"{speech!r} heard, not started"
                assert speech.metrics.first_audio is not None
            outcome = speech.outcome
            if not outcome.settled or outcome.status is not GreetingStatus.SENT:
                continue
            response = h.service.responses.get(view.id)
            if response is None or not speech.words:
                continue
            if outcome.interrupted:
                played_ms = played * 1000 // response.bps
                words = [f"w{i}" for i in range(response.sent) if (i + 1) * CHUNK_MS <= played_ms]
                assert outcome.heard_text == " ".join(words), (outcome.heard_text, played_ms)
            else:
                assert outcome.delivered, f"{speech!r} played in full but not delivered"

    @invariant()
    def items_of_ours_say_what_was_heard(self) -> None:
        """An item of ours (proven by its tag) whose audio did not all reach the listener
        is truncated to what was heard, or deleted, by the time its response is over (or at
        the cut): the model must not believe the listener heard what nobody did."""
        h = self.h
        service = h.service
        if not (service.echo and h.config.truncate) or h.closed or h.link_down:
            return
        for response in service.responses.values():
            if response.owner not in service.our_creates or response.tool:
                continue
            over = service.active is not response and response.id not in h.known_active
            if not (over or response.id in h.cut_off):
                continue
            lost = h.lost(response.id)
            if lost > 0 and not h.cuts_sent(response.item_id):
                heard = h.heard_by_response.get(response.id, 0)
                raise AssertionError(
                    f"{response.id}: {lost} bytes never heard ({heard} heard), and its item "
                    f"{response.item_id} was neither truncated nor deleted"
                )

    @invariant()
    def each_speech_is_cut_off_at_most_once(self) -> None:
        seen: set[int] = set()
        for event in self.h.events:
            if isinstance(event, SpeechInterrupted):
                assert id(event.speech) not in seen, f"{event.speech!r} interrupted twice"
                seen.add(id(event.speech))

    @invariant()
    def the_echo_guard_starts_once_the_speech_is_heard(self) -> None:
        h = self.h
        heard_through = h.speaker.position - h.speaker.pending
        for speech in h.speeches:
            if ("echo", speech) in h.engine.core.deadlines:
                assert speech.first_position is not None
                assert speech.first_position <= heard_through, "echo guard before any sound"

    def teardown(self) -> None:
        logging.getLogger("voicelive_proactive").setLevel(logging.NOTSET)
        h = getattr(self, "h", None)
        if h is None or h.closed:
            return
        for round in range(300):  # everyone finishes what they started, until all is quiet
            for action in list(h.preparing):
                h.preparing.remove(action)
                h.answer(action, "ok")
                h.perform()
            h.user_stops()
            for _ in range(1_000):  # bounded: an engine that re-sends at once never ends
                if not h.service.inbox:
                    break
                h.process_next()
            assert not h.violations, h.violations
            h.finish()
            h.app_answers_tool()
            if h.service.user_turn_done:
                h.service.user_turn_done = False
                h.vad_reply()
            h.play(10_000_000)
            if all(s.phase in (Phase.DONE, Phase.WAITING) for s in h.speeches) and not (
                h.preparing or h.service.inbox or h.service.active
            ):
                break
            if round < 250:  # time passes, then stops (so that a nudge cannot come last)
                h.advance(3.0)
        assert not h.violations, h.violations
        self._cut_items_say_what_was_heard()
        self.items_of_ours_say_what_was_heard()
        self.the_apps_interrupt_response_is_in_force_when_nothing_is_protected()
        for speech in h.speeches:
            if speech.phase is Phase.WAITING:
                continue  # a greeting never made due (greet_when="manual", no greet())
            assert speech.phase is Phase.DONE, f"{speech!r} never settled ({speech.phase})"

    def _cut_items_say_what_was_heard(self) -> None:  # what the service ends up holding
        """Every item of ours (proven by its tag) that lost audio to a cut is truncated, and
        one nobody heard at all is deleted or truncated to 0."""
        h = self.h
        service = h.service
        if not (service.echo and h.config.truncate) or h.link_down:
            return
        for response in service.responses.values():
            if response.owner not in service.our_creates or response.tool:
                continue
            item = service.items[response.item_id]
            cut = h.lost(response.id)
            heard = h.heard_by_response.get(response.id, 0)
            if cut > 0 and not item.deleted:
                assert item.truncated_to is not None, f"{response.id} was cut, not truncated"
            if not heard and response.sent and not item.deleted:
                assert item.truncated_to == 0, f"{response.id} never heard, still in the chat"


def _streaming(h: Harness) -> bool:
    active = h.service.active
    return active is not None and not active.tool and active.sent < active.chunks


def _may_call_a_tool(h: Harness) -> bool:
    active = h.service.active
    return active is not None and not active.sent and not active.tool


def _audible(h: Harness) -> bool:
    return bool(h.speaker.queue) and not h.speaker.paused


EngineMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("VP_ENGINE_EXAMPLES", "1500")),
    stateful_step_count=40,
    deadline=None,
    # The mutation runner starts every run cold: no failure found before is replayed.
    # (and a fixed set needs none: derandomized runs keep no database)
    database=None
    if os.environ.get("VP_ENGINE_NO_DATABASE") or not os.environ.get("VP_ENGINE_RANDOM")
    else settings.default.database,
    # The mutation runner times how long finding a failure takes, not shrinking it.
    phases=[Stage.generate] if os.environ.get("VP_ENGINE_NO_SHRINK") else list(Stage),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # make test replays the same examples every run (a failure there is a regression, not
    # luck); VP_ENGINE_RANDOM=1 explores new ones, as the mutation runner does.
    derandomize=not os.environ.get("VP_ENGINE_RANDOM"),
)
test_the_engine_keeps_every_rule = EngineMachine.TestCase
