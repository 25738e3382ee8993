"""One client connection: reads client events in order and answers as Voice Live does."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn

from aiohttp import WSCloseCode, WSMsgType, web

from .audio_formats import input_format
from .checks import Problem
from .conversation import Conversation
from .cough import COUGH_LEVEL_DBFS, Overlay, cough_noise
from .events import (
    INVALID_REQUEST,
    SERVER_ERROR,
    ConnectionGone,
    Ids,
    clone,
    error_body,
    message_item,
)
from .faults import MAX_COUGH_MS, MIN_COUGH_MS, Faults
from .hearing import Heard, Listener, Transcriber
from .input_audio import InputAudioBuffer
from .items import ItemEvents
from .planning import PlanSettings, build_plan
from .response_params import ResponseParams, parse_response_create
from .responses import ActiveResponse, ResponsePlan
from .session_config import (
    PRE_GENERATED_MIN_VERSION,
    default_session,
    effective_session,
    merge_session,
    parse_api_version,
    session_problem,
)
from .speech import SpeechCache
from .transcription import MAX_FILLER_MS, Recognition, is_filler, recognize, transcription_events
from .unsupported import NotEmulated, response_warnings, session_warnings
from .vad import FRAME_MS, SpeechStarted, VadConfig, VadEvent
from .voice import MAX_TEXT_CHARS

__all__ = ["ClientEventHook", "EmulatedConnection"]

ClientEventHook = Callable[[str, dict[str, Any], int], None]
"""``hook(session_id, event, received_ns)``: called for every client event as it arrives, with
``time.monotonic_ns()`` read when its frame came off the socket (before parsing)."""

log = logging.getLogger(__name__)

_MIN_COMMIT_MS = 100.0
_STREAMING_GAP = 0.5
"""A client that sent audio this recently (seconds) is streaming its microphone: a cough
rides on its audio instead of being played over silence."""
MAX_JSON_DEPTH = 64
"""Deeper frames are refused: no real event comes close, and every later copy would recurse."""
Handler = Callable[[dict[str, Any], "str | None"], Awaitable[None]]


def _encode(event: dict[str, Any]) -> str:
    if event["type"] != "response.audio.delta":
        return json.dumps(event, separators=(",", ":"))
    # Base64 needs no JSON escaping: splicing the chunk in spares the encoder from
    # scanning ~6 KB per event, the emulator's hottest path under load.
    head = {key: value for key, value in event.items() if key != "delta"}
    return f'{json.dumps(head, separators=(",", ":"))[:-1]},"delta":"{event["delta"]}"}}'


_TOO_DEEP: Any = object()
_MAX_PHRASES = 50


def _phrase_list(update: dict[str, Any]) -> list[str]:
    """The ``input_audio_transcription.phrase_list`` of an update (capped), if any."""
    options = update.get("input_audio_transcription")
    phrases = options.get("phrase_list") if isinstance(options, dict) else None
    if not isinstance(phrases, list):
        return []
    return [phrase for phrase in phrases if isinstance(phrase, str)][:_MAX_PHRASES]


def _too_deep(value: object) -> bool:
    """True when ``value`` nests lists/objects more than MAX_JSON_DEPTH levels (no recursion)."""
    level: list[object] = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return False
    return True


class EmulatedConnection(ItemEvents):
    """A client's session. ``received``/``sent`` hold the wire dicts, in order."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        abort: Callable[[], None],
        api_version: str,
        model: str | None,
        faults: Faults,
        pace: Callable[[], float],
        speech: SpeechCache,
        record: bool,
        notify: Callable[[], None],
        transcriber: Transcriber | None = None,
        on_client_event: ClientEventHook | None = None,
    ) -> None:
        self._on_client_event = on_client_event
        self._ids = Ids()
        self.session_id = self._ids.new("sess")
        self.conversation_id = self._ids.new("conv")
        self.api_version = api_version
        self.faults = faults
        self.session: dict[str, Any] = default_session(self.session_id, model)
        self.conversation = Conversation()
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.closed = False
        self._ws = ws
        self._abort = abort
        self._pace = pace
        self._speech = speech
        self._record = record
        self._notify = notify
        self._gone = False
        self._events_sent = 0
        self._sent_of_type = 0  # server events of the type in faults.drop_after
        self._responses_requested = 0
        self._response: ActiveResponse | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        self._transcriber = transcriber
        self._learning: asyncio.Task[None] | None = None  # phrase_list syntheses in flight
        self._listener = Listener(keep_pcm=transcriber is not None)
        self._input = InputAudioBuffer(self._listener)
        self._pcm_rate = 24_000  # the PCM input rate the client chose (g711 is always 8 kHz)
        self._pending_start: SpeechStarted | None = None  # held back: it may be a filler word
        # Input audio is handled by the reader and by a cough's pacer: one at a time, so the
        # VAD's events go out in the order it saw them.
        self._input_lock = asyncio.Lock()
        self._cough_lock = asyncio.Lock()
        self._coughs = 0
        self._fault_coughed = False
        self._last_append = -float("inf")  # loop time of the latest input_audio_buffer.append
        self._configure_vad()
        self._handlers: dict[str, Handler] = {
            "session.update": self._on_session_update,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
            "conversation.item.create": self._on_item_create,
            "conversation.item.truncate": self._on_item_truncate,
            "conversation.item.delete": self._on_item_delete,
            "conversation.item.retrieve": self._on_item_retrieve,
            "input_audio_buffer.append": self._on_audio_append,
            "input_audio_buffer.commit": self._on_audio_commit,
            "input_audio_buffer.clear": self._on_audio_clear,
            "output_audio_buffer.clear": self._on_output_clear,
        }

    def __repr__(self) -> str:
        return f"EmulatedConnection(session_id={self.session_id!r}, closed={self.closed})"

    @property
    def active_response_id(self) -> str | None:
        return self._response.id if self._response is not None else None

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the client leaves, the emulator stops, or a fault drops the socket."""
        try:
            await self._send("session.created", {"session": clone(self.session)})
            async for message in self._ws:
                if message.type is WSMsgType.TEXT:
                    received_ns = time.monotonic_ns()  # before parsing, for the hook
                    await self._on_frame(message.data, received_ns)
                elif message.type is WSMsgType.BINARY:
                    await self._error(
                        "invalid_value", "Binary frames are not supported; send JSON text."
                    )
                else:  # ERROR, e.g. a frame over max_msg_size: aiohttp already closed with 1009
                    break
        except ConnectionGone:
            pass
        finally:
            self._gone = True
            await self._cancel_tasks()
            self.closed = True
            self._finished.set()
            self._notify()

    async def close(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Stop streaming, close the socket and wait until ``run()`` has returned."""
        await self._cancel_tasks()
        if not self._ws.closed:
            await self._ws.close(code=code, message=b"emulator stopping")
        await self._finished.wait()

    async def _cancel_tasks(self) -> None:
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, kind: str, fields: dict[str, Any]) -> None:
        if self._gone:
            raise ConnectionGone
        event = {"type": kind, "event_id": self._ids.new("event"), **fields}
        try:
            await self._ws.send_str(_encode(event))
        except (ConnectionError, RuntimeError) as exc:
            self._gone = True
            raise ConnectionGone from exc
        self._events_sent += 1
        if self._record:
            self.sent.append(event)
            self._notify()
        limit = self.faults.drop_after_events
        if limit is not None and self._events_sent >= limit:
            self._drop()
        after = self.faults.drop_after
        if after is not None and kind == after[0]:
            self._sent_of_type += 1
            if self._sent_of_type >= after[1]:
                self._drop()

    def _drop(self) -> NoReturn:
        """The network goes away: no close frame, and nothing more is sent."""
        self._gone = True
        self._abort()
        raise ConnectionGone

    async def _error(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        event_id: str | None = None,
        kind: str = INVALID_REQUEST,
    ) -> None:
        body = error_body(code, message, param=param, event_id=event_id, kind=kind)
        await self._send("error", {"error": body})

    # -- reading ---------------------------------------------------------------------------

    async def _on_frame(self, data: str, received_ns: int | None = None) -> None:
        try:
            event = json.loads(data)
        except ValueError as exc:
            await self._error("invalid_json", f"The frame is not valid JSON: {exc}")
            return
        except RecursionError:
            # json's C scanner gives up on deep nesting (e.g. 50,000 brackets) this way;
            # it is a bad frame, not a reason to drop the connection.
            event = _TOO_DEEP
        if event is _TOO_DEEP or _too_deep(event):
            await self._error(
                "invalid_json",
                f"The frame is nested more than {MAX_JSON_DEPTH} levels deep.",
            )
            return
        if not isinstance(event, dict):
            await self._error("invalid_json", "A client event must be a JSON object.")
            return
        hook = self._on_client_event
        if hook is not None:
            try:
                hook(
                    self.session_id,
                    event,
                    time.monotonic_ns() if received_ns is None else received_ns,
                )
            except Exception:  # a test's or benchmark's hook must not take the session down
                log.exception("the emulator's on_client_event hook failed")
        if self._record:
            self.received.append(event)
            self._notify()
        client_id = event.get("event_id")
        client_id = client_id if isinstance(client_id, str) else None
        kind = event.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            supported = ", ".join(f"'{name}'" for name in self._handlers)
            await self._error(
                "invalid_value",
                f"Invalid value: {kind!r}. Supported values are: {supported}.",
                param="type",
                event_id=client_id,
            )
            return
        try:
            await handler(event, client_id)
        except ConnectionGone:
            raise
        except Exception:  # a bug here must cost one error event, not the connection
            log.exception("emulator failed on a %s event", kind)
            await self._error(
                "server_error",
                f"The emulator failed to handle {kind!r}.",
                event_id=client_id,
                kind=SERVER_ERROR,
            )

    # -- session ---------------------------------------------------------------------------

    async def _on_session_update(self, event: dict[str, Any], client_id: str | None) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            await self._error(
                "missing_required_parameter",
                "Missing required parameter: 'session'.",
                param="session",
                event_id=client_id,
            )
            return
        merged = merge_session(self.session, update)
        if "input_audio_sampling_rate" in update:
            requested = update["input_audio_sampling_rate"]
        elif merged.get("input_audio_format") in ("g711_ulaw", "g711_alaw"):
            requested = None  # g711 says nothing about the PCM rate
        else:
            requested = self._pcm_rate
        if requested is not None:
            merged["input_audio_sampling_rate"] = requested
        problem = session_problem(merged)
        if problem is not None:
            await self._error(
                problem.code, problem.message, param=problem.param, event_id=client_id
            )
            return
        if isinstance(requested, int):
            self._pcm_rate = requested
        self.session = effective_session(merged, self._pcm_rate)
        self._configure_vad()
        phrases = _phrase_list(update)
        if phrases:
            # A phrase list biases recognition; here it teaches the emulator those phrases.
            self._learning = self._spawn(self._speech.learn(phrases))
        snapshot = clone(self.session)
        warnings = session_warnings(update)
        if self.faults.session_updated_delay > 0:
            # In the background: a slow answer must not stop the reader (or a clean close).
            self._spawn(
                self._session_updated(snapshot, self.faults.session_updated_delay, warnings)
            )
        else:
            await self._session_updated(snapshot, 0.0, warnings)

    async def _session_updated(
        self, session: dict[str, Any], delay: float, warnings: list[NotEmulated]
    ) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            for _ in range(1 + self.faults.session_updated_repeat):
                await self._send("session.updated", {"session": clone(session)})
            await self._warn(warnings)
        except ConnectionGone:
            pass

    async def _warn(self, warnings: list[NotEmulated]) -> None:
        for warning in warnings:
            await self._send("warning", {"warning": warning.body()})

    def _configure_vad(self) -> None:
        self._pending_start = None
        self._input.configure(self.session.get("turn_detection"), input_format(self.session))

    def _turn_setting(self, name: str) -> bool:
        turn_detection = self.session.get("turn_detection") or {}
        return turn_detection.get(name, True) is not False

    # -- responses -------------------------------------------------------------------------

    async def _on_response_create(self, event: dict[str, Any], client_id: str | None) -> None:
        self._responses_requested += 1
        number = self._responses_requested
        if self.faults.vad_response_before_create == number and self._response is None:
            # A user turn ended just before this create arrived: the service's own response
            # is announced first, so this create collides with it.
            vad_response = self._start_vad_response()
            await vad_response.created.wait()
        injected = self.faults.response_errors.get(number)
        if injected is not None:
            code, message = injected
            await self._error(code, message, event_id=client_id, kind=SERVER_ERROR)
            return
        params = parse_response_create(event)
        if isinstance(params, Problem):
            await self._error(params.code, params.message, param=params.param, event_id=client_id)
            return
        if self._response is not None and not (
            params.cancel_previous and await self._cancel_active("client_cancelled")
        ):
            await self._already_active(client_id)
            return
        if params.pre_generated is not None:
            if not self._supports_pre_generated():
                await self._error(
                    "unknown_parameter",
                    "Unknown parameter: 'response.pre_generated_assistant_message'.",
                    param="response.pre_generated_assistant_message",
                    event_id=client_id,
                )
                return
            if len(params.pre_generated) > MAX_TEXT_CHARS:
                await self._error(
                    "invalid_value",
                    "pre_generated_assistant_message must be an assistant message with exactly "
                    f"one non-empty text part of at most {MAX_TEXT_CHARS} characters.",
                    param="response.pre_generated_assistant_message",
                    event_id=client_id,
                )
                return
        appended = params.append_input_items or []
        taken = [
            index for index, item in enumerate(appended) if item.get("id") in self.conversation
        ]
        if taken:
            await self._error(
                "invalid_value",
                "An item with that id already exists.",
                param=f"response.append_input_items[{taken[0]}].id",
                event_id=client_id,
            )
            return
        await self._warn(response_warnings(event.get("response") or {}))
        for item in appended:
            await self._add_item(item)
        self._start(self._plan(params))

    async def _already_active(self, client_id: str | None) -> None:
        active = self._response
        await self._error(
            "conversation_already_has_active_response",
            f"Conversation already has an active response in progress: "
            f"{active.id if active else ''}. Wait until the response is finished before "
            "creating a new one.",
            event_id=client_id,
        )

    def _supports_pre_generated(self) -> bool:
        version = parse_api_version(self.api_version)
        return version is not None and version >= PRE_GENERATED_MIN_VERSION

    def _plan(self, params: ResponseParams) -> ResponsePlan:
        faults = self.faults
        settings = PlanSettings(
            pace=self._pace(),
            created_delay=faults.response_created_delay,
            stall_after_chunks=faults.stall_audio_after_chunks,
            stall_seconds=faults.stall_audio_seconds,
            conversation_id=self.conversation_id,
            cough_after_chunks=None if self._fault_coughed else faults.cough_after_chunks,
        )
        return build_plan(
            self.session,
            list(self.conversation),
            params,
            settings,
            heard=self.conversation.heard,
        )

    def _start_vad_response(self) -> ActiveResponse:
        """The response server VAD starts after a user turn: no metadata, the session's settings."""
        return self._start(self._plan(ResponseParams()))

    def _start(self, plan: ResponsePlan) -> ActiveResponse:
        response = ActiveResponse(
            plan,
            ids=self._ids,
            send=self._send,
            conversation=self.conversation,
            speech=self._speech,
            release=self._release,
            on_cough=self._fault_cough,
        )
        self._response = response
        self._spawn(self._run_response(response))
        return response

    async def _run_response(self, response: ActiveResponse) -> None:
        with contextlib.suppress(ConnectionGone):
            await response.run()

    def _release(self, response: ActiveResponse) -> None:
        if self._response is response:
            self._response = None

    async def _cancel_active(self, reason: str) -> bool:
        """Cancel the active response and wait for its done events; False if none could be."""
        response = self._response
        if response is None or not response.cancel(reason):
            return False
        await response.finished.wait()
        return True

    async def _on_response_cancel(self, event: dict[str, Any], client_id: str | None) -> None:
        wanted = event.get("response_id")
        active = self._response
        if (
            active is None
            or (wanted and wanted != active.id)
            or not await self._cancel_active("client_cancelled")
        ):
            await self._error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found.",
                event_id=client_id,
            )

    # -- input audio -----------------------------------------------------------------------

    async def _on_audio_append(self, event: dict[str, Any], client_id: str | None) -> None:
        audio = event.get("audio")
        try:
            if not isinstance(audio, str):
                raise ValueError("audio must be a base64 string")
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            await self._error(
                "invalid_value",
                "audio must be base64-encoded audio in the session's input_audio_format.",
                param="audio",
                event_id=client_id,
            )
            return
        self._last_append = asyncio.get_running_loop().time()
        async with self._input_lock:
            await self._take_input(self._input.append(pcm))

    async def _take_input(self, events: list[VadEvent]) -> None:
        """Act on what the VAD saw in the latest audio (with the input lock held)."""
        for vad_event in events:
            await self._on_vad(vad_event)
        pending = self._pending_start
        if pending is not None and self._input.speech_ms(pending.speech_ms) > MAX_FILLER_MS:
            self._pending_start = None  # too long for a filler word: a turn after all
            await self._speech_started(pending)

    async def _speech_started(self, event: SpeechStarted) -> None:
        item_id = self._input.turn_item_id = self._ids.new("item")
        await self._send(
            "input_audio_buffer.speech_started",
            {"audio_start_ms": event.audio_start_ms, "item_id": item_id},
        )
        active = self._response
        # Only a response that speaks into the conversation is interrupted; an
        # out-of-band one (conversation "none") carries on.
        if self._turn_setting("interrupt_response") and active and active.in_conversation:
            await self._cancel_active("turn_detected")

    async def _on_vad(self, event: VadEvent) -> None:
        if isinstance(event, SpeechStarted):
            if self._removes_fillers():
                # Wait: if this turn is only "um" or "uh", it is not a turn at all.
                self._pending_start = event
            else:
                await self._speech_started(event)
            return
        heard = self._listener.take(event.audio_end_ms)
        recognition = None
        pending, self._pending_start = self._pending_start, None
        if pending is not None:
            recognition = await self._recognize(heard)
            if is_filler(recognition.text):
                self._input.consume(until_ms=event.audio_end_ms)
                self._input.turn_item_id = None
                return
            await self._speech_started(pending)
        item_id = self._input.take_turn_item_id(self._ids.new("item"))
        await self._send(
            "input_audio_buffer.speech_stopped",
            {"audio_end_ms": event.audio_end_ms, "item_id": item_id},
        )
        self._input.consume(until_ms=event.audio_end_ms)
        await self._commit(item_id, heard, recognition)
        if not self._turn_setting("create_response"):
            return
        if self._response is not None:
            # One response at a time: with interrupt_response false the reply is still
            # playing, so the turn's automatic response is refused the way a client's
            # response.create would be (no client event to name: event_id is null).
            await self._already_active(None)
            return
        self._start_vad_response()

    def _removes_fillers(self) -> bool:
        turn_detection = self.session.get("turn_detection") or {}
        return turn_detection.get("remove_filler_words") is True

    async def _commit(
        self, item_id: str, heard: Heard, recognition: Recognition | None = None
    ) -> None:
        item = message_item(item_id, "user", [{"type": "input_audio", "transcript": None}])
        await self._send(
            "input_audio_buffer.committed",
            {"previous_item_id": self.conversation.last_id, "item_id": item_id},
        )
        previous = self.conversation.insert(item)
        await self._send(
            "conversation.item.created", {"previous_item_id": previous, "item": clone(item)}
        )
        await self._hear(item_id, recognition or await self._recognize(heard))

    async def _recognize(self, heard: Heard) -> Recognition:
        if self._learning is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._learning)
        return await recognize(heard, self._transcriber)

    async def _hear(self, item_id: str, recognition: Recognition) -> None:
        """Keep what the item said; with transcription on, say so and fill in the item."""
        if recognition.text:
            self.conversation.heard[item_id] = recognition.text
        options = self.session.get("input_audio_transcription")
        if not isinstance(options, dict):
            return
        item = self.conversation.get(item_id)
        if item is not None and recognition.error is None:
            item["content"][0]["transcript"] = recognition.text or ""
        for kind, fields in transcription_events(item_id, recognition, options):
            await self._send(kind, fields)

    async def _on_audio_commit(self, event: dict[str, Any], client_id: str | None) -> None:
        buffered = self._input.buffered_ms
        if buffered < _MIN_COMMIT_MS:
            await self._error(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{_MIN_COMMIT_MS:.0f}ms of audio, but buffer only has {buffered:.2f}ms of audio.",
                event_id=client_id,
            )
            return
        async with self._input_lock:
            item_id = self._input.take_turn_item_id(self._ids.new("item"))
            self._pending_start = None
            self._input.consume()
            await self._commit(item_id, self._listener.take())

    async def _on_audio_clear(self, event: dict[str, Any], client_id: str | None) -> None:
        async with self._input_lock:
            self._pending_start = None
            self._input.clear()
            await self._send("input_audio_buffer.cleared", {})

    # -- a noise at the caller's end -------------------------------------------------------

    async def cough(
        self, ms: int = 250, *, level_dbfs: float = COUGH_LEVEL_DBFS, pace: float = 1.0
    ) -> None:
        """A noise burst of ``ms`` reaches the service as user audio, starting now.

        It is mixed into the audio the client sends from now on, as a cough in the room
        would be; whatever the client does not send is played over silence at ``pace``
        times real time (0: at once). The burst is followed by ``silence_duration_ms`` and
        two VAD frames of silence, so server VAD sees a whole turn: ``speech_started``
        (cancelling the active response when ``interrupt_response`` is on),
        ``speech_stopped``, ``committed``, a user item nothing is recognized in, and a
        reply when ``create_response`` is on. Returns once all of it has been heard; a
        second cough waits for the first. Raises ``ValueError`` for impossible arguments.
        """
        if not MIN_COUGH_MS <= ms <= MAX_COUGH_MS:
            raise ValueError(f"ms must be from {MIN_COUGH_MS} to {MAX_COUGH_MS}, not {ms!r}")
        if not -60.0 <= level_dbfs <= 0.0:
            raise ValueError(f"level_dbfs must be from -60 to 0, not {level_dbfs!r}")
        if pace < 0:
            raise ValueError("pace must be >= 0 (0 = at once)")
        async with self._cough_lock:
            rate = self._input.sample_rate
            vad = VadConfig.from_turn_detection(self.session.get("turn_detection"), rate)
            tail_ms = (vad or VadConfig()).silence_duration_ms + 2 * FRAME_MS
            self._coughs += 1
            noise = cough_noise(ms, rate, level_dbfs=level_dbfs, seed=self._coughs)
            overlay = Overlay(noise + bytes(rate * tail_ms // 1000 * 2), rate)
            async with self._input_lock:
                self._input.overlay = overlay
            try:
                await self._play(overlay, pace)
            finally:
                if self._input.overlay is overlay:
                    self._input.overlay = None

    async def _play(self, overlay: Overlay, pace: float) -> None:
        """Feed what the client's own audio has not carried of ``overlay``, in real time.

        While the client streams its microphone the cough rides on that audio alone (the
        timeline stays the client's); once it stops, what is due is played over silence.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        while overlay.remaining and self._input.overlay is overlay:
            now = loop.time()
            due = overlay.total if pace == 0 else int((now - start) * pace * overlay.sample_rate)
            if now - self._last_append >= _STREAMING_GAP:
                async with self._input_lock:
                    missing = min(due, overlay.total) - overlay.position
                    if missing > 0 and self._input.overlay is overlay:
                        await self._take_input(self._input.inject(missing))
            if overlay.remaining:
                await asyncio.sleep(FRAME_MS / 1000)

    def _fault_cough(self) -> None:
        """``Faults.cough_after_chunks``: once per connection."""
        if not self._fault_coughed:
            self._fault_coughed = True
            self._spawn(self._quiet(self.cough(self.faults.cough_ms)))

    @staticmethod
    async def _quiet(coro: Awaitable[None]) -> None:
        with contextlib.suppress(ConnectionGone):
            await coro

    async def _on_output_clear(self, event: dict[str, Any], client_id: str | None) -> None:
        await self._error(
            "invalid_value",
            "output_audio_buffer.clear is only supported with an avatar (WebRTC output).",
            param="type",
            event_id=client_id,
        )
