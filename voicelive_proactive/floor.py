"""Who holds the floor: the conversation's turn-taking state, with no I/O.

Server events go in; facts and decisions come out. :class:`Floor` answers the questions every
proactive decision depends on:

* may we start speaking now (:meth:`Floor.may_speak`)?
* is response R ours, not ours, or not known yet (:class:`Attributed`, :class:`Refuted`)?
* how much of each response did the listener hear before it was cut off (:meth:`Floor.cut`)?
* is the agent's audio still playing locally (:attr:`Floor.playing`)?

Attribution, the subtle part. The service handles client events in order, one response at a
time. When server VAD starts a reply just before our ``response.create`` is processed, the
reply's ``response.created`` arrives first and the error for ours (busy) after it. So a
``response.created`` that arrives while our request is unanswered is only *presumed* ours:

* **proven ours** (strong) when the response carries our request's tag in ``metadata`` (the
  service echoes ``response.metadata``);
* **presumed ours** (weak) when it finishes with no error naming our request (by
  elimination), or when it follows our own tool call (a continuation);
* **refuted** when an error names our request while it is presumed: it was somebody else's.

Only a strong proof licenses acting on a response (cancelling it, truncating or deleting its
item): a transcript equal to our text is not proof (the service's reply to the user may say
"Hello!" too), and elimination assumes an answer is never later than a whole response. Weak
proofs settle the outcome, which records how ownership was known.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .ledger import PlayoutLedger

__all__ = [
    "BUSY",
    "TAG_KEY",
    "Attributed",
    "AudioVerdict",
    "Fact",
    "Floor",
    "Heard",
    "Owner",
    "Proof",
    "Refuted",
    "Rejected",
    "Request",
    "ResponseEnded",
    "ResponseView",
    "UserTurn",
]

#: The error code of a ``response.create`` sent while a response is active.
BUSY: Final = "conversation_already_has_active_response"
#: The ``response.metadata`` key that tags a response as ours (its value: the request's id).
TAG_KEY: Final = "voicelive_proactive"
_UNKNOWN: Final = "<a response the service says is active>"


class Owner(enum.Enum):
    """Whose response it is, as far as the floor knows."""

    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)

    OURS = "ours"
    PRESUMED = "presumed"
    THEIRS = "theirs"


class Proof(str, enum.Enum):
    """How a response was shown to be ours (``GreetingOutcome.proof``)."""

    TAG = "tag"
    """The service echoed our request's ``response.metadata`` tag: certain."""
    ELIMINATION = "elimination"
    """It finished with no error naming our request: almost always right, not certain."""
    CONTINUATION = "continuation"
    """It followed our own response's tool call: almost always right, not certain."""
    LOCAL = "local"
    """Played from local audio (a prerecorded greeting): no service response involved."""

    @property
    def strong(self) -> bool:
        """Certain, whatever the network does: only a strong proof licenses acting on a
        response (cancel, truncate, delete)."""
        return self is Proof.TAG or self is Proof.LOCAL


class UserTurn(enum.Enum):
    """What the user is doing."""

    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)

    SILENT = "silent"
    SPEAKING = "speaking"
    AWAITING_REPLY = "awaiting reply"
    """The user finished a turn that the service will answer (``create_response``)."""


class AudioVerdict(enum.Enum):
    """What to do with an audio chunk of a response."""

    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)

    PLAY = "play"
    HOLD = "hold"
    """Keep it aside: the response may be ours and must not talk over the user."""
    DROP = "drop"
    """A late chunk of a response that was cut off or muted."""


@dataclass(eq=False, slots=True)
class Request:
    """One ``response.create`` of ours, from sending until the service answers it."""

    id: str
    """The ``event_id`` of the ``response.create`` (also its metadata tag)."""
    owner: Hashable
    """Whose request it is (the engine's speech); the floor only hands it back."""
    item_event_id: str | None = None
    """The ``event_id`` of a ``conversation.item.create`` sent just before, if any."""
    protected: bool = False
    """The user cannot cut it off: barge-in leaves it playing."""
    yield_to_user: bool = True
    """If the user starts speaking before its response starts, it must not talk over them."""
    user_spoke_after: bool = False
    """The user started speaking after it was sent: its response must not talk over them."""
    item_rejected: bool = False
    """The service rejected the item sent with it; its response must not reach the user."""
    hold_until_proven: bool = False
    """A response presumed to be its answer is held back until proven (then it plays): it
    may be the service's own reply to something that must not be answered (a "hello")."""
    answered: bool = False


