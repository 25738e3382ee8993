"""Client-side stamps on the SDK's own socket: when frames come out of it and go into it.

Every variant is measured at the same two points, so whatever differs between them is the
code in between (the SDK's parsing, the loop, the library or the hand-written handler):

* ``updated_ns``: the first ``session.updated`` frame returned by the aiohttp socket's
  ``receive()``, before the SDK parses it;
* ``arrived_ns``: the bytes of that frame handed to the connection's protocol by the event
  loop (``data_received``), before aiohttp queues the frame for ``receive()``: under load,
  the difference is the time the frame waited for the app's task;
* ``greeting_ns``: the first ``response.create`` frame handed to the socket's ``send_str()``,
  after the SDK has serialized it and before aiohttp frames, masks and writes it.

The kernel and the emulator are left out on purpose: they cost the same for every variant, so
counting them would only shrink the ratios towards 1. Both clocks are ``time.monotonic_ns()``.
The socket is ``VoiceLiveConnection._connection`` (SDK 1.3.1); only the two methods are wrapped.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

__all__ = ["Wiretap"]

_UPDATED = '"session.updated"'
_CREATE = '"response.create"'
_APPEND = '"input_audio_buffer.append"'


class Wiretap:
    """Stamps one connection's first ``session.updated`` in and first ``response.create`` out."""

    __slots__ = (
        "appends",
        "arrived_ns",
        "create_ns",
        "creates",
        "frame",
        "greeting_ns",
        "sent",
        "updated_ns",
    )

    def __init__(self, conn: Any) -> None:
        self.updated_ns: int | None = None
        self.arrived_ns: int | None = None
        self.greeting_ns: int | None = None
        self.frame: str | None = None
        self.creates = 0  # response.create frames sent (correctness: exactly one greeting)
        self.create_ns: list[int] = []  # when each response.create went in
        self.appends = 0  # microphone frames sent
        self.sent = 0
        ws: aiohttp.ClientWebSocketResponse = conn._connection
        receive, send_str = ws.receive, ws.send_str

        async def tapped_receive(*args: Any, **kwargs: Any) -> aiohttp.WSMessage:
            message = await receive(*args, **kwargs)
            if (
                self.updated_ns is None
                and message.type is aiohttp.WSMsgType.TEXT
                and _UPDATED in message.data[:64]
            ):
                self.updated_ns = time.monotonic_ns()
                self.frame = message.data
            return message

        async def tapped_send_str(data: str, *args: Any, **kwargs: Any) -> None:
            if _CREATE in data:
                now = time.monotonic_ns()
                if self.greeting_ns is None:
                    self.greeting_ns = now
                self.creates += 1
                self.create_ns.append(now)
            elif _APPEND in data:
                self.appends += 1
            self.sent += 1
            await send_str(data, *args, **kwargs)

        protocol = getattr(getattr(ws, "_conn", None), "protocol", None)
        if protocol is not None:
            data_received = protocol.data_received

            def tapped_data_received(data: bytes) -> None:
                if self.arrived_ns is None and b'"session.updated"' in data:
                    self.arrived_ns = time.monotonic_ns()
                data_received(data)

            protocol.data_received = tapped_data_received

        ws.receive = tapped_receive  # type: ignore[method-assign]
        ws.send_str = tapped_send_str  # type: ignore[method-assign]

    @property
    def session_id(self) -> str | None:
        if self.frame is None:
            return None
        sid: str | None = json.loads(self.frame).get("session", {}).get("id")
        return sid

    @property
    def queued_dispatch_us(self) -> float | None:
        """From the frame's bytes reaching the protocol → ``response.create`` in, in µs."""
        if self.arrived_ns is None or self.greeting_ns is None:
            return None
        return (self.greeting_ns - self.arrived_ns) / 1000

    @property
    def dispatch_us(self) -> float | None:
        """``session.updated`` out of the socket → ``response.create`` into it, in µs."""
        if self.updated_ns is None or self.greeting_ns is None:
            return None
        return (self.greeting_ns - self.updated_ns) / 1000
