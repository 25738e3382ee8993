"""Server events into the engine: one small handler per event type the rules depend on.

Part of the engine (no I/O). Each handler checks the fields it needs first and raises
:class:`~voicelive_proactive.engine.Malformed` before changing anything, then updates the
floor and hands the facts that come back to the engine. A handler returns True when the
floor may have changed, so the queue should move.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .actions import WatchPlayout
from .floor import AudioVerdict
from .lifecycle import Phase, SpeechState
from .words import WordTiming

if TYPE_CHECKING:
    from .engine import Engine

# A speech still waiting to learn which response is its own.
_AWAITING_A_RESPONSE = (Phase.REQUESTED, Phase.AWAITING_TOOL)

__all__ = ["HANDLERS", "Receiver"]


class Receiver:
    """The engine's server-event handlers (:data:`HANDLERS` says which event goes where)."""

    __slots__ = ("_raw_formats", "core", "engine")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.core = engine.core
        self._raw_formats: tuple[object, ...] = ("pcm16", "pcm16", 24_000)  # the defaults

    # -- the session

    def _session_created(self, event: Any, now: float) -> bool:
        session = event.get("session")
        if isinstance(session, Mapping) and isinstance(session.get("id"), str):
            self.core.session_id = self.core.session_id or session["id"]
        self.engine.readiness.created(now)
        return False

    def _session_updated(self, event: Any, now: float) -> bool:
        session = _session_of(event)  # malformed: skipped, and it does not make the session ready
        if not self.core.ready:
            return self.engine.ready_now(event, now)
        self._learn(session)
        return True

    def learn(self, event: Any) -> None:
        """Read a ``session.updated``: the session id, the app's settings, the formats."""
        self._learn(_session_of(event))

    def _learn(self, session: Mapping[str, Any]) -> None:
        core = self.core
        session_id = session.get("id")
        if isinstance(session_id, str):
            core.session_id = session_id
        for update in core.settings.learn(session):
            core.out.send(update)
        raw = (
            session.get("output_audio_format"),
            session.get("input_audio_format"),
            session.get("input_audio_sampling_rate"),
        )
        if raw != self._raw_formats and raw != (None, None, None):
            self._raw_formats = raw
            self.engine.learn_formats(session)

    # -- responses

    def _response_created(self, event: Any, now: float) -> bool:
        response = _get(event, "response")
        response_id = _get(response, "id")
        if not isinstance(response_id, str):
            raise _malformed("response.created without a response id")
        floor = self.core.floor
        waiting = floor.awaiting_tool
        facts = floor.response_created(response_id, response.get("metadata"))
        view = floor.active
        if view is not None and view.request is not None:
            speech = view.request.owner
            if (
                isinstance(speech, SpeechState)
                and speech.request is view.request
                and (speech.response is None or speech.phase in _AWAITING_A_RESPONSE)
            ):
                # Proven or presumed: the response it may have. Not a late answer to a
                # request already settled on a guess: that speech keeps its own response.
                speech.response = view
                if speech.metrics.response_created is None:
                    speech.metrics.response_created = now
        self.engine.apply(facts, now)
        if (
            waiting is not None
            and floor.awaiting_tool is None
            and view is not None
            and view.request is not waiting.request  # not its continuation: the wait is over
        ):
            self.engine.speaking.tool_wait_over(waiting, now)
        if view is not None:
            self.engine.response_started(view)
        return True

    def _output_item_added(self, event: Any, now: float) -> bool:
        response_id = _get(event, "response_id")
        item = _get(event, "item")
        if not isinstance(item, Mapping):
            raise _malformed("response.output_item.added without an item")
        kind = item.get("type")
        if kind == "function_call":
            self.core.floor.function_call(response_id, done=False)
        elif kind == "message":
            self.core.floor.message_started(response_id, item.get("id"))
            self.engine.speaking.spoke(self.core.floor.response(response_id))
        return False

    def _function_call_done(self, event: Any, now: float) -> bool:
        view = self.core.floor.function_call(_get(event, "response_id"), done=True)
        if view is not None:
            call = (event.get("name"), event.get("call_id"), event.get("arguments") or "")
            self.engine.speaking.function_called(view, call)
        return False

    def _audio_delta(self, event: Any, now: float) -> bool:
        response_id = _get(event, "response_id")
        try:
            pcm = _decode_audio(_get(event, "delta"))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise _malformed(f"undecodable audio: {exc}") from None
        if self.core.floor.audio(response_id, pcm) is AudioVerdict.PLAY:
            self.engine.speaking.play(response_id, pcm, now)
        return False

    def _transcript_delta(self, event: Any, now: float) -> bool:
        text = event.get("delta")
        if isinstance(text, str):
            self.core.floor.transcript(_get(event, "response_id"), text, done=False)
        return False

    def _transcript_done(self, event: Any, now: float) -> bool:
        text = event.get("transcript")
        if isinstance(text, str):
            self.core.floor.transcript(_get(event, "response_id"), text, done=True)
            self.engine.speaking.spoke(self.core.floor.response(event.get("response_id")))
        return False

    def _timestamp_delta(self, event: Any, now: float) -> bool:
        view = self.core.floor.response(event.get("response_id"))
        if view is None:
            return False
        try:
            offset = int(event["audio_offset_ms"])
            duration = int(event["audio_duration_ms"])
            text = event["text"]
            word = WordTiming(str(text), max(0, offset), max(0, offset) + max(0, duration))
        except (KeyError, TypeError, ValueError) as exc:
            raise _malformed(f"a word timestamp without its fields: {exc}") from None
        if event.get("timestamp_type", "word") == "word":
            view.words.append(word)
        return False

    def _response_done(self, event: Any, now: float) -> bool:
        response = _get(event, "response")
        response_id = response.get("id") if isinstance(response, Mapping) else None
        if not isinstance(response_id, str):
            raise _malformed("response.done without a response id")
        details = response.get("status_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        status = response.get("status")
        core = self.core
        view = core.floor.response(response_id)
        calls = max(view.calls_done if view is not None else 0, _completed_calls(response))
        if status not in (None, "completed"):
            calls = 0  # a response cut short leaves no call open: nothing waits for it
        facts = core.floor.response_done(response_id, status, reason)
        core.tools.response_ended(calls)
        self.engine.apply(facts, now)
        if core.floor.playing:
            # Whoever's response it was, the engine wants to know when it has been heard
            # (idle nudges count from the end of local playout, not from response.done).
            core.out.add(WatchPlayout(core.floor.playout_position))
        return True

    # -- the user

    def _speech_started(self, event: Any, now: float) -> bool:
        self.engine.user_started(now, _ms(event.get("audio_start_ms")))
        return True

    def _speech_stopped(self, event: Any, now: float) -> bool:
        self.engine.user_stopped(now, _ms(event.get("audio_end_ms")))
        return True

    def _item_created(self, event: Any, now: float) -> bool:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return False
        if item.get("type") == "function_call_output":
            # The app answered a tool call; its response.create should follow at once.
            self.core.tools.output_added()
            self.engine.reply_grace(now)
            return False
        view = self.core.floor.response(item.get("id"))
        if view is not None and view.previous_item_id is None:
            previous = event.get("previous_item_id")
            view.previous_item_id = previous if isinstance(previous, str) else None
        return False

    def _error(self, event: Any, now: float) -> bool:
        error = event.get("error")
        if not isinstance(error, Mapping):
            raise _malformed("error event without an error object")
        code = error.get("code")
        message = str(error.get("message") or code or "unknown error")
        event_id = error.get("event_id")
        core = self.core
        if core.settings.rejected(event_id):
            self.engine.speaking.override_rejected(message)
            retry, core.settings.retry = core.settings.retry, None
            if retry is not None:
                core.out.send(retry)
            return True
        facts = core.floor.error(event_id, code, message)
        if not facts:
            self.engine.readiness.service_error(f"{code}: {message}" if code else message)
        self.engine.apply(facts, now)
        return True


#: The handler of each server event type the rules depend on (one table for every session;
#: others cost the engine one failed lookup).
HANDLERS: dict[str, Callable[[Receiver, Any, float], bool]] = {
    "session.created": Receiver._session_created,
    "session.updated": Receiver._session_updated,
    "response.created": Receiver._response_created,
    "response.output_item.added": Receiver._output_item_added,
    "response.audio.delta": Receiver._audio_delta,
    "response.audio_transcript.delta": Receiver._transcript_delta,
    "response.audio_transcript.done": Receiver._transcript_done,
    "response.audio_timestamp.delta": Receiver._timestamp_delta,
    "response.function_call_arguments.done": Receiver._function_call_done,
    "response.done": Receiver._response_done,
    "input_audio_buffer.speech_started": Receiver._speech_started,
    "input_audio_buffer.speech_stopped": Receiver._speech_stopped,
    "conversation.item.created": Receiver._item_created,
    "error": Receiver._error,
}


def _malformed(message: str) -> Exception:
    from .engine import Malformed

    return Malformed(message)


def _session_of(event: Any) -> Mapping[str, Any]:
    session = _get(event, "session")
    if type(session) is not dict and not isinstance(session, Mapping):
        raise _malformed("session.updated without a session object")
    return session


def _get(event: Any, key: str) -> Any:
    try:
        return event[key]
    except (KeyError, TypeError, IndexError):
        raise _malformed(f"the event has no {key!r}") from None


def _ms(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _completed_calls(response: Mapping[str, Any]) -> int:
    output = response.get("output")
    if not isinstance(output, list):
        return 0
    # A call item says "completed" when its arguments were; with no status, the response's
    # own status tells (a call the user cut off ends "incomplete" in a cancelled response).
    default = response.get("status") or "completed"
    return sum(
        1
        for item in output
        if isinstance(item, Mapping)
        and item.get("type") == "function_call"
        and item.get("status", default) == "completed"
    )


if sys.version_info >= (3, 11):

    def _decode_audio(data: str) -> bytes:
        # Strict: a chunk with stray characters is malformed, not silently re-aligned audio.
        return binascii.a2b_base64(data, strict_mode=True)

else:

    def _decode_audio(data: str) -> bytes:
        return base64.b64decode(data, validate=True)
