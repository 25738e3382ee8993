"""The app's turn detection, and the ``interrupt_response`` override for speech the user
cannot cut off.

Before speech the user cannot cut off, the service is told ``interrupt_response: false`` (so
server VAD does not cancel it) with the app's other turn detection settings sent along, since
the service may replace the object rather than merge it. Once that speech has finished
playing, the app's own setting is sent back. The ``session.updated`` events these changes
cause are recognised as ours and teach nothing about the app's settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .wire import session_update_event

__all__ = ["TurnDetection"]


class TurnDetection:
    """What the app configured, and whether the session has overridden it."""

    def __init__(self, event_ids: Iterator[str]) -> None:
        self._ids = event_ids
        self._source: Mapping[str, Any] | None = None  # the latest session the app configured
        self._app: dict[str, Any] | None = None
        self.overriding = False
        """The service was told ``interrupt_response: false`` and not told back yet."""
        self._echoes = 0  # our session.update events whose session.updated is still to come

    @property
    def app(self) -> dict[str, Any] | None:
        """The app's ``turn_detection`` (``None``: VAD off, or not known yet)."""
        source = self._source
        if source is not None:  # read lazily: copying the SDK's model costs microseconds
            self._source = None
            if "turn_detection" in source:
                detection = source.get("turn_detection")
                self._app = dict(detection) if isinstance(detection, Mapping) else None
        return self._app

    @property
    def reply_expected(self) -> bool:
        """The service answers a user's turn by itself (VAD with ``create_response``)."""
        return self.app is not None and self.app.get("create_response") is not False

    def learn(self, session: Mapping[str, Any]) -> None:
        """Read a ``session.updated``: the app's setting, unless it echoes our own change."""
        if self._echoes:
            self._echoes -= 1
            return
        self.app  # noqa: B018 (fold in the previous session before keeping this one)
        self._source = session

    def forbid(self) -> dict[str, Any] | None:
        """The ``session.update`` that stops user speech from cancelling responses, if needed."""
        app = self.app
        if self.overriding or app is None or app.get("interrupt_response") is False:
            return None
        self.overriding = True
        self._echoes += 1
        return session_update_event(next(self._ids), {**app, "interrupt_response": False})

    def restore(self) -> dict[str, Any] | None:
        """The ``session.update`` that gives the app its own setting back, if overridden."""
        if not self.overriding:
            return None
        self.overriding = False
        if self.app is None:
            return None
        self._echoes += 1
        return session_update_event(next(self._ids), self.app)
