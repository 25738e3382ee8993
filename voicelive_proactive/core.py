"""What every part of the engine shares: its settings and state, and its collaborators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .actions import Outbox
from .deadlines import Deadlines
from .floor import Floor
from .hello import GreetWhen
from .interruptions import InterruptionPolicy
from .nudge import IdleNudge
from .override import SessionSettings
from .tools import ToolCalls

__all__ = ["Core", "EngineConfig"]


@dataclass(frozen=True)
class EngineConfig:
    """The session's options, as the engine needs them (validated by the session)."""

    interruptible: bool = True
    skip_if_user_spoke: bool = True
    truncate: bool = True
    echo_guard_ms: int = 0
    render_timeout: float | None = 5.0
    greet_when: GreetWhen = "ready"
    word_timestamps: bool = False
    interruptions: InterruptionPolicy | None = None
    can_pause: bool = False
    """The audio backend can pause (so an :class:`InterruptionPolicy` applies)."""
    nudge: IdleNudge | None = None
    nudge_alternatives: tuple[Any, ...] = ()
    resume_alternatives: tuple[Any, ...] | None = None
    raise_errors: bool = False
    asks_guard: bool = True
    """The greeting asks a guard before it is sent (the app's, which others may ask too).
    False: the session has its own, which nobody else can ask, so its first answer is yes
    and the engine does not ask it."""
    reply_grace: float = 1.5
    """After the user stops, how long the service's reply may take to start before proactive
    speech stops waiting for it (create_response replies start within a few hundred ms)."""
    ready_warning_after: float = 5.0

    @property
    def paces_interruptions(self) -> bool:
        """User speech pauses our speech first (an interruption policy the audio can do)."""
        return self.interruptions is not None and self.can_pause

    @property
    def needs_settings_first(self) -> bool:
        """The greeting depends on the app's session settings, so a ``session.updated`` is
        read before the greeting goes out (in every other case, after)."""
        return bool(
            not self.interruptible
            or self.echo_guard_ms
            or self.paces_interruptions
            or not isinstance(self.greet_when, str)
        )


def _identity(state: Any) -> Any:
    return state


@dataclass(eq=False)
class Core:
    """The engine's shared state: what both the speech agenda and the event handlers read."""

    config: EngineConfig
    ids: Iterator[str]
    make_handle: Callable[[Any], Any] = _identity
    out: Outbox = field(default_factory=Outbox)
    floor: Floor = field(default_factory=Floor)
    tools: ToolCalls = field(default_factory=ToolCalls)
    deadlines: Deadlines = field(default_factory=Deadlines)
    settings: SessionSettings = field(init=False)
    ready: bool = False
    closed: bool = False
    link_down: bool = False
    """A send failed, or the connection ended: nothing more goes out."""
    link_lost: str | None = None
    """Why the connection ended (set once it has): speech said now fails at once."""
    user_spoke: bool = False
    """The user has spoken at some point in this session."""
    session_id: str | None = None
    formats: tuple[Any, Any] | None = None
    """The negotiated (output, input) ``AudioFormat``s, once known."""

    def __post_init__(self) -> None:
        self.settings = SessionSettings(self.ids, word_timestamps=self.config.word_timestamps)
