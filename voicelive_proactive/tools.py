"""Tool calls in flight, the service's own and the library's, with no I/O.

A response that ends in a completed function call hands the turn to the app: it runs the
tool, sends a ``function_call_output`` item and then its own ``response.create``. Until that
response starts, a ``response.create`` of ours would collide with the app's (the service
answers the second with ``conversation_already_has_active_response``), so proactive speech
waits. A call the user cut off before its arguments were complete is void: nobody was asked
to answer it, so nothing waits for it.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["ToolCalls", "ToolState"]


class ToolState(enum.Enum):
    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)
    IDLE = "idle"
    RUNNING = "running"
    """A completed function call awaits the app's answer."""
    ANSWERED = "answered"
    """The app's ``function_call_output`` arrived; its ``response.create`` should follow."""


class _Event(enum.Enum):
    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)
    CALLED = "called"
    OUTPUT = "output"
    RESPONSE = "response"
    NO_RESPONSE = "no response"


_S, _E = ToolState, _Event
_TRANSITIONS: Final[dict[tuple[ToolState, _Event], ToolState]] = {
    (_S.IDLE, _E.CALLED): _S.RUNNING,
    (_S.RUNNING, _E.CALLED): _S.RUNNING,
    (_S.ANSWERED, _E.CALLED): _S.RUNNING,
    (_S.RUNNING, _E.OUTPUT): _S.ANSWERED,
    (_S.ANSWERED, _E.OUTPUT): _S.ANSWERED,
    (_S.IDLE, _E.OUTPUT): _S.ANSWERED,  # the app answered a call we did not see complete
    (_S.IDLE, _E.RESPONSE): _S.IDLE,
    (_S.RUNNING, _E.RESPONSE): _S.IDLE,
    (_S.ANSWERED, _E.RESPONSE): _S.IDLE,
    (_S.ANSWERED, _E.NO_RESPONSE): _S.IDLE,
    (_S.RUNNING, _E.NO_RESPONSE): _S.RUNNING,  # the app is still running the tool
    (_S.IDLE, _E.NO_RESPONSE): _S.IDLE,
}


class ToolCalls:
    """Whether the app is answering a tool call, so that proactive speech must wait."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = ToolState.IDLE

    @property
    def blocking(self) -> bool:
        return self.state is not ToolState.IDLE

    def _go(self, event: _Event) -> None:
        self.state = _TRANSITIONS[self.state, event]

    def response_ended(self, completed_calls: int) -> None:
        """A response ended having completed ``completed_calls`` function calls."""
        if completed_calls:
            self._go(_Event.CALLED)

    def output_added(self) -> None:
        """A ``function_call_output`` item was added to the conversation (the app's answer)."""
        self._go(_Event.OUTPUT)

    def response_started(self) -> None:
        """Any response started: the app's answer, or the service's own turn."""
        self._go(_Event.RESPONSE)

    def reply_not_coming(self) -> None:
        """The app's ``response.create`` did not follow its answer in time."""
        self._go(_Event.NO_RESPONSE)
