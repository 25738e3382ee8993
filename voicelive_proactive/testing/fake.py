"""``FakeConnection``: the SDK's own ``VoiceLiveConnection`` over an in-memory socket.

Only the socket is fake. Sending and receiving run the SDK's real code, so ``sent`` holds
exactly the JSON the SDK would put on the wire, and iteration yields the typed events the
SDK would deserialize. Tests written against it cannot drift from the SDK.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import aiohttp
from azure.ai.voicelive.aio import VoiceLiveConnection
from azure.ai.voicelive.models import ServerEvent

__all__ = ["FakeConnection"]

_CLOSED = aiohttp.WSMessage(aiohttp.WSMsgType.CLOSED, None, None)


def _text(frame: str) -> aiohttp.WSMessage:
    return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, frame, None)


class _MemorySocket:
    """The subset of ``aiohttp.ClientWebSocketResponse`` that ``VoiceLiveConnection`` uses."""

    def __init__(self) -> None:
        self.incoming: deque[aiohttp.WSMessage] = deque()
        self._arrived = asyncio.Event()
        self.outgoing: list[str] = []
        self.close_code: int | None = None
        self.closing = False
        self.send_error: BaseException | None = None
        self.sent_signal: asyncio.Event | None = None
        self.replies: list[_Reply] = []
        self._exception: BaseException | None = None

    async def send_str(self, data: str) -> None:
        if self.send_error is not None:
            raise self.send_error
        if self.close_code is not None:
            raise aiohttp.ClientConnectionResetError("Cannot write to closing transport")
        self.outgoing.append(data)
        if self.sent_signal is not None:
            self.sent_signal.set()
        if self.replies:
            self._reply(json.loads(data))

    def _reply(self, event: dict[str, Any]) -> None:
        for reply in list(self.replies):
            if reply.event_type != event.get("type"):
                continue
            if reply.times is not None:
                reply.times -= 1
                if reply.times <= 0:
                    self.replies.remove(reply)
            for answer in reply.make(event):
                self.put(_text(json.dumps(answer)), before_close=True)
            return

    def put(self, message: aiohttp.WSMessage, *, before_close: bool = False) -> None:
        """Queue a frame; a reply (``before_close``) overtakes a close not yet read."""
        incoming = self.incoming
        if before_close and incoming and incoming[-1].type is aiohttp.WSMsgType.CLOSE:
            incoming.insert(len(incoming) - 1, message)
        else:
            incoming.append(message)
        self._arrived.set()

    async def receive(self) -> aiohttp.WSMessage:
        if self.close_code is not None and not self.incoming:
            return _CLOSED
        while not self.incoming:
            self._arrived.clear()
            await self._arrived.wait()
        message = self.incoming.popleft()
        if message.type is aiohttp.WSMsgType.CLOSE:
            # Like a real client, we only learn of the close when we read its frame.
            self.close_code = message.data
        return message

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.close_nowait(code)
        return True

    def close_nowait(self, code: int = 1000) -> None:
        if not self.closing:
            self.closing = True
            self.put(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSE, code, ""))

    def exception(self) -> BaseException | None:
        return self._exception

    def fail(self, error: BaseException) -> None:
        self._exception = error
        self.closing = True
        self.close_code = 1006
        self.send_error = aiohttp.ClientConnectionResetError(f"Connection lost: {error}")
        self.put(aiohttp.WSMessage(aiohttp.WSMsgType.ERROR, error, None))


class _Reply:
    __slots__ = ("event_type", "make", "times")

    def __init__(
        self,
        event_type: str,
        make: Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]],
        times: int | None,
    ) -> None:
        self.event_type = event_type
        self.make = make
        self.times = times


class _NoHttpSession:
    async def close(self) -> None:
        return None


class FakeConnection(VoiceLiveConnection):
    """A ``VoiceLiveConnection`` with no network, for unit tests.

    ``push()`` server events in, read what the code under test sent from ``sent``::

        fake = FakeConnection()
        fake.push({"type": "session.updated", "session": {"id": "s1"}})
        fake.close()
        async for event in fake: ...        # typed SDK events, then the loop ends
        assert fake.sent_types() == ["response.create"]

    It is an instance of the SDK's ``VoiceLiveConnection``, so it fits wherever a real
    connection is expected, including ``conn.response.create(...)`` and friends. Use it from
    one event loop's thread.
    """

    def __init__(self) -> None:
        self._socket = _MemorySocket()
        super().__init__(_NoHttpSession(), self._socket)  # type: ignore[arg-type]

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every event sent so far, as the wire dicts the SDK produced (oldest first)."""
        return [json.loads(frame) for frame in self._socket.outgoing]

    def sent_types(self) -> list[str]:
        """The ``type`` of every event sent so far."""
        return [event["type"] for event in self.sent]

    def sent_of(self, event_type: str) -> list[dict[str, Any]]:
        """The sent events of one type."""
        return [event for event in self.sent if event["type"] == event_type]

    def clear_sent(self) -> None:
        """Forget what was sent so far."""
        self._socket.outgoing.clear()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or :meth:`drop`) was called."""
        return self._socket.closing

    def push(self, event: Mapping[str, Any] | ServerEvent) -> None:
        """Queue a server event: a wire dict or an SDK model. It arrives in push order."""
        if self.closed:
            raise RuntimeError("FakeConnection is closed; push events before close().")
        payload = event.as_dict() if isinstance(event, ServerEvent) else dict(event)
        if not isinstance(payload.get("type"), str):
            raise ValueError(f"A server event needs a str 'type'; got {payload!r}.")
        self.push_raw(json.dumps(payload))

    def push_raw(self, frame: str) -> None:
        """Queue a raw text frame, e.g. invalid JSON, to see how the code copes with it."""
        self._socket.put(_text(frame))

    def drop(self, reason: str = "connection reset by peer") -> None:
        """Simulate a dropped network: iteration ends, and later sends raise ConnectionError."""
        self._socket.fail(ConnectionResetError(reason))

    def reply_to(
        self,
        event_type: str,
        make: Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]],
        *,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` sent events of ``event_type`` (``None``: all of them).

        ``make(sent_event)`` returns the server events to push in reply, as wire dicts; they
        arrive after everything pushed so far, like the service's answers.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None), not {times}")
        self._socket.replies.append(_Reply(event_type, make, times))

    def reply_error(
        self,
        event_type: str,
        code: str,
        message: str | None = None,
        *,
        param: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Reject the next ``times`` sent events of ``event_type`` with an error naming them.

        For example ``fake.reply_error("response.create", "unknown_parameter")`` makes the
        service refuse the greeting, exactly as it would say so on the wire.
        """

        def error(sent: dict[str, Any]) -> list[dict[str, Any]]:
            body = {
                "type": "invalid_request_error",
                "code": code,
                "message": message or f"Rejected by the fake: {code}.",
                "param": param,
                "event_id": sent.get("event_id"),
            }
            return [{"type": "error", "error": body}]

        self.reply_to(event_type, error, times=times)

    def fail_sends(self, error: BaseException | None = None) -> None:
        """Make every later send raise the SDK's ConnectionError (``None`` heals it)."""
        self._socket.send_error = (
            None if error is None else aiohttp.ClientConnectionResetError(str(error))
        )

    async def wait_sent(self, event_type: str, *, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` events of ``event_type`` have been sent.

        Raises the built-in ``TimeoutError`` (as the emulator's waits do), saying what was
        sent instead.
        """
        signal = self._socket.sent_signal = asyncio.Event()

        async def reached() -> None:
            while len(self.sent_of(event_type)) < count:
                signal.clear()
                await signal.wait()

        try:
            await asyncio.wait_for(reached(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"waited {timeout}s for {count} {event_type!r} event(s); sent: {self.sent_types()}"
            ) from None

    def close(self, *, code: int = 1000, reason: str = "") -> _Closed:  # type: ignore[override]
        """Close from the server's side: iteration ends after the events already pushed.

        Sends keep working until the reader reaches the close, as on a real socket. It
        takes effect at once, so both ``fake.close()`` and ``await fake.close()`` work.
        """
        self._socket.close_nowait(code)
        return _Closed()


class _Closed:
    """An already-finished awaitable: lets ``close()`` be called with or without ``await``."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield
