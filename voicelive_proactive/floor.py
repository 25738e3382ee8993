"""Who holds the floor: the conversation's turn-taking state, with no I/O.

Server events go in; facts and decisions come out. :class:`Floor` answers the questions every
proactive decision depends on:

* may we start speaking now (:meth:`Floor.may_speak`)?
* is response R ours, not ours, or not known yet (:class:`Attributed`, :class:`Refuted`)?
* how much of each response did the listener hear before the user cut in
  (:meth:`Floor.barge_in`)?
* is the agent's audio still playing locally (:attr:`Floor.playing`)?

It never sends, sleeps or plays anything. :class:`~voicelive_proactive.ProactiveSession` feeds
it and acts on what it says, which keeps the rules in one place and lets tests drive every
order of events through it quickly.

Attribution, the subtle part. The service handles client events in order, one response at a
time. When server VAD starts a reply just before our ``response.create`` is processed, the
reply's ``response.created`` arrives first and the error for ours (busy) after it. So a
``response.created`` that arrives while our request is unanswered is only *presumed* ours:

* **proven ours** when the response carries our request's tag in ``metadata`` (the service
  echoes ``response.metadata``), when its transcript is exactly the text we asked it to speak,
  or, failing both, when it finishes with no error naming our request (by elimination);
* **refuted** when an error names our request after all: the response was somebody else's.

Cancelling, truncating and discarding audio all wait for proof: nothing is done to a response
unless the floor knows it is ours.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "BUSY",
    "TAG_KEY",
    "Attributed",
    "AudioVerdict",
    "Fact",
    "Floor",
    "FunctionCalled",
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

    OURS = "ours"
    PRESUMED = "presumed"
    THEIRS = "theirs"


class Proof(enum.Enum):
    """How a response was shown to be ours."""

    TAG = "metadata tag"
    TRANSCRIPT = "transcript"
    ELIMINATION = "finished with no error for our request"
    CONTINUATION = "follows our response's function call"

    @property
    def strong(self) -> bool:
        """Certain, whatever the network does. Only a strong proof licenses cancelling or
        truncating a response. Elimination assumes the error for a request that lost a race
        arrives before the response that beat it finishes; a continuation assumes nothing
        started between the tool call and the app's answer. Both are almost always true, so
        they settle the outcome, but the session never acts on a response because of them."""
        return self in (Proof.TAG, Proof.TRANSCRIPT)


class UserTurn(enum.Enum):
    """What the user is doing."""

    SILENT = "silent"
    SPEAKING = "speaking"
    AWAITING_REPLY = "awaiting reply"
    """The user finished a turn that the service will answer (``create_response``)."""


class AudioVerdict(enum.Enum):
    """What to do with an audio chunk of a response."""

    PLAY = "play"
    HOLD = "hold"
    """Keep it aside: the response may be ours and the user spoke after we asked for it."""
    DROP = "drop"
    """A late chunk of a response the user interrupted, or of our own cancelled one."""


@dataclass(eq=False, slots=True)
class Request:
    """One ``response.create`` of ours, from sending until the service answers it."""

    id: str
    """The ``event_id`` of the ``response.create`` (also its metadata tag)."""
    owner: Hashable
    """Whose request it is (the session's speech); the floor only hands it back."""
    spoken_text: str | None = None
    """For pre-generated speech: the exact text the service will say (a proof of ownership)."""
    item_event_id: str | None = None
    """The ``event_id`` of a ``conversation.item.create`` sent just before, if any."""
    protected: bool = False
    """The user cannot cut it off (``interruptible=False``): barge-in leaves it playing."""
    yield_to_user: bool = True
    """If the user starts speaking before its response starts, it must not talk over them."""
    user_spoke_after: bool = False
    """The user started speaking after it was sent: its response must not talk over them."""
    item_rejected: bool = False
    """The service rejected the item sent with it; its response must not reach the user."""
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
    muted: bool = False
    """Its audio no longer reaches the speaker (interrupted or cancelled)."""
    held: list[bytes] = field(default_factory=list)
    """Audio kept aside while it is only presumed ours (see :class:`AudioVerdict`)."""
    transcript: str = ""
    queued_bytes: int = 0
    """Audio of it handed to the speaker."""
    played_ms: int | None = None
    """How much the listener heard before a barge-in cut it off."""
    truncate_due: bool = False
    """Cut off by the user: truncate it to ``played_ms`` once it is proven ours."""
    cancel_due: bool = False

    @property
    def ours(self) -> bool:
        return self.owner is Owner.OURS


# -- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attributed:
    """The response is proven ours (it belongs to ``response.request.owner``)."""

    response: ResponseView
    proof: Proof


@dataclass(frozen=True)
class Refuted:
    """A response presumed ours was not: the service rejected our request after all."""

    response: ResponseView
    released: tuple[bytes, ...]
    """Audio held back while it was presumed ours; it is somebody else's, so play it."""


@dataclass(frozen=True)
class Rejected:
    """The service answered our request with an error; no response of ours will come."""

    request: Request
    code: str | None
    message: str

    @property
    def busy(self) -> bool:
        """Another response was active: the same speech may simply be sent again later."""
        return self.code == BUSY


@dataclass(frozen=True)
class FunctionCalled:
    """Our response asks the app to run a tool before it can speak."""

    response: ResponseView
    call_id: str | None
    name: str | None
    arguments: str | None


@dataclass(frozen=True)
class ResponseEnded:
    """``response.done`` for a response (ours or not)."""

    response: ResponseView
    status: str | None
    reason: str | None


@dataclass(frozen=True)
class Heard:
    """The user cut in: the listener heard ``played_ms`` of our ``response``."""

    response: ResponseView
    played_ms: int
    truncate: bool
    """The response is certainly ours (a strong proof), so its item may be truncated."""


Fact = Attributed | Refuted | Rejected | FunctionCalled | ResponseEnded | Heard


class _Ledger:
    """The audio queued for the speaker since it was last known to be silent, per response.

    Barge-in returns how many queued bytes were dropped; everything queued before them was
    heard, in order, which tells how much of each response the listener heard.
    """

    __slots__ = ("queued", "segments")

    def __init__(self) -> None:
        self.segments: deque[list[Any]] = deque()  # [response_id, bytes]
        self.queued = 0  # bytes queued in total, ever; playout markers are positions in it

    def add(self, response_id: str, n: int) -> None:
        segments = self.segments
        if segments and segments[-1][0] == response_id:
            segments[-1][1] += n
        else:
            segments.append([response_id, n])
        self.queued += n

    def pending(self) -> bool:
        return bool(self.segments)

    def played_through(self, position: int) -> None:
        """Everything queued before ``position`` has played."""
        pending_start = self.queued - sum(n for _, n in self.segments)
        while self.segments and pending_start + self.segments[0][1] <= position:
            pending_start += self.segments.popleft()[1]
        if self.segments and pending_start < position:
            self.segments[0][1] -= position - pending_start

    def drop(self, dropped: int) -> dict[str, int]:
        """The queue was flushed with ``dropped`` bytes unplayed: bytes dropped, per response.

        The dropped bytes are the newest ones, so they are taken from the back of the queue.
        """
        lost: dict[str, int] = {}
        remaining = dropped
        for response_id, n in reversed(self.segments):
            take = min(n, remaining)
            if take:
                lost[response_id] = lost.get(response_id, 0) + take
            remaining -= take
        self.segments.clear()
        return lost


class Floor:
    """The conversation's floor: responses, our requests, the user, and local playout.

    ``bytes_per_second`` is the output audio's byte rate (from the negotiated format), used to
    turn bytes heard into milliseconds.
    """

    def __init__(self, *, bytes_per_second: int = 48_000) -> None:
        self.bytes_per_second = bytes_per_second
        self.request: Request | None = None
        self.active: ResponseView | None = None
        self.user = UserTurn.SILENT
        self.awaiting_tool: ResponseView | None = None
        """Our response ended in a function call; the app's answer has not started yet."""
        self.echoes_tags = False
        """The service has echoed one of our tags, so an untagged response is not ours."""
        self._responses: dict[str, ResponseView] = {}
        self._ledger = _Ledger()

    # -- questions -------------------------------------------------------------------------

    def may_speak(self, wait_for_user: bool = True) -> bool:
        """Nothing would overlap a new response of ours right now.

        No response is active, none of our requests is unanswered, no tool call of ours is
        outstanding, and (unless ``wait_for_user`` is False) the user is neither speaking nor
        waiting for the service's reply. Local playout does not matter here: new audio
        queues behind what is still playing, so nothing overlaps.
        """
        if self.active is not None or self.request is not None or self.awaiting_tool:
            return False
        return not wait_for_user or self.user is UserTurn.SILENT

    @property
    def playing(self) -> bool:
        """Audio was queued for the speaker and has not been reported played or dropped."""
        return self._ledger.pending()

    @property
    def playout_position(self) -> int:
        """A marker for "everything queued so far" (see :meth:`played_through`)."""
        return self._ledger.queued

    @property
    def protected(self) -> bool:
        """What plays (or is about to) is speech the user cannot cut off."""
        if self.request is not None and self.request.protected:
            return True
        for response_id, _ in self._ledger.segments:
            view = self._responses.get(response_id)
            if view is not None and view.request is not None and view.request.protected:
                return True
        active = self.active
        return active is not None and active.request is not None and active.request.protected

    def last_heard(self, view: ResponseView) -> bool:
        """Nothing queued for the speaker comes after ``view``'s audio."""
        segments = self._ledger.segments
        return not segments or segments[-1][0] == view.id

    def response(self, response_id: object) -> ResponseView | None:
        return self._responses.get(response_id) if isinstance(response_id, str) else None

    # -- our side ----------------------------------------------------------------------------

    def request_sent(self, request: Request) -> None:
        """We are about to send ``request``; call before awaiting the send."""
        if self.request is not None:
            raise RuntimeError("a request of ours is already unanswered")
        self.request = request

    def request_lost(self, request: Request) -> None:
        """Sending ``request`` failed: the service never saw it."""
        if self.request is request:
            self.request = None

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
        if request is not None and tag == request.id:
            self.echoes_tags = True
            view = self._attribute(response_id, request, Proof.TAG, facts)
        elif self.awaiting_tool is not None and request is None:
            view = self._continue(response_id, self.awaiting_tool, facts)
        elif request is not None and tag is None and not self.echoes_tags:
            request.answered = True
            view = ResponseView(response_id, Owner.PRESUMED, request)
        else:
            view = ResponseView(response_id, Owner.THEIRS)
        self.awaiting_tool = None
        self._responses[response_id] = view
        self.active = view
        return facts

    def message_started(self, response_id: str, item_id: str | None) -> None:
        """``response.output_item.added`` with a message item."""
        view = self._responses.get(response_id)
        if view is None:
            return
        if view.item_id is None and item_id:
            view.item_id = item_id
        view.spoke = True

    def function_call(
        self, response_id: str, call_id: str | None, name: str | None, arguments: str | None
    ) -> list[Fact]:
        """A function call item of a response (added, or its arguments done)."""
        view = self._responses.get(response_id)
        if view is None:
            return []
        first = not view.function_call
        view.function_call = True
        if view.ours and (first or arguments is not None):
            return [FunctionCalled(view, call_id, name, arguments)]
        return []

    def transcript(self, response_id: str, text: str, *, done: bool) -> list[Fact]:
        """Transcript text of a response: a delta, or the whole of it when ``done``."""
        view = self._responses.get(response_id)
        if view is None:
            return []
        view.transcript = text if done else view.transcript + text
        view.spoke = True
        facts: list[Fact] = []
        request = view.request
        if (
            view.owner is Owner.PRESUMED
            and request is not None
            and request.spoken_text is not None
            and view.transcript.strip() == request.spoken_text.strip()
        ):
            self._prove(view, Proof.TRANSCRIPT, facts)
        return facts

    def audio(self, response_id: str, pcm: bytes) -> AudioVerdict:
        """An audio chunk of a response arrived: play it, hold it, or drop it."""
        view = self._responses.get(response_id)
        if view is None:
            return AudioVerdict.PLAY  # an unknown response (its created was missed): just play
        view.spoke = True
        if view.muted:
            return AudioVerdict.DROP
        if view.owner is Owner.PRESUMED and self._must_not_play_yet(view):
            view.held.append(pcm)
            return AudioVerdict.HOLD
        return AudioVerdict.PLAY

    def queued(self, response_id: str, n_bytes: int) -> None:
        """``n_bytes`` of the response were handed to the speaker."""
        self._ledger.add(response_id, n_bytes)
        view = self._responses.get(response_id)
        if view is not None:
            view.queued_bytes += n_bytes

    def response_done(self, response_id: str, status: str | None, reason: str | None) -> list[Fact]:
        facts: list[Fact] = []
        view = self._responses.get(response_id)
        if view is None:
            view = ResponseView(response_id, Owner.THEIRS, active=False)
        # The service runs one response at a time: after any response.done none is active.
        self.active = None
        view.active = False
        if view.owner is Owner.PRESUMED:
            self._prove(view, Proof.ELIMINATION, facts)
        if view.ours and view.function_call and not view.spoke:
            self.awaiting_tool = view
        if view.request is not None and self.request is view.request:
            self.request = None
        facts.append(ResponseEnded(view, status, reason))
        self._forget_finished()
        return facts

    def error(self, event_id: object, code: str | None, message: str) -> list[Fact]:
        """An error event naming one of our client events (others are ignored)."""
        request = self.request
        if request is None:
            return []  # nothing of ours is unanswered or unproven: not about a request
        if event_id is None:
            return []  # an error about no client event in particular
        if event_id == request.item_event_id:
            request.item_rejected = True
            view = self._response_of(request)
            if view is not None and view.ours:
                view.cancel_due = view.active
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
            facts.append(Refuted(view, released))
        elif view is not None:
            return []  # already proven ours: a contradictory late error changes nothing
        if self.request is request:
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

    def barge_in(self, dropped: int) -> list[Fact]:
        """The speaker was flushed with ``dropped`` bytes unplayed (the user cut in).

        Every response with audio in the flushed queue, and the active one, is muted: its late
        chunks are dropped. For ours, returns how much the listener heard; a response still
        only presumed ours is truncated once it is proven.
        """
        lost = self._ledger.drop(dropped)
        facts: list[Fact] = []
        touched = [self._responses[r] for r in lost if r in self._responses]
        if self.active is not None and self.active not in touched:
            touched.append(self.active)
        for view in touched:
            view.muted = True
            view.held.clear()
            if not (view.active or lost.get(view.id)):
                continue  # it had finished and played in full before the user spoke
            played = max(0, view.queued_bytes - lost.get(view.id, 0))
            view.played_ms = played * 1000 // self.bytes_per_second
            if view.ours:
                facts.append(Heard(view, view.played_ms, self._strong(view)))
            elif view.owner is Owner.PRESUMED:
                view.truncate_due = True
        return facts

    def played_through(self, position: int) -> None:
        """Everything queued before ``position`` (a :attr:`playout_position`) has played."""
        self._ledger.played_through(position)
        self._forget_finished()

    # -- internals ---------------------------------------------------------------------------

    def _must_not_play_yet(self, view: ResponseView) -> bool:
        request = view.request
        return request is not None and (request.user_spoke_after or request.item_rejected)

    def _response_of(self, request: Request) -> ResponseView | None:
        for view in self._responses.values():
            if view.request is request:
                return view
        return None

    def _attribute(
        self, response_id: str, request: Request, proof: Proof, facts: list[Fact]
    ) -> ResponseView:
        request.answered = True
        view = ResponseView(response_id, Owner.PRESUMED, request)
        self._prove(view, proof, facts)
        return view

    def _continue(
        self, response_id: str, previous: ResponseView, facts: list[Fact]
    ) -> ResponseView:
        view = ResponseView(response_id, Owner.PRESUMED, previous.request)
        self._prove(view, Proof.CONTINUATION, facts)
        return view

    def _prove(self, view: ResponseView, proof: Proof, facts: list[Fact]) -> None:
        view.owner, view.proof = Owner.OURS, proof
        request = view.request
        if request is not None and (request.user_spoke_after or request.item_rejected):
            # It must not talk over the user (or speak without its instructions): stop it.
            view.muted = True
            view.held.clear()
            view.cancel_due = view.active and proof.strong
        if request is not None and self.request is request:
            self.request = None
        facts.append(Attributed(view, proof))
        if view.truncate_due and view.played_ms is not None:
            view.truncate_due = False
            facts.append(Heard(view, view.played_ms, proof.strong))

    @staticmethod
    def _strong(view: ResponseView) -> bool:
        return view.proof is not None and view.proof.strong

    def _forget_finished(self) -> None:
        # Keep what a barge-in or a late error may still need: active responses, ones with
        # audio still queued, the one awaiting a tool, and ours not yet proven.
        keep = {r for r, _ in self._ledger.segments}
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
