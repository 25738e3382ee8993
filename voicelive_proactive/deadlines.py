"""Deadlines the engine asks for: named points on the session's clock, with no clock here.

The engine says *when* (``set(name, at)``); the shell arms one timer for :meth:`next` and
hands the time back when it fires, and the engine takes what is :meth:`due`. aioquic's
``get_timer()``/``handle_timer(now)`` are the model.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["Deadlines"]


class Deadlines:
    """Named deadlines (seconds on the session's clock); setting a name again moves it."""

    __slots__ = ("_at", "version")

    def __init__(self) -> None:
        self._at: dict[Hashable, float] = {}
        self.version = 0
        """Changes whenever a deadline is set, moved or removed (the shell re-arms then)."""

    def set(self, name: Hashable, at: float) -> None:
        self._at[name] = at
        self.version += 1

    def cancel(self, name: Hashable) -> None:
        if self._at.pop(name, None) is not None:
            self.version += 1

    def __contains__(self, name: Hashable) -> bool:
        return name in self._at

    def get(self, name: Hashable) -> float | None:
        return self._at.get(name)

    def next(self) -> float | None:
        """The earliest deadline, or ``None``."""
        return min(self._at.values()) if self._at else None

    def due(self, now: float) -> list[Hashable]:
        """The names whose time has come, earliest first; they are removed."""
        ready = sorted((at, i, name) for i, (name, at) in enumerate(self._at.items()) if at <= now)
        for _, _, name in ready:
            del self._at[name]
        if ready:
            self.version += 1
        return [name for _, _, name in ready]

    def clear(self) -> None:
        self._at.clear()
        self.version += 1

    def __len__(self) -> int:
        return len(self._at)
