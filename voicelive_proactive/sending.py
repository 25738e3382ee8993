"""The wire: the engine's events go out in its order, one sender at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .actions import Send

__all__ = ["Sender"]

log = logging.getLogger("voicelive_proactive")


class Sender:
    """Puts queued :class:`~voicelive_proactive.actions.Send` actions on the connection.

    Whichever task flushes, events leave in the order they were queued (one list); a task
    that finds another one sending waits for it to finish, so two sends never interleave.
    """

    __slots__ = ("_idle", "_send", "_sending", "failed", "wire")

    def __init__(
        self,
        send: Callable[[Any], Awaitable[None]],
        failed: Callable[[Send, Exception], None],
    ) -> None:
        self.wire: list[Send] = []  # a few events at a time: a list (smaller than a deque)
        self.failed = failed
        """Told of each event that could not be sent (the connection is gone)."""
        self._send = send
        self._sending = False
        self._idle: asyncio.Event | None = None  # made when a second sender has to wait

    async def flush(self) -> None:
        """Send everything queued, in order."""
        # A flag rather than an asyncio.Lock: uncontended (nearly always) it costs one
        # attribute on the path that sends the greeting.
        while self._sending:
            idle = self._idle = self._idle or asyncio.Event()
            idle.clear()
            await idle.wait()
        self._sending = True
        try:
            wire, send = self.wire, self._send
            while wire:
                action = wire.pop(0)
                try:
                    await send(action.event)
                except Exception as exc:
                    log.warning(
                        "voicelive-proactive: could not send %s: %s", action.event["type"], exc
                    )
                    self.failed(action, exc)
        finally:
            self._sending = False
            if self._idle is not None:
                self._idle.set()
