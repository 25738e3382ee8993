"""The emulator's web server: auth, the WebSocket upgrade, lifecycle, and waiting helpers."""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final

from aiohttp import web

from .connection import ClientEventHook, EmulatedConnection
from .cough import COUGH_LEVEL_DBFS
from .faults import Faults
from .hearing import Transcriber
from .options import DEFAULT_PACE
from .session_config import DEFAULT_API_VERSION, parse_api_version
from .speech import SpeechCache
from .voice import VOICES, VoiceName, VoiceUnavailableError, espeak_available

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "DEFAULT_PACE", "PATH", "Emulator", "EmulatorState"]

log = logging.getLogger(__name__)

PATH: Final = "/voice-live/realtime"
DEFAULT_MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
"""The SDK's own limit; a larger client frame closes the socket with 1009 (message too big)."""

_CLOSE_TIMEOUT: Final = 1.0  # how long stop() waits for each client's close reply


class EmulatorState(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _header_bytes(value: str) -> bytes:
    """A header value as the bytes the client sent.

    aiohttp keeps bytes that are not UTF-8 as surrogate escapes; a plain ``encode()`` would
    raise on them (a 500) where a wrong credential must simply be a 401.
    """
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return value.encode("utf-8", "surrogatepass")


class Emulator:
    """A local Voice Live service for tests, demos and benchmarks.

    ``async with Emulator() as emu:`` then ``connect(endpoint=emu.endpoint,
    credential=AzureKeyCredential(emu.api_key), model=...)`` with the real SDK.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        bearer_tokens: Iterable[str] = (),
        faults: Faults | None = None,
        pace: float = DEFAULT_PACE,
        voice: VoiceName = "auto",
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        allow_remote: bool = False,
        record: bool = True,
        transcriber: Transcriber | None = None,
        on_client_event: ClientEventHook | None = None,
        phrases: Iterable[str] = (),
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(
                f"refusing to listen on non-loopback host {host!r}: the emulator has no real "
                "security; pass allow_remote=True if you mean it"
            )
        if voice not in VOICES:
            raise ValueError(f"voice must be one of {VOICES}, not {voice!r}")
        if pace < 0:
            raise ValueError("pace must be >= 0 (0 = as fast as possible)")
        if max_frame_bytes < 1024:
            raise ValueError("max_frame_bytes must be at least 1024")
        if api_key is not None and not api_key:
            raise ValueError("api_key must not be empty (omit it to get a random one)")
        if transcriber is not None and not callable(transcriber):
            raise ValueError("transcriber must be a callable (pcm16: bytes, sample_rate) -> str")
        phrases = tuple(phrases)
        if not all(isinstance(phrase, str) and phrase.strip() for phrase in phrases):
            raise ValueError("phrases must be non-empty strings")
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.pace = pace
        self.voice: VoiceName = voice
        self.max_frame_bytes = max_frame_bytes
        self.record = record
        if on_client_event is not None and not callable(on_client_event):
            raise ValueError("on_client_event must be a callable (session_id, event, received_ns)")
        self.on_client_event = on_client_event
        """Called as ``on_client_event(session_id, event, received_ns)`` for every client event,
        synchronously, as it arrives (``received_ns``: ``time.monotonic_ns()`` when its frame
        came off the socket). Works with ``record=False``; for benchmarks and tests that need
        the service's side of a timing."""
        self.transcriber = transcriber
        """Called as ``transcriber(pcm16, sample_rate)`` for each committed user item."""
        self.phrases = phrases
        """Texts synthesized at start, so that their speech is recognized (see docs)."""
        self._api_key = api_key or secrets.token_urlsafe(24)
        self._bearer_tokens = frozenset(bearer_tokens)
        self._state = EmulatorState.NEW
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._speech = SpeechCache(voice)
        self._connections: list[EmulatedConnection] = []
        self._live: set[EmulatedConnection] = set()
        self._waiters: list[asyncio.Future[None]] = []

    def __repr__(self) -> str:  # never the key
        where = self.endpoint if self._state is EmulatorState.RUNNING else self._state.value
        return f"Emulator({where}, connections={len(self._connections)})"

    # -- public state ----------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def state(self) -> EmulatorState:
        return self._state

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``; pass it to the SDK's ``connect(endpoint=...)``."""
        if self._bound_port is None:
            raise RuntimeError(f"the emulator is {self._state.value}; start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    @property
    def connections(self) -> Sequence[EmulatedConnection]:
        """Every connection so far, in order of arrival (only live ones when record=False)."""
        return tuple(self._connections) if self.record else tuple(self._live)

    @property
    def received(self) -> list[list[dict[str, Any]]]:
        """Client events as wire dicts, one list per connection."""
        return [connection.received for connection in self.connections]

    @property
    def sent(self) -> list[list[dict[str, Any]]]:
        """Server events as wire dicts, one list per connection."""
        return [connection.sent for connection in self.connections]

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Emulator:
        if self._state is not EmulatorState.NEW:
            raise RuntimeError(f"cannot start an emulator that is {self._state.value}")
        if self.voice == "espeak" and not espeak_available():
            raise VoiceUnavailableError(
                "voice='espeak' needs the espeakng-loader package: "
                "pip install 'voicelive-proactive[speech]'"
            )
        if self.phrases:
            await self._speech.learn(self.phrases)
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            site = web.SockSite(runner, sock, backlog=1024)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = sock.getsockname()[1]
        self._state = EmulatorState.RUNNING
        log.info("Voice Live emulator listening on %s", self.endpoint)
        return self

    async def stop(self) -> None:
        """Close every connection (code 1001), cancel and await their tasks, free the port."""
        if self._state is not EmulatorState.RUNNING:
            self._state = EmulatorState.STOPPED
            return
        self._state = EmulatorState.STOPPED
        await asyncio.gather(*(connection.close() for connection in list(self._live)))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._speech.aclose()
        self._wake_waiters()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- waiting ---------------------------------------------------------------------------

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            _wake(waiter)

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` is true; it is checked whenever an event is recorded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            # Time out by waking up (not by cancelling): a CancelledError is then always the
            # caller's own and must propagate.
            handle = loop.call_later(remaining, _wake, waiter)
            try:
                await waiter
            finally:
                handle.cancel()

    async def wait_received(
        self,
        event_type: str,
        *,
        count: int = 1,
        connection: int | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """The ``count``-th client event of this type (on one connection, or on any)."""
        return await self._wait_event("received", event_type, count, connection, timeout)

    async def wait_sent(
        self,
        event_type: str,
        *,
        count: int = 1,
        connection: int | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """The ``count``-th server event of this type (on one connection, or on any)."""
        return await self._wait_event("sent", event_type, count, connection, timeout)

    async def _wait_event(
        self, side: str, event_type: str, count: int, connection: int | None, timeout: float
    ) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            connections = self.connections
            if connection is not None:  # an index; -1 (the latest) works too
                connections = connections[connection : connection + 1 or None]
            found[:] = [
                event
                for each in connections
                for event in getattr(each, side)
                if event.get("type") == event_type
            ]
            return len(found) >= count

        try:
            await self.wait_for(seen, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{side} {len(found)} {event_type!r} event(s) within {timeout} s, wanted {count}"
            ) from None
        return found[count - 1]

    def _notify(self) -> None:
        if self._waiters:
            self._wake_waiters()

    # -- faults on demand ------------------------------------------------------------------

    async def cough(
        self,
        ms: int = 250,
        *,
        connection: int = -1,
        level_dbfs: float = COUGH_LEVEL_DBFS,
        pace: float = 1.0,
    ) -> None:
        """A noise burst reaches a session as user audio (the latest one by default).

        See :meth:`EmulatedConnection.cough`; returns once the turn it makes is over.
        """
        try:
            target = self.connections[connection]
        except IndexError:
            raise RuntimeError(f"there is no connection {connection}") from None
        if target.closed:
            raise RuntimeError(f"connection {connection} ({target.session_id}) is closed")
        await target.cough(ms, level_dbfs=level_dbfs, pace=pace)

    # -- HTTP ------------------------------------------------------------------------------

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        key = headers.get("api-key")
        if key is not None:
            return secrets.compare_digest(_header_bytes(key), self._api_key.encode())
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        # Compare against every token, so timing says nothing about which one was close.
        presented = _header_bytes(token)
        matches = [
            secrets.compare_digest(presented, known.encode()) for known in self._bearer_tokens
        ]
        return any(matches)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._state is not EmulatorState.RUNNING:
            return web.Response(status=503, text="The emulator is stopping.")
        if not self._authorized(request.headers):
            return web.json_response(
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid api-key or token.",
                    }
                },
                status=401,
            )
        api_version = request.query.get("api-version", DEFAULT_API_VERSION)
        if parse_api_version(api_version) is None:
            return web.json_response(
                {
                    "error": {
                        "code": "BadRequest",
                        "message": f"Unsupported api-version {api_version!r}.",
                    }
                },
                status=400,
            )
        try:
            faults = self.faults.snapshot()
        except ValueError as exc:  # a test set a field to something impossible
            log.error("invalid emulator faults: %s", exc)
            return web.json_response({"error": {"code": "500", "message": str(exc)}}, status=500)
        if faults.reject_status is not None:
            return web.json_response(
                {"error": {"code": str(faults.reject_status), "message": "Injected fault."}},
                status=faults.reject_status,
            )
        ws = web.WebSocketResponse(
            max_msg_size=self.max_frame_bytes, compress=False, timeout=_CLOSE_TIMEOUT
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="This endpoint only speaks WebSocket.")
        transport = request.transport
        try:
            await ws.prepare(request)
        except ConnectionResetError:
            # The client gave up during the upgrade (e.g. an app closed before its connect
            # finished). A service drops such a socket silently; without this, aiohttp logs
            # the reset as an error in the request handler, with a traceback.
            log.debug("client went away during the WebSocket upgrade")
            # Never sent (the socket is gone); aiohttp drops it quietly.
            return web.Response(status=400, text="The client closed during the upgrade.")

        def abort() -> None:
            # A dropped network, not a goodbye: no close frame.
            if transport is not None:
                transport.abort()

        connection = EmulatedConnection(
            ws,
            abort=abort,
            api_version=api_version,
            model=request.query.get("model"),
            faults=faults,
            pace=lambda: self.pace,
            speech=self._speech,
            record=self.record,
            notify=self._notify,
            transcriber=self.transcriber,
            on_client_event=self.on_client_event,
        )
        if self.record:
            self._connections.append(connection)
        self._live.add(connection)
        self._notify()
        log.debug("connection %s opened", connection.session_id)
        try:
            await connection.run()
        finally:
            self._live.discard(connection)
            self._notify()
            log.debug("connection %s closed", connection.session_id)
        return ws
