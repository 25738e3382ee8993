"""The life of one proactive speech, as a table of transitions, with no I/O.

A speech (the greeting, a ``say()`` or a nudge) moves through these phases::

    WAITING ──due──> QUEUED ──prepare──> PREPARING ──prepared──> READY ──send──> REQUESTED
                        ^                    │ retry (next alternative)             │
                        └──── rejected ──────┴──────────────────────────────────────┤
    READY <── busy / resend (the user spoke first) ──────────────────────────────────┤
    REQUESTED ──attributed──> SPEAKING ──tool call──> AWAITING_TOOL ──continued──> SPEAKING
    SPEAKING ──service done──> PLAYING ──played out──> DONE
    READY ──play local──> PLAYING                      (a prerecorded greeting)
    any phase but DONE ──end (skip, fail, cancel, expire, close)──> DONE

As in h11's ``_state.py``, the transitions are data (:data:`TRANSITIONS`): :func:`move` applies
one, and a move that is not in the table is a bug, raised as :class:`IllegalTransition` with
the speech, the phase and the trigger.

:class:`SpeechState` is what the engine knows about a speech; the public
:class:`~voicelive_proactive.speech.Speech` handle reads its outcome and metrics.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from .outcome import GreetingMetrics, GreetingOutcome, GreetingStatus

if TYPE_CHECKING:
    from .floor import Request, ResponseView
    from .greetings import Greeting
    from .words import WordTiming

__all__ = [
    "TRANSITIONS",
    "IfUserSpeaking",
    "IllegalTransition",
    "Phase",
    "SpeechKind",
    "SpeechState",
    "Trigger",
    "move",
]

#: What a speech does when the user is talking (or waiting for the service's reply) at the
#: moment it is due: ``"wait"`` until the user's turn is over and answered, ``"skip"`` it, or
#: ``"speak"`` anyway.
IfUserSpeaking: TypeAlias = Literal["wait", "skip", "speak"]

_numbers = itertools.count(1)


class SpeechKind(str, enum.Enum):
    """Why the agent speaks."""

    GREETING = "greeting"
    SAY = "say"
    NUDGE = "nudge"


class Phase(enum.Enum):
    """Where a speech is in its life (the public view is its ``outcome``)."""

    # Members are singletons compared by identity: hash them so too (a C-level hash; an
    # Enum hashes its name in Python, and the engine looks these up on every event).
    __hash__ = object.__hash__

    WAITING = "waiting"  # the greeting before it is due
    QUEUED = "queued"  # waiting for its turn
    PREPARING = "preparing"  # the guard or a strategy is working on it (user code, off the path)
    READY = "ready"  # rendered; waiting for the floor
    REQUESTED = "requested"  # response.create sent; its response is not known to be ours yet
    SPEAKING = "speaking"  # its response is proven ours and active
    AWAITING_TOOL = "awaiting tool"  # its response called a tool; the app answers it
    PLAYING = "playing"  # done on the service (or local audio): its audio may still play
    DONE = "done"  # settled: nothing about it changes any more


class Trigger(enum.Enum):
    """What moves a speech from one phase to the next."""

    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)

    DUE = "due"
    PREPARE = "prepare"
    PREPARED = "prepared"
    RETRY = "retry"
    SEND = "send"
    SEND_AT_ONCE = "send at once"
    PLAY_LOCAL = "play local"
    BUSY = "busy"
    RESEND = "resend"
    REJECTED = "rejected"
    ATTRIBUTED = "attributed"
    TOOL_CALL = "tool call"
    CONTINUED = "continued"
    SERVICE_DONE = "service done"
    PLAYED_OUT = "played out"
    END = "end"


_P, _T = Phase, Trigger

#: ``(phase, trigger) -> next phase``. Anything else is a bug.
TRANSITIONS: Final[dict[tuple[Phase, Trigger], Phase]] = {
    (_P.WAITING, _T.DUE): _P.QUEUED,
    (_P.QUEUED, _T.PREPARE): _P.PREPARING,
    (_P.PREPARING, _T.RETRY): _P.PREPARING,
    (_P.PREPARING, _T.PREPARED): _P.READY,
    (_P.READY, _T.RETRY): _P.QUEUED,  # the rendering is stale (new context, a resume)
    (_P.READY, _T.SEND): _P.REQUESTED,
    # The greeting rendered ahead, due with the first session.updated, nothing in its way
    # and no guard to ask: it goes straight out (Engine._greet_first).
    (_P.WAITING, _T.SEND_AT_ONCE): _P.REQUESTED,
    (_P.READY, _T.PLAY_LOCAL): _P.PLAYING,
    (_P.REQUESTED, _T.BUSY): _P.READY,
    (_P.REQUESTED, _T.RESEND): _P.READY,
    (_P.REQUESTED, _T.REJECTED): _P.QUEUED,
    (_P.REQUESTED, _T.ATTRIBUTED): _P.SPEAKING,
    (_P.SPEAKING, _T.TOOL_CALL): _P.AWAITING_TOOL,
    (_P.SPEAKING, _T.REJECTED): _P.QUEUED,
    (_P.SPEAKING, _T.RESEND): _P.READY,
    (_P.SPEAKING, _T.SERVICE_DONE): _P.PLAYING,
    (_P.AWAITING_TOOL, _T.CONTINUED): _P.SPEAKING,
    (_P.AWAITING_TOOL, _T.SERVICE_DONE): _P.PLAYING,  # no continuation came: it is over
    (_P.PLAYING, _T.PLAYED_OUT): _P.DONE,
    **{(phase, _T.END): _P.DONE for phase in Phase if phase is not _P.DONE},
}

#: Phases in which nothing has been sent for the speech yet (expiry and replacement apply).
NOT_STARTED: Final = frozenset({_P.WAITING, _P.QUEUED, _P.PREPARING, _P.READY})
#: Phases in which the service has (or is about to have) a response of the speech.
ON_THE_SERVICE: Final = frozenset({_P.REQUESTED, _P.SPEAKING, _P.AWAITING_TOOL})


class IllegalTransition(RuntimeError):
    """A speech was moved in a way the lifecycle does not allow (a bug in the library)."""


@dataclass(eq=False, slots=True)
class SpeechState:
    """Everything the engine knows about one speech."""

    kind: SpeechKind
    alternatives: tuple[Any, ...]
    """The strategies to try, in order (opaque here: the shell renders them)."""
    interruptible: bool = True
    if_user_speaking: IfUserSpeaking = "wait"
    key: str | None = None
    expires_at: float | None = None
    number: int = field(default_factory=lambda: next(_numbers))
    phase: Phase = Phase.QUEUED
    handle: Any = None
    """The public :class:`~voicelive_proactive.speech.Speech` (or whatever the shell uses)."""

    next_alternative: int = 0
    errors: list[BaseException] = field(default_factory=list)
    needs_guard: bool = False
    token: int = 0
    """The current preparation's token; a late answer for another token is ignored."""
    rendered: Greeting | None = None
    rendered_by: Any = None
    ahead: tuple[Request, list[dict[str, Any]]] | None = None
    """Its request and wire events, built before they were needed."""
    request: Request | None = None
    response: ResponseView | None = None
    cancelled: bool = False
    guarding: bool = False
    """Its preparation is asking the guard (not rendering)."""
    guard_acquired: bool = False
    """The guard said yes to it (the greeting): given back if it fails unheard."""
    finished: bool = False
    """Its waiters were woken (the service is done with it)."""
    cut_short: bool = False
    """Its response ended early without a cut here (the connection ended mid-way)."""
    protected: bool = False
    """The user cannot cut it off right now (``interruptible=False``, or its echo guard)."""
    started: bool = False
    echo_started: bool = False
    """Its echo guard started counting (from its first sample heard)."""
    first_position: int | None = None
    words: list[WordTiming] = field(default_factory=list)
    outcome: GreetingOutcome = field(default_factory=GreetingOutcome)
    metrics: GreetingMetrics = field(default_factory=GreetingMetrics)

    @property
    def noun(self) -> str:
        """How messages name it: "the greeting", "the nudge" or "the speech"."""
        return "the speech" if self.kind is SpeechKind.SAY else f"the {self.kind.value}"

    @property
    def over(self) -> bool:
        """The service is done with it (``wait()`` returns): playing out, or settled."""
        return self.phase is Phase.PLAYING or self.phase is Phase.DONE

    def update(self, **changes: Any) -> None:
        """Move the outcome forward; a settled outcome, or a final status, never changes.

        Readers on other threads see either the old or the new outcome object, never a
        half-made one.
        """
        current = self.outcome
        if current.settled:
            return
        if current.status is not GreetingStatus.PENDING:
            changes.pop("status", None)
        if not changes:
            return
        # A field-for-field copy: dataclasses.replace() re-runs __init__ and costs several
        # microseconds on the path that sends the greeting.
        outcome = object.__new__(GreetingOutcome)
        fields = outcome.__dict__
        fields.update(current.__dict__)
        fields.update(changes)
        if fields["status"] in (GreetingStatus.SKIPPED, GreetingStatus.FAILED):
            fields["settled"] = True
        self.outcome = outcome

    def __repr__(self) -> str:
        return f"<Speech #{self.number} {self.kind.value} {self.outcome.status.value}>"


def move(speech: SpeechState, trigger: Trigger) -> Phase:
    """Apply ``trigger`` to ``speech`` by :data:`TRANSITIONS`; return the new phase."""
    try:
        phase = TRANSITIONS[speech.phase, trigger]
    except KeyError:
        raise IllegalTransition(
            f"{speech!r} cannot take {trigger.value!r} in phase {speech.phase.value!r}"
        ) from None
    speech.phase = phase
    return phase
