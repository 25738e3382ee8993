"""A faithful Voice Live service, a speaker and an app around the bare engine, with no asyncio.

The service processes the client's events in order, but whenever the test says (so any answer
can be late); runs one response at a time; starts its own responses (server VAD) at any free
moment; cancels the active response when the user speaks (unless told
``interrupt_response: false``); echoes ``response.metadata`` or not; rejects what it likes;
calls tools; changes formats; and closes. The speaker plays whatever it is given, when the
test says, and tells the engine what it heard. The app answers the engine's requests for user
code now, later or never.

Everything the user would observe is recorded: what was put on the wire, which response
each played byte belonged to, what each speech's outcome said.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

from voicelive_proactive.actions import (
    Abandon,
    ConfigureAudio,
    Emit,
    Exhausted,
    Finished,
    FlushAudio,
    PauseAudio,
    Prepare,
    QueueAudio,
    Raise,
    ReleaseGuard,
    ResumeAudio,
    Send,
    StartMicrophone,
    WatchPlayout,
)
from voicelive_proactive.core import EngineConfig
from voicelive_proactive.engine import Engine
from voicelive_proactive.floor import BUSY, TAG_KEY
from voicelive_proactive.greetings import Greeting
from voicelive_proactive.guard import GuardResult
from voicelive_proactive.lifecycle import SpeechKind, SpeechState

FORMATS = {"pcm16": 48_000, "pcm16_16000hz": 32_000, "g711_ulaw": 8_000}
CHUNK_MS = 40


@dataclass
class Response:
    id: str
    owner: str  # the event_id of the response.create that made it, "vad" or "app"
    item_id: str
    text: str
    greeting: bool = False
    chunks: int = 3
    sent: int = 0
    bps: int = 48_000
    cancelled: bool = False
    tool: bool = False
    tool_done: bool = False
    spoke: bool = False  # its message item was added (a tool-only response never speaks)


@dataclass
class Item:
    id: str
    audio_ms: int = 0
    deleted: bool = False
    truncated_to: int | None = None


@dataclass
class Service:
    """What really happens on the service (the engine can only infer it)."""

    echo: bool
    turn_detection: dict[str, Any] | None
    output_format: str = "pcm16"
    inbox: deque[dict[str, Any]] = field(default_factory=deque)
    active: Response | None = None
    responses: dict[str, Response] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    pending_text: dict[str, str] = field(default_factory=dict)  # system item -> instruction
    greeting_creates: set[str] = field(default_factory=set)
    our_creates: set[str] = field(default_factory=set)
    tool_waiting: bool = False  # a completed call awaits the app's answer
    user_speaking: bool = False
    user_turn_done: bool = False  # a committed turn the service may answer
    numbers: Any = field(default_factory=lambda: itertools.count(1))
    app_td: dict[str, Any] | None = None  # what the app itself configured last
    ambiguous: bool = False
    """The app sent a turn_detection equal to one of the library's still on its way (and
    answered first): no client can tell the two answers apart, so which of them was last
    is unknowable, and only the library's own fields are sure to be the app's."""

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"


class Speaker:
    """Plays queued chunks on command; pauses; flushes; reports positions heard."""

    def __init__(self) -> None:
        self.queue: deque[list[Any]] = deque()  # [bytearray, owner response id]
        self.position = 0  # bytes queued ever
        self.played = 0  # bytes played ever (or dropped: they count as "gone")
        self.heard: list[tuple[str, int]] = []  # (owner, bytes) that reached the listener
        self.paused = False
        self.watches: list[int] = []
        self.skips = 0
        self.dropped: dict[str, int] = {}  # owner -> bytes dropped by flushes

    @property
    def pending(self) -> int:
        return sum(len(c) for c, _ in self.queue)

    def add(self, pcm: bytes, owner: str) -> None:
        self.queue.append([bytearray(pcm), owner])
        self.position += len(pcm)

    def flush(self) -> int:
        dropped = self.pending
        for chunk, owner in self.queue:
            self.dropped[owner] = self.dropped.get(owner, 0) + len(chunk)
        self.queue.clear()
        self.played += dropped
        self.paused = False
        self.skips += 1
        return dropped

    def play(self, n: int) -> list[tuple[str, int]]:
        """Play up to ``n`` bytes; return (owner, bytes) of the pieces heard."""
        out: list[tuple[str, int]] = []
        while n > 0 and self.queue and not self.paused:
            chunk, owner = self.queue[0]
            take = min(n, len(chunk))
            out.append((owner, take))
            del chunk[:take]
            if not chunk:
                self.queue.popleft()
            self.played += take
            n -= take
        self.heard.extend(out)
        return out

    def due_watches(self) -> list[int]:
        heard_through = self.position - self.pending
        due = sorted(p for p in self.watches if p <= heard_through)
        self.watches = [p for p in self.watches if p > heard_through]
        return due


def chunk_bytes(response_number: int, index: int, bps: int) -> bytes:
    """A unique, whole-sample chunk of ``CHUNK_MS`` ms: who it belongs to is in its bytes."""
    size = bps * CHUNK_MS // 1000
    pattern = bytes([response_number % 251 + 1, index % 251 + 1, 0x7F, response_number // 251])
    return (pattern * (size // 4 + 1))[:size]


_BROKEN_RULE = AssertionError


class _NeverRaises:
    """The engine, whose every call must return: an exception out of the engine on input
    the service and the app may legally give is a broken session (a rule of behaviour)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._engine, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except Exception as exc:
                if isinstance(exc, _BROKEN_RULE):  # a rule of behaviour, or the engine's own
                    raise
                raise _BROKEN_RULE(f"the engine raised {exc!r} in {name}()") from exc

        return call


