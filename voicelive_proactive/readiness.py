"""Before the session is ready: the greeting waits for the first ``session.updated``.

Part of the engine (no I/O). The service sends ``session.created`` at once, but the session is
ready (its settings applied) only with the first ``session.updated``, which follows the app's
own ``session.update``. An app that never sends one would wait in silence forever, so a
deadline after ``session.created`` logs a warning that says what to do (or what the service
refused in the meantime). The greeting is rendered ahead while it waits, off the path that
sends it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .agenda import Agenda
    from .core import Core

__all__ = ["READY_WARNING", "Readiness"]

log = logging.getLogger("voicelive_proactive")

#: The name of the deadline for the warning.
READY_WARNING: Final = "ready warning"


class Readiness:
    """The wait for ``session.updated``: the warning when it is long, and why it may be."""

    __slots__ = ("agenda", "core", "service_said")

    def __init__(self, core: Core, agenda: Agenda) -> None:
        self.core = core
        self.agenda = agenda
        self.service_said: str | None = None  # an error about no request of ours, pre-ready

    def created(self, now: float) -> None:
        """``session.created``: start the warning's clock and render the greeting ahead."""
        core = self.core
        if core.ready or READY_WARNING in core.deadlines:
            return
        if core.config.greet_when == "ready":
            core.deadlines.set(READY_WARNING, now + core.config.ready_warning_after)
            self.agenda.preparation.render_ahead(self.agenda.greeting, now)

    def ready(self) -> None:
        """The first ``session.updated`` arrived: no warning."""
        self.core.ready = True
        self.core.deadlines.cancel(READY_WARNING)

    def service_error(self, message: str) -> None:
        if not self.core.ready:
            self.service_said = message
            log.warning(
                "voicelive-proactive: the service refused something before the session was "
                "ready: %s (the greeting waits for session.updated)",
                message,
            )

    def warn(self) -> None:
        """The warning's deadline passed."""
        if self.core.ready or self.core.closed:
            return
        said = (
            f" The service said: {self.service_said}."
            if self.service_said is not None
            else " Send a session.update (for example `await conn.session.update(session={...})`),"
            ' or pass greet_when="manual" and call greet() yourself.'
        )
        log.warning(
            "voicelive-proactive: session.created arrived %s s ago but no session.updated has; "
            "the greeting waits for it.%s",
            self.core.config.ready_warning_after,
            said,
        )