@dataclass(eq=False)
class ResponseView:
    """What the floor knows about one response."""

    id: str
    owner: Owner
    request: Request | None = None
    proof: Proof | None = None
    item_id: str | None = None
    """The first assistant message item: what a truncation names."""
    active: bool = True
    spoke: bool = False
    """It produced message content (audio, transcript or a message item)."""
    function_call: bool = False
    calls_done: int = 0
    """Function calls whose arguments completed (the app can answer those)."""
    muted: bool = False
    """Its audio no longer reaches the speaker (cut off, cancelled, or must not be heard)."""
    held: list[bytes] = field(default_factory=list)
    """Audio kept aside while it is only presumed ours (see :class:`AudioVerdict`)."""
    transcript: str = ""
    queued_bytes: int = 0
    """Audio of it handed to the speaker."""
    received_bytes: int = 0
    """Audio of it received (played, held or dropped)."""
    bytes_per_second: int = 0
    """Its item's audio rate: the output format when its first chunk arrived. An item keeps
    the format it started in, whatever the session changes later."""
    played_ms: int | None = None
    """How much the listener heard before it was cut off (set once, never rewritten)."""
    truncate_due: bool = False
    """Cut off while only presumed ours: truncate it once it is proven."""
    truncated: bool = False
    """Its item was truncated (at most once)."""
    cancel_due: bool = False
    first_audio_at: float | None = None
    """When its first chunk reached the speaker (metrics, once it is proven ours)."""
    first_position: int | None = None
    words: list[Any] = field(default_factory=list)
    """Word timings (``response.audio_timestamp.delta``), in its item's audio."""
    calls: list[Any] = field(default_factory=list)
    """Function calls whose arguments completed, not yet announced to the app."""
    previous_item_id: str | None = None

    @property
    def ours(self) -> bool:
        return self.owner is Owner.OURS

    @property
    def strong(self) -> bool:
        return self.proof is not None and self.proof.strong

    def ms(self, n_bytes: int) -> int:
        """``n_bytes`` of this response's audio, in milliseconds of its own format."""
        return n_bytes * 1000 // (self.bytes_per_second or 48_000)


# -- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attributed:
    """The response is ours (it belongs to ``response.request.owner``), by ``proof``."""

    response: ResponseView
    proof: Proof
    released: tuple[bytes, ...] = ()
    """Audio held back until it was proven ours, to play now."""


@dataclass(frozen=True, slots=True)
class Refuted:
    """A response presumed ours was not: the service rejected our request after all."""

    response: ResponseView
    released: tuple[bytes, ...]
    """Audio held back while it was presumed ours; it is somebody else's, so play it."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The service answered our request with an error; no response of ours will come."""

    request: Request
    code: str | None
    message: str

    @property
    def busy(self) -> bool:
        """Another response was active: the same speech may simply be sent again later."""
        return self.code == BUSY


@dataclass(frozen=True, slots=True)
class ResponseEnded:
    """``response.done`` for a response (ours or not)."""

    response: ResponseView
    status: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Heard:
    """Our ``response`` was cut off: the listener heard ``played_ms`` of it (reported once)."""

    response: ResponseView
    played_ms: int
    truncate: bool
    """Its item may be truncated now: it is certainly ours and was not truncated before."""


Fact = Attributed | Refuted | Rejected | ResponseEnded | Heard