class Harness:
    """The engine, its service, its speaker and its app, wired like the shell wires them."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        echo: bool,
        vad: bool = True,
        instant_user_code: bool = True,
    ) -> None:
        ids = map("c{}".format, itertools.count(1))
        self.speeches: list[SpeechState] = []
        engine = Engine(config, ids=ids, greeting=("greet-a", "greet-b"), make_handle=self._handle)
        self.engine: Engine = cast(Engine, _NeverRaises(engine))
        td = {"type": "server_vad", "create_response": True, "interrupt_response": True}
        self.service = Service(echo=echo, turn_detection=dict(td) if vad else None)
        self.service.app_td = dict(td) if vad else None
        self.speaker = Speaker()
        self.config = config
        self.now = 0.0
        self.instant = instant_user_code
        self.preparing: list[Prepare] = []
        # Work the engine gave up on (cancelled, skipped, closed) may still answer: an async
        # guard or strategy that finished in the same tick as the cancel.
        self.abandoned: list[Prepare] = []
        self.sent: list[dict[str, Any]] = []
        self.events: list[Any] = []
        self.finished: dict[int, int] = {}
        self.exhausted = 0
        self.closed = False
        self.chunk_owner: dict[bytes, str] = {}
        self.violations: list[str] = []
        self.cancelled_views: dict[str, int] = {}  # response id -> speaker position at cancel
        self.cancelled_at: dict[int, float] = {}
        self.guard_taken = False
        self.link_down = False
        self.known_active: set[str] = set()
        self.create_owner: dict[str, Any] = {}  # response.create event_id -> its speech
        self.known_tool_open = False
        self.user_spoke = False  # the engine was told (speech_started): the greeting skips
        self.heard_by_response: dict[str, int] = {}
        self.streams: dict[str, bytes] = {}
        self.received: dict[str, int] = {}  # response id -> audio bytes the engine received
        self.cut_off: set[str] = set()  # responses whose audio a flush dropped (link up)

    def _owner_of(self, pcm: bytes) -> str:
        owner = self.chunk_owner.get(pcm)
        if owner is not None:
            return owner
        for rid, stream in self.streams.items():  # a tail queued again after a cut
            if pcm in stream:
                return rid
        return "?"

    def _handle(self, state: SpeechState) -> SpeechState:
        self.speeches.append(state)
        return state

    # -- the shell's part ----------------------------------------------------------------------

    def perform(self) -> None:
        engine = self.engine
        while True:
            pending = deque(engine.take())
            while pending:
                action = pending.popleft()
                self._do(action)
                more = engine.take()
                if more:  # as the shell does: a Prepare's answer comes after the rest
                    if type(action) is Prepare:
                        pending.extend(more)
                    else:
                        pending.extendleft(reversed(more))
            if not engine.behind:
                return
            engine.catch_up()  # as the shell does, once the greeting is on the wire

    def _do(self, action: Any) -> None:
        kind = type(action)
        if kind is Send:
            self._on_send(action.event)
        elif kind is QueueAudio:
            self.speaker.add(action.pcm, self._owner_of(action.pcm))
        elif kind is FlushAudio:
            owners = {owner for chunk, owner in self.speaker.queue if chunk}
            if not (action.closing or self.closed or self.link_down):
                self.cut_off |= owners
            self.engine.flushed(action, self.speaker.flush(), self.now)
        elif kind is PauseAudio:
            self.speaker.paused = True
            self.engine.paused(self.speaker.pending, self.now)
        elif kind is ResumeAudio:
            self.speaker.paused = False
        elif kind is WatchPlayout:
            self.speaker.watches.append(action.position)
            self._report_playout()
        elif kind is Prepare:
            if action.speech.outcome.settled:
                self.violations.append(f"user code asked to prepare {action.speech!r}, settled")
            if action.ahead or self.instant:
                self.answer(action, "ok")
            else:
                self.preparing.append(action)
        elif kind is Abandon:
            gone = [p for p in self.preparing if p.token == action.token]
            self.preparing = [p for p in self.preparing if p.token != action.token]
            self.abandoned = (self.abandoned + gone)[-4:]
        elif kind is Emit:
            self.events.append(action.event)
        elif kind is Finished:
            key = id(action.speech)
            self.finished[key] = self.finished.get(key, 0) + 1
        elif kind is Exhausted:
            self.exhausted += 1
        elif kind is ReleaseGuard:
            # Only a greeting nobody heard gives its yes back.
            service = self.service
            heard = [
                r
                for r, n in self.heard_by_response.items()
                if n and r in service.responses and service.responses[r].greeting
            ]
            if heard:
                self.violations.append(f"the guard was given back after {heard} was heard")
            self.guard_taken = False
        elif kind in (ConfigureAudio, StartMicrophone, Raise):
            pass
        else:  # pragma: no cover
            raise AssertionError(f"unknown action {action!r}")

    def answer(self, action: Prepare, how: str) -> None:
        """The app's code answers a preparation: ``ok``, ``error`` or ``wrong``; a guard
        answers ``ok`` (acquired, once), ``taken`` or ``unavailable``."""
        speech = action.speech
        if action.index is None:
            if how == "error":
                self.engine.prepared(action.token, error=RuntimeError("guard down"), now=self.now)
                return
            result: object
            if how == "unavailable":
                result = GuardResult.UNAVAILABLE
            else:
                result = not self.guard_taken and how == "ok"
                self.guard_taken = True
            self.engine.prepared(action.token, result, now=self.now)
            return
        if how == "error":
            self.engine.prepared(action.token, error=RuntimeError("render failed"), now=self.now)
            return
        if how == "wrong":
            self.engine.prepared(action.token, 42, now=self.now)
            return
        name = speech.alternatives[action.index]
        if speech.kind is SpeechKind.GREETING:
            greeting = (
                Greeting.spoken(f"Hello {name}!")
                if action.index == 0
                else Greeting.instructed(f"Greet the user ({name}).")
            )
        elif name.startswith("instruct"):
            greeting = Greeting.instructed(name)
        else:
            greeting = Greeting.spoken(name)
        self.engine.prepared(action.token, greeting, now=self.now)

    def _report_playout(self) -> None:
        for position in self.speaker.due_watches():
            self.engine.played(position, self.now)

    # -- the service -------------------------------------------------------------------------

    def _on_send(self, event: dict[str, Any]) -> None:
        if self.closed or self.link_down:
            self.violations.append(f"sent after close: {event['type']}")
        self.sent.append(event)
        if event["type"] == "response.create":
            self._check_create_allowed(event)
            self.service.our_creates.add(event["event_id"])
            if any(
                s.kind is SpeechKind.GREETING
                and s.request is not None
                and s.request.id == event["event_id"]
                for s in self.speeches
            ):
                self.service.greeting_creates.add(event["event_id"])
                if self.user_spoke and self.config.skip_if_user_spoke:
                    self.violations.append("the greeting was sent after the user spoke")
        self.service.inbox.append(event)

    def _check_create_allowed(self, event: dict[str, Any]) -> None:
        if self.known_active:
            self.violations.append(f"response.create while {self.known_active} is active")
        if self.known_tool_open:
            self.violations.append("response.create while a tool call is open")
        owner = next(
            (
                s
                for s in self.speeches
                if s.request is not None and s.request.id == event["event_id"]
            ),
            None,
        )
        if owner is not None and owner.outcome.settled:
            self.violations.append(f"response.create for {owner!r}, which had settled")
        if owner is not None:
            self.create_owner[event["event_id"]] = owner

    def deliver(self, event: dict[str, Any]) -> None:
        """A server event reaches the engine (and the test's view of what it knows)."""
        if self.closed or self.link_down:
            return
        kind = event["type"]
        if kind == "input_audio_buffer.speech_started":
            self.user_spoke = True
        elif kind == "response.created":
            self.known_active = self.known_active | {event["response"]["id"]}
            self.known_tool_open = False
        elif kind == "response.done":
            self.known_active = self.known_active - {event["response"]["id"]}
            output = event["response"].get("output") or []
            # A call in a response cut short is void: the app is not expected to answer it.
            if event["response"].get("status") == "completed" and any(
                i.get("type") == "function_call" and i.get("status") == "completed" for i in output
            ):
                self.known_tool_open = True
        self.engine.receive(event, self.now)
        self.perform()

    def process_next(self, reject: bool = False) -> None:
        """The service handles the oldest client event (``reject``: with an error)."""
        service = self.service
        if not service.inbox:
            return
        event = service.inbox.popleft()
        kind = event["type"]
        if kind == "response.create":
            self._create(event, reject)
        elif kind == "conversation.item.create":
            self._item_create(event, reject)
        elif kind == "session.update":
            self._session_update(event, reject)
        elif kind == "response.cancel":
            active = service.active
            if active is not None and event.get("response_id") in (None, active.id):
                self._end_active("cancelled", "client_cancelled")
            else:
                self._error(event, "response_cancel_not_active")
        elif kind == "conversation.item.truncate":
            item = service.items.get(event["item_id"])
            if item is None or item.deleted or event["audio_end_ms"] > item.audio_ms:
                self.violations.append(f"a truncate the service refuses: {event}")
                self._error(event, "invalid_value")
                return
            if item.truncated_to is not None:
                self.violations.append(f"item {item.id} truncated twice")
            item.truncated_to = event["audio_end_ms"]
            self.deliver({"type": "conversation.item.truncated", "item_id": item.id})
        elif kind == "conversation.item.delete":
            item = service.items.get(event["item_id"])
            if item is None or item.deleted:
                self._error(event, "invalid_value")
                return
            item.deleted = True
            self.deliver({"type": "conversation.item.deleted", "item_id": item.id})

    def _error(self, event: dict[str, Any], code: str) -> None:
        self.deliver(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": code,
                    "event_id": event.get("event_id"),
                },
            }
        )

    def _create(self, event: dict[str, Any], reject: bool) -> None:
        service = self.service
        if service.active is not None:
            self._error(event, BUSY)
            return
        if reject:
            self._error(event, "unknown_parameter")
            return
        body = event.get("response") or {}
        message = body.get("pre_generated_assistant_message")
        text = message["content"][0]["text"] if message else "A reply from the model."
        owner = event.get("event_id") or "app"
        metadata = body.get("metadata") if service.echo else None
        self._start(owner, text, metadata, greeting=owner in service.greeting_creates)

    def _start(self, owner: str, text: str, metadata: Any, *, greeting: bool = False) -> None:
        service = self.service
        number = next(service.numbers)
        rid, iid = f"r{number}", f"i{number}"
        bps = FORMATS[service.output_format]
        response = Response(rid, owner, iid, text, greeting=greeting, bps=bps)
        service.responses[rid] = response
        service.items[iid] = Item(iid)
        service.active = response
        self.deliver(
            {
                "type": "response.created",
                "response": {"id": rid, "status": "in_progress", "metadata": metadata},
            }
        )

    def _begin_message(self, response: Response) -> None:
        """The response's message item, with its transcript, comes with its first audio (a
        response that calls a tool first may never have one)."""
        if response.spoke:
            return
        response.spoke = True
        rid, iid = response.id, response.item_id
        item = {"id": iid, "type": "message", "role": "assistant", "status": "in_progress"}
        self.deliver(
            {
                "type": "response.output_item.added",
                "response_id": rid,
                "output_index": 0,
                "item": item,
            }
        )
        self.deliver(
            {
                "type": "response.audio_transcript.delta",
                "response_id": rid,
                "item_id": iid,
                "output_index": 0,
                "content_index": 0,
                "delta": response.text,
            }
        )

    def stream(self, n: int) -> None:
        """The active response sends ``n`` more audio chunks (and their word timings)."""
        import base64

        active = self.service.active
        if active is None or active.tool:
            return
        number = int(active.id[1:])
        for _ in range(n):
            if active.sent >= active.chunks:
                return
            self._begin_message(active)
            pcm = chunk_bytes(number, active.sent, active.bps)
            self.chunk_owner[pcm] = active.id
            self.streams[active.id] = self.streams.get(active.id, b"") + pcm
            if not (self.closed or self.link_down):
                self.received[active.id] = self.received.get(active.id, 0) + len(pcm)
            offset = active.sent * CHUNK_MS
            self.deliver(
                {
                    "type": "response.audio_timestamp.delta",
                    "response_id": active.id,
                    "item_id": active.item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "audio_offset_ms": offset,
                    "audio_duration_ms": CHUNK_MS,
                    "text": f"w{active.sent}",
                    "timestamp_type": "word",
                }
            )
            active.sent += 1
            self.service.items[active.item_id].audio_ms = active.sent * CHUNK_MS
            self.deliver(
                {
                    "type": "response.audio.delta",
                    "response_id": active.id,
                    "item_id": active.item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": base64.b64encode(pcm).decode("ascii"),
                }
            )

    def finish(self) -> None:
        """The active response completes (streaming what is left first)."""
        active = self.service.active
        if active is None:
            return
        self.stream(active.chunks)
        self._end_active("completed", None)

    def _end_active(self, status: str, reason: str | None) -> None:
        service = self.service
        active = service.active
        if active is None:
            return
        service.active = None
        output: list[dict[str, Any]] = []
        if active.tool:
            call_status = "completed" if active.tool_done else "incomplete"
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{active.id}",
                    "call_id": f"call_{active.id}",
                    "name": "lookup",
                    "status": call_status,
                }
            )
            if active.tool_done and status == "completed":
                service.tool_waiting = True
        if active.spoke or (not active.tool and status == "completed"):
            self._begin_message(active)
            output.insert(
                0,
                {
                    "id": active.item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "completed" if status == "completed" else "incomplete",
                },
            )
        details = {"type": "cancelled", "reason": reason} if status == "cancelled" else None
        metadata = None
        if service.echo and active.owner in service.our_creates:
            metadata = {TAG_KEY: active.owner}
        self.deliver(
            {
                "type": "response.done",
                "response": {
                    "id": active.id,
                    "status": status,
                    "output": output,
                    "status_details": details,
                    "metadata": metadata,
                },
            }
        )

    def vad_reply(self) -> None:
        """The service answers the user's turn (or starts a response of its own)."""
        if self.service.active is None:
            self._start("vad", "A reply to the user.", None)

    def tool_call(self, complete: bool) -> None:
        """The active response (before any audio) turns out to call a tool."""
        active = self.service.active
        if active is None or active.sent or active.tool:
            return
        active.tool = True
        call = {
            "type": "function_call",
            "id": f"fc_{active.id}",
            "call_id": f"call_{active.id}",
            "name": "lookup",
        }
        self.deliver(
            {
                "type": "response.output_item.added",
                "response_id": active.id,
                "output_index": 1,
                "item": call,
            }
        )
        if complete:
            active.tool_done = True
            self.deliver(
                {
                    "type": "response.function_call_arguments.done",
                    "response_id": active.id,
                    "item_id": call["id"],
                    "output_index": 1,
                    "call_id": call["call_id"],
                    "name": "lookup",
                    "arguments": "{}",
                }
            )

    def app_answers_tool(self) -> None:
        service = self.service
        if not service.tool_waiting:
            return
        service.tool_waiting = False
        # The call is answered; the app's response.create is on its way (as a client event
        # of its own, it is simply the next thing the service processes).
        self.known_tool_open = False
        self.deliver(
            {
                "type": "conversation.item.created",
                "item": {"type": "function_call_output", "call_id": "x", "output": "{}"},
            }
        )
        service.inbox.append({"type": "response.create", "event_id": None})

    def _item_create(self, event: dict[str, Any], reject: bool) -> None:
        if reject:
            self._error(event, "invalid_value")
            return
        item = dict(event["item"])
        item_id = item.get("id") or self.service.next_id("item")
        self.service.items.setdefault(item_id, Item(item_id))
        self.deliver(
            {
                "type": "conversation.item.created",
                "previous_item_id": None,
                "item": {**item, "id": item_id},
            }
        )

    def _session_update(self, event: dict[str, Any], reject: bool) -> None:
        service = self.service
        td = event["session"].get("turn_detection") or {}
        # A setting the service accepted before (the app's own, given back) is not refused;
        # a new one may be (an older api-version without interrupt_response, say).
        if reject and td.get("interrupt_response") is False:
            self._error(event, "invalid_value")
            return
        session = event["session"]
        if event.get("event_id") is None and "turn_detection" in session:
            ours = [
                e["session"].get("turn_detection")
                for e in service.inbox
                if e["type"] == "session.update" and e.get("event_id") is not None
            ]
            service.ambiguous |= session["turn_detection"] in ours
        if "turn_detection" in session:
            service.turn_detection = dict(session["turn_detection"] or {}) or None
        if "output_audio_format" in session:
            service.output_format = session["output_audio_format"]
        self.session_updated()

    def session_updated(self) -> None:
        service = self.service
        self.deliver(
            {
                "type": "session.updated",
                "session": {
                    "id": "sess",
                    "turn_detection": service.turn_detection,
                    "output_audio_format": service.output_format,
                },
            }
        )

    def app_session_update(self, turn_detection: dict[str, Any] | None, fmt: str) -> None:
        """The app sends its own session.update (not through the engine)."""
        self.service.app_td = turn_detection
        session: dict[str, Any] = {"turn_detection": turn_detection, "output_audio_format": fmt}
        self.service.inbox.append({"type": "session.update", "event_id": None, "session": session})

    def user_starts(self) -> None:
        service = self.service
        service.user_speaking = True
        self.deliver(
            {
                "type": "input_audio_buffer.speech_started",
                "item_id": "u",
                "audio_start_ms": int(self.now * 1000),
            }
        )
        td = service.turn_detection
        if service.active is not None and td is not None and td.get("interrupt_response", True):
            self._end_active("cancelled", "turn_detected")

    def user_stops(self) -> None:
        service = self.service
        if not service.user_speaking:
            return
        service.user_speaking = False
        self.deliver(
            {
                "type": "input_audio_buffer.speech_stopped",
                "item_id": "u",
                "audio_end_ms": int(self.now * 1000),
            }
        )
        td = service.turn_detection
        service.user_turn_done = td is not None and td.get("create_response", True) is not False

    def pending_of(self, response_id: str) -> int:
        """Bytes of ``response_id`` still in the speaker's queue."""
        return sum(len(chunk) for chunk, owner in self.speaker.queue if owner == response_id)

    def lost(self, response_id: str) -> int:
        """Audio of a response the engine received that nobody heard or will hear."""
        return (
            self.received.get(response_id, 0)
            - self.heard_by_response.get(response_id, 0)
            - self.pending_of(response_id)
        )

    def cuts_sent(self, item_id: str) -> list[dict[str, Any]]:
        """The truncates and deletes sent for ``item_id``."""
        kinds = ("conversation.item.truncate", "conversation.item.delete")
        return [e for e in self.sent if e["type"] in kinds and e.get("item_id") == item_id]

    def play(self, n: int) -> None:
        for owner, size in self.speaker.play(n):
            self.heard_by_response[owner] = self.heard_by_response.get(owner, 0) + size
            if owner in self.cancelled_views:
                self.violations.append(f"audio of cancelled {owner} played after the cancel")
        self._report_playout()
        self.perform()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        deadline = self.engine.next_deadline()
        while deadline is not None and deadline <= self.now:
            self.engine.handle_timer(self.now)
            self.perform()
            deadline = self.engine.next_deadline()

    def close(self) -> None:
        self.engine.close("the session was closed", self.now)
        self.perform()
        self.closed = True
        self.speaker.queue.clear()  # the session closes its audio too

    def connection_lost(self) -> None:
        self.engine.connection_lost("the connection closed", self.now)
        self.perform()
        self.link_down = True
