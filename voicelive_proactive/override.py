"""The app's session settings, and the library's temporary changes to them, with no I/O.

Some proactive speech needs the service to behave differently for a while:

* speech the user cannot cut off needs ``turn_detection.interrupt_response: false``, so that
  server VAD does not cancel it;
* greeting after the callee's "hello" needs ``create_response: false``, so that the service
  does not answer the hello itself;
* ``word_timestamps=True`` needs ``output_audio_timestamp_types: ["word"]``.

A change to ``turn_detection`` is sent as the app's whole ``turn_detection`` with the
library's fields on top (the service may replace the object rather than merge it), and the
app's own object goes back once nothing needs the change.

Which ``session.updated`` is the app's? Every ``session.update`` is answered, and the app may
send its own at any time, so echoes are told apart **by content**, never by counting: a
``turn_detection`` that matches what the library sent is the library's change in force;
anything else is the app's new setting, learned, with the library's change sent again on top
if it is still needed. The service answers in order, so only the oldest of the library's
updates still unanswered can be echoed next. A rejected change is forgotten, so the next
answer is not mistaken for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["SessionSettings"]


class SessionSettings:
    """What the app configured, what the library changes on top, and the events to send."""

    def __init__(self, event_ids: Iterator[str], *, word_timestamps: bool = False) -> None:
        self._ids = event_ids
        self.turn_detection: dict[str, Any] | None = None
        """The app's ``turn_detection`` (``None``: VAD off, or not known yet)."""
        self.known = False
        """A ``session.updated`` has said what the app's ``turn_detection`` is."""
        self._forced: dict[str, Any] = {}
        self._in_force: dict[str, Any] | None = None  # the turn_detection the library sent last
        # The turn_detection the service reported last: what it runs with once every update
        # sent before an error was answered (a rejected update leaves exactly this in place).
        self._reported: dict[str, Any] | None = None
        # (event_id, the turn_detection sent, whether it gave the app's own setting back)
        self._echoes: list[tuple[str, dict[str, Any], bool]] = []
        self._word_timestamps = word_timestamps
        self._timestamps_sent: str | None = None  # event_id of the update asking for them
        self._timestamp_sends = 0
        self._retries = 0
        self.retry: dict[str, Any] | None = None
        """A restore to send again (after the service refused one), taken by the engine."""

    # -- questions ------------------------------------------------------------------------------

    @property
    def reply_expected(self) -> bool:
        """The service answers a user's turn by itself (VAD with ``create_response``), as
        the app configured it and as it stands now (the library may have turned it off)."""
        td = self.turn_detection
        if td is None or td.get("create_response") is False:
            return False
        return self._forced.get("create_response", True) is not False

    @property
    def overriding(self) -> bool:
        """The service runs with a ``turn_detection`` the library changed."""
        return self._in_force is not None

    def forcing(self, name: str) -> bool:
        return name in self._forced

    # -- the library's changes -----------------------------------------------------------------

    def force(self, name: str, value: Any) -> dict[str, Any] | None:
        """Hold ``turn_detection[name] = value`` until :meth:`release`; the event, if needed."""
        if self._forced.get(name, _MISSING) == value:
            return None
        self._forced[name] = value
        return self._apply()

    def release(self, name: str) -> dict[str, Any] | None:
        """Stop holding ``name``; the event that gives the app its setting back, if needed."""
        if self._forced.pop(name, _MISSING) is _MISSING:
            return None
        return self._apply()

    def _apply(self) -> dict[str, Any] | None:
        app = self.turn_detection
        if app is None:
            # VAD is off or unknown: there is no server VAD to hold back, and no object to
            # put our fields on safely.
            self._in_force = None
            return None
        wanted = {**app, **self._forced} if self._forced else None
        if wanted is not None and all(app.get(k) == v for k, v in self._forced.items()):
            wanted = None  # the app's own setting already does what we need
        if wanted == self._in_force:
            return None
        if wanted is None:
            self._in_force = None
            return self._event(app, restore=True)
        self._in_force = wanted
        return self._event(wanted, restore=False)

    def _event(self, turn_detection: dict[str, Any], *, restore: bool) -> dict[str, Any]:
        event_id = next(self._ids)
        self._echoes.append((event_id, turn_detection, restore))
        session = {"turn_detection": dict(turn_detection)}
        return {"event_id": event_id, "session": session, "type": "session.update"}

    # -- the service's answers ----------------------------------------------------------------

    def learn(self, session: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Read a ``session.updated``; return the events to send in answer (if any)."""
        out: list[dict[str, Any]] = []
        if "turn_detection" in session:
            raw = session.get("turn_detection")
            td = dict(raw) if isinstance(raw, Mapping) else None
            self._reported = td
            if not self._is_echo(td):
                self.turn_detection = td
                self.known = True
                if self._forced:
                    # The app replaced turn_detection while the library's change was in
                    # force: put the change back on top of the app's new setting.
                    self._in_force = None
                    event = self._apply()
                    if event is not None:
                        out.append(event)
                elif td is not None and any(restore for _, _, restore in self._echoes):
                    # A give-back of the app's older setting is still on its way and would
                    # land after this one: give back the newest instead.
                    out.append(self._event(td, restore=True))
        if self._word_timestamps:
            event = self._timestamps(session)
            if event is not None:
                out.append(event)
        return out

    def _is_echo(self, td: dict[str, Any] | None) -> bool:
        # The service answers every session.update, in the order sent, so the next answer to
        # one of ours is the answer to the oldest of ours not answered yet; the app's own
        # answers may come in between. The library builds what it sends from what the
        # service reported, so its own change comes back exactly as sent: only the oldest
        # can match. Anything else is the app's (a superset, or an equal one out of turn).
        # When the app sends exactly what the library has on its way, the two answers are
        # indistinguishable, and equally right: each says what the service runs with.
        if td is None or not self._echoes or td != self._echoes[0][1]:
            return False
        del self._echoes[0]
        return True

    def _timestamps(self, session: Mapping[str, Any]) -> dict[str, Any] | None:
        raw = session.get("output_audio_timestamp_types", _MISSING)
        if raw is _MISSING and self._timestamp_sends:
            return None  # the service does not report the field: the request stands
        types = [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
        if "word" in types or self._timestamp_sends >= 3:
            return None  # in force, or the service keeps dropping it (heard text is estimated)
        self._timestamp_sends += 1
        event_id = next(self._ids)
        self._timestamps_sent = event_id
        return {
            "event_id": event_id,
            "session": {"output_audio_timestamp_types": [*types, "word"]},
            "type": "session.update",
        }

    def first_events(self) -> list[dict[str, Any]]:
        """What to send before the session is ready: the request for word timestamps."""
        if not self._word_timestamps or self._timestamp_sends:
            return []
        event = self._timestamps({})
        return [event] if event is not None else []

    def rejected(self, event_id: object) -> bool:
        """An error named ``event_id``; True when it was one of the library's updates."""
        if event_id is not None and event_id == self._timestamps_sent:
            self._timestamps_sent = None
            self._timestamp_sends = 3  # refused: don't ask again
            return True
        for index, (sent_id, sent, restore) in enumerate(self._echoes):
            if sent_id != event_id:
                continue
            del self._echoes[index]
            if index < len(self._echoes):
                return True  # a later update of ours decides what the service ends up with
            if not restore:
                if sent == self._in_force:
                    # The service kept what it had, which is not necessarily the app's
                    # setting: an earlier change of ours may be in force, and then it must
                    # still be given back.
                    reported = self._reported
                    ours = reported is not None and reported != self.turn_detection
                    self._in_force = reported if ours else None
            elif self._in_force is None and self._retries < 3 and self.turn_detection:
                # Giving the app's setting back failed: try again (a few times).
                self._retries += 1
                self.retry = self._event(self.turn_detection, restore=True)
            return True
        return False


_MISSING: Any = object()