class Floor:
    """The conversation's floor: responses, our requests, the user, and local playout.

    ``bytes_per_second`` is the output audio's byte rate (from the negotiated format); each
    response keeps the rate it started with.
    """

    def __init__(self, *, bytes_per_second: int = 48_000) -> None:
        self.bytes_per_second = bytes_per_second
        self.request: Request | None = None
        self.active: ResponseView | None = None
        self.user = UserTurn.SILENT
        self.awaiting_tool: ResponseView | None = None
        """Our response ended in a completed function call; the app's answer has not started."""
        self.echoes_tags = False
        """The service has echoed one of our tags, so an untagged response is not ours."""
        self.ledger = PlayoutLedger()
        self._responses: dict[str, ResponseView] = {}
        # Our recent requests by id: a late response carrying the tag of one already settled
        # on a guess (by elimination) is still recognised as its own.
        self._sent: dict[str, Request] = {}

    # -- questions -------------------------------------------------------------------------

    def may_speak(self, wait_for_user: bool = True) -> bool:
        """Nothing would overlap a new response of ours right now: no response active, none
        of our requests unanswered, no tool call of ours outstanding, and (unless
        ``wait_for_user`` is False) the user neither speaking nor waiting for a reply.
        Local playout does not matter: new audio queues behind what is still playing."""
        if self.active is not None or self.request is not None or self.awaiting_tool:
            return False
        return not wait_for_user or self.user is UserTurn.SILENT

    @property
    def playing(self) -> bool:
        """Audio was queued for the speaker and has not been reported played or dropped."""
        return self.ledger.pending

    @property
    def playout_position(self) -> int:
        """A marker for "everything queued so far" (see :meth:`played_through`)."""
        return self.ledger.position

    @property
    def protected(self) -> bool:
        """What plays (or is about to) is speech the user cannot cut off."""
        if self.request is not None and self.request.protected:
            return True
        for key in self.ledger.pending_keys():
            view = self._responses.get(key)
            if view is not None and view.request is not None and view.request.protected:
                return True
        active = self.active
        return active is not None and active.request is not None and active.request.protected

    def response(self, response_id: object) -> ResponseView | None:
        return self._responses.get(response_id) if isinstance(response_id, str) else None

    # -- our side ----------------------------------------------------------------------------

    def request_sent(self, request: Request) -> None:
        """We are about to send ``request``."""
        if self.request is not None:
            raise RuntimeError("a request of ours is already unanswered")
        self.request = request
        self._sent[request.id] = request
        while len(self._sent) > 16:
            del self._sent[next(iter(self._sent))]

    def request_lost(self, request: Request) -> None:
        """Sending ``request`` failed: the service never saw it."""
        if self.request is request:
            self.request = None

    def local(self, key: str, request: Request) -> ResponseView:
        """Audio we play ourselves (a prerecorded greeting), accounted like a response."""
        view = ResponseView(key, Owner.OURS, request, Proof.LOCAL, item_id=key, active=False)
        view.spoke = True
        view.bytes_per_second = self.bytes_per_second
        self._responses[key] = view
        return view

    # -- server events -----------------------------------------------------------------------

    def response_created(self, response_id: str, metadata: object) -> list[Fact]:
        if response_id in self._responses:
            return []  # a repeat: nothing new
        if self.active is not None and self.active.id == _UNKNOWN:
            self.active = None  # the response the busy error told of, or its successor
        if self.user is UserTurn.AWAITING_REPLY:
            self.user = UserTurn.SILENT
        request = self.request
        tag = metadata.get(TAG_KEY) if isinstance(metadata, Mapping) else None
        facts: list[Fact] = []
        earlier = self._sent.pop(tag, None) if isinstance(tag, str) else None
        if earlier is not None:
            # Ours for certain: the request it names (which may have been settled on a
            # guess already, when another response finished first).
            self.echoes_tags = True
            earlier.answered = True
            view = ResponseView(response_id, Owner.PRESUMED, earlier)
            self._prove(view, Proof.TAG, facts)
        elif self.awaiting_tool is not None and request is None and tag is None:
            view = ResponseView(response_id, Owner.PRESUMED, self.awaiting_tool.request)
            self._prove(view, Proof.CONTINUATION, facts)
        elif request is not None and tag is None and not self.echoes_tags:
            request.answered = True
            view = ResponseView(response_id, Owner.PRESUMED, request)
        else:
            view = ResponseView(response_id, Owner.THEIRS)
        if earlier is None:
            # Any other response ends the wait for the continuation; a late answer to another
            # request of ours (proven by its tag) is not the app's, so the wait goes on.
            self.awaiting_tool = None
        # Its audio comes in the format in force when it was created, even if a
        # session.updated changes the format before its first chunk arrives.
        view.bytes_per_second = self.bytes_per_second
        self._responses[response_id] = view
        self.active = view
        return facts

    def message_started(self, response_id: object, item_id: object) -> None:
        """``response.output_item.added`` with a message item."""
        view = self.response(response_id)
        if view is None:
            return
        if view.item_id is None and isinstance(item_id, str) and item_id:
            view.item_id = item_id
        view.spoke = True

    def function_call(self, response_id: object, *, done: bool) -> ResponseView | None:
        """A function call item of a response was added, or its arguments completed."""
        view = self.response(response_id)
        if view is not None:
            view.function_call = True
            view.calls_done += done
        return view

    def transcript(self, response_id: object, text: str, *, done: bool) -> None:
        """Transcript text of a response: a delta, or the whole of it when ``done``."""
        view = self.response(response_id)
        if view is not None:
            view.transcript = text if done else view.transcript + text
            view.spoke = True

    def audio(self, response_id: object, pcm: bytes) -> AudioVerdict:
        """An audio chunk of a response arrived: play it, hold it, or drop it."""
        view = self.response(response_id)
        if view is None:
            return AudioVerdict.PLAY  # an unknown response (its created was missed): just play
        view.spoke = True
        if not view.bytes_per_second:
            view.bytes_per_second = self.bytes_per_second
        view.received_bytes += len(pcm)
        if view.muted:
            return AudioVerdict.DROP
        if view.owner is Owner.PRESUMED and self._must_not_play_yet(view):
            view.held.append(pcm)
            return AudioVerdict.HOLD
        return AudioVerdict.PLAY

    def queued(self, response_id: str, pcm: bytes) -> None:
        """``pcm`` of the response was handed to the speaker."""
        self.ledger.add(response_id, pcm)
        view = self._responses.get(response_id)
        if view is not None:
            if not view.bytes_per_second:
                view.bytes_per_second = self.bytes_per_second
            view.queued_bytes += len(pcm)

    def response_done(self, response_id: str, status: str | None, reason: str | None) -> list[Fact]:
        facts: list[Fact] = []
        view = self._responses.get(response_id)
        if view is None:
            view = ResponseView(response_id, Owner.THEIRS, active=False)
        # The service runs one response at a time: after any response.done none is active.
        self.active = None
        view.active = False
        view.cancel_due = False
        if view.owner is Owner.PRESUMED:
            self._prove(view, Proof.ELIMINATION, facts)
        # A call in a response that was cut short is void (one whose arguments never
        # completed was never even announced): nothing waits for the app to answer it.
        completed = status in (None, "completed")
        if view.ours and view.calls_done and not view.spoke and completed and not view.muted:
            self.awaiting_tool = view
        if view.request is not None and self.request is view.request:
            self.request = None
        facts.append(ResponseEnded(view, status, reason))
        self._forget_finished()
        return facts

    def error(self, event_id: object, code: str | None, message: str) -> list[Fact]:
        """An error event naming one of our client events (others are ignored)."""
        request = self.request
        if request is None or event_id is None:
            return []
        if event_id == request.item_event_id:
            request.item_rejected = True
            view = self._response_of(request)
            if view is not None and view.ours:
                view.cancel_due = view.active and view.strong
                view.muted = True
            return []
        if event_id != request.id:
            return []
        view = self._response_of(request)
        facts: list[Fact] = []
        if view is not None and view.owner is Owner.PRESUMED:
            view.owner, view.request = Owner.THEIRS, None
            released, view.held = tuple(view.held), []
            view.truncate_due = view.cancel_due = False
            view.played_ms = None  # nobody cut it off: it is somebody else's, playing on
            facts.append(Refuted(view, released))
        elif view is not None:
            return []  # already proven ours: a contradictory late error changes nothing
        self.request = None
        request.answered = True
        if code == BUSY and self.active is None:
            # A response we never saw start is active (its response.created was missed or
            # is still on its way): the floor is taken until some response.done.
            self.active = ResponseView(_UNKNOWN, Owner.THEIRS)
        facts.append(Rejected(request, code, message))
        return facts

    def speech_started(self) -> None:
        """The user started speaking (``input_audio_buffer.speech_started``)."""
        self.user = UserTurn.SPEAKING
        request = self.request
        if request is not None and not request.answered and request.yield_to_user:
            request.user_spoke_after = True

    def speech_stopped(self, *, reply_expected: bool) -> None:
        """The user stopped; ``reply_expected`` when the service will answer the turn."""
        self.user = UserTurn.AWAITING_REPLY if reply_expected else UserTurn.SILENT

    def reply_not_coming(self) -> None:
        """The service did not start a reply to the user's turn in time: stop waiting."""
        if self.user is UserTurn.AWAITING_REPLY:
            self.user = UserTurn.SILENT

    # -- local playout -----------------------------------------------------------------------

    def cut(
        self, dropped: int, *, only: ResponseView | None = None
    ) -> tuple[list[Fact], list[tuple[str, bytes]]]:
        """The speaker was flushed with ``dropped`` bytes unplayed.

        Without ``only`` (a barge-in), every response with audio in the flushed queue, and
        the active one, is cut off and muted. With ``only``, just that response is; the
        others' unplayed audio is returned, in order, to be queued again. Facts tell how much
        of each of our responses the listener heard (once per response).
        """
        lost = self.ledger.drop(dropped)
        facts: list[Fact] = []
        requeue: list[tuple[str, bytes]] = []
        by_key = {d.key: d for d in lost}
        touched: list[ResponseView] = []
        for d in lost:
            view = self._responses.get(d.key)
            if only is not None and view is not only:
                requeue.append((d.key, d.audio))
            elif view is not None:
                touched.append(view)
        candidates = [only] if only is not None else [self.active]
        for view in candidates:
            if view is not None and view not in touched and view.id != _UNKNOWN:
                touched.append(view)
        for view in touched:
            dropped_here = by_key.get(view.id)
            view.queued_bytes -= dropped_here.lost if dropped_here is not None else 0
            if view is only and view.owner is Owner.PRESUMED:
                # Cut off on a guess that it is ours: keep its audio aside instead, so that
                # if it turns out to be somebody else's, all of it still plays.
                if dropped_here is not None:
                    view.held.insert(0, dropped_here.audio)
                if view.played_ms is None:
                    view.played_ms = view.ms(max(0, view.queued_bytes))
                    view.truncate_due = True
                continue
            view.muted = True
            view.held.clear()
            if view.played_ms is not None:
                continue  # cut off before: what was heard is never rewritten
            if not (view.active or view.id in by_key or view is only):
                continue  # it had finished and played in full before
            view.played_ms = view.ms(max(0, view.queued_bytes))
            if view.ours:
                facts.append(Heard(view, view.played_ms, self._may_truncate(view)))
            elif view.owner is Owner.PRESUMED:
                view.truncate_due = True
        for key, audio in requeue:
            self.queued(key, audio)
            view = self._responses.get(key)
            if view is not None:
                view.queued_bytes -= len(audio)  # queued again, not twice
        return facts, requeue

    def played_through(self, position: int) -> None:
        """Everything queued before ``position`` (a :attr:`playout_position`) has played."""
        self.ledger.played_through(position)
        self._forget_finished()

    # -- internals ---------------------------------------------------------------------------

    def _must_not_play_yet(self, view: ResponseView) -> bool:
        request = view.request
        return request is not None and (
            request.user_spoke_after or request.item_rejected or request.hold_until_proven
        )

    def _response_of(self, request: Request) -> ResponseView | None:
        for view in self._responses.values():
            if view.request is request:
                return view
        return None

    def _prove(self, view: ResponseView, proof: Proof, facts: list[Fact]) -> None:
        view.owner, view.proof = Owner.OURS, proof
        request = view.request
        released: tuple[bytes, ...] = ()
        if request is not None and (request.user_spoke_after or request.item_rejected):
            # It must not talk over the user (or speak without its instructions): stop it.
            view.muted = True
            view.held.clear()
            view.cancel_due = view.active and proof.strong
        elif view.held:
            released, view.held = tuple(view.held), []
        if request is not None and self.request is request:
            self.request = None
        facts.append(Attributed(view, proof, released))
        if view.truncate_due and view.played_ms is not None:
            view.truncate_due = False
            facts.append(Heard(view, view.played_ms, self._may_truncate(view)))

    @staticmethod
    def _may_truncate(view: ResponseView) -> bool:
        if view.truncated or not view.strong or view.proof is Proof.LOCAL:
            return False
        view.truncated = True
        return True

    def _forget_finished(self) -> None:
        # Keep what a barge-in or a late error may still need: active responses, ones with
        # audio still queued, the one awaiting a tool, and ours not yet proven.
        keep = set(self.ledger.pending_keys())
        for response_id in list(self._responses):
            view = self._responses[response_id]
            if (
                view.active
                or response_id in keep
                or view is self.awaiting_tool
                or view.owner is Owner.PRESUMED
            ):
                continue
            del self._responses[response_id]
