"""One response from ``response.created`` to ``response.done``, paced like a streaming service."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat

from .animation import SILENCE, Word, viseme_ids
from .conversation import Conversation
from .events import ConnectionGone, Ids, audio_part, clone, message_item, usage
from .model import estimate_tokens
from .response_params import pre_generated_text
from .speech import SpeechCache
from .tools import ToolCall

__all__ = ["ActiveResponse", "ResponsePlan", "Send", "pre_generated_text"]

Send = Callable[[str, dict[str, Any]], Awaitable[None]]
"""``send(event_type, fields)``: the connection adds ``event_id`` and puts it on the wire."""

log = logging.getLogger(__name__)

_PIECES = re.compile(r"\S+\s*")
_ARGUMENT_DELTA_CHARS: Final = 16
_AUDIO_TOKENS_PER_MS: Final = 1 / 50  # about 20 audio tokens a second


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """Everything decided when the response was accepted."""

    text: str = ""
    audio: bool = True
    one_transcript_delta: bool = False
    """Pre-generated speech: the service sends the whole text in one transcript delta."""
    input_tokens: int = 0
    pace: float = 4.0
    created_delay: float = 0.0
    stall_after_chunks: int | None = None
    stall_seconds: float = 0.0
    cough_after_chunks: int | None = None
    """Call ``on_cough`` once this many audio chunks are out (the cough fault)."""
    tool_call: ToolCall | None = None
    """Call this function instead of speaking (no audio in this response)."""
    metadata: dict[str, str] | None = None
    in_conversation: bool = True
    """False for ``conversation: "none"``: the output joins no conversation."""
    conversation_id: str | None = None
    max_output_tokens: int | None = None
    """Stop at this many output tokens (status ``incomplete``); None is ``inf``."""
    output_format: AudioFormat = PCM16_24K
    word_timestamps: bool = False
    """``response.audio_timestamp.delta`` per word (``output_audio_timestamp_types``)."""
    visemes: bool = False
    """``response.animation_viseme.delta`` (``animation.outputs`` has ``viseme_id``)."""
    echo: Mapping[str, Any] = field(default_factory=dict)
    """Further fields of the ``response`` object (voice, temperature, formats, limits)."""


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ActiveResponse:
    """Streams one response. ``cancel()`` ends it early with status ``cancelled``."""

    def __init__(
        self,
        plan: ResponsePlan,
        *,
        ids: Ids,
        send: Send,
        conversation: Conversation,
        speech: SpeechCache,
        release: Callable[[ActiveResponse], None],
        on_cough: Callable[[], None] | None = None,
    ) -> None:
        self.plan = plan
        self.id = ids.new("resp")
        self.item_id = ids.new("item")
        self.call_id = ids.new("call") if plan.tool_call is not None else None
        self.cancel_reason: str | None = None
        self.created = asyncio.Event()
        """Set once ``response.created`` is on the wire."""
        self.finished = asyncio.Event()
        self._send = send
        self._conversation = conversation
        self._speech = speech
        self._release = release
        self._on_cough = on_cough
        self._finishing = False
        self._limited = False
        self._audio_ms = 0
        self._waiter: asyncio.Future[None] | None = None

    @property
    def in_conversation(self) -> bool:
        return self.plan.in_conversation

    def cancel(self, reason: str) -> bool:
        """Ask the stream to stop; False when too late (the done events are going out)."""
        if self._finishing or self.cancel_reason is not None or self.finished.is_set():
            return False
        self.cancel_reason = reason
        if self._waiter is not None:
            _wake(self._waiter)
        return True

    async def run(self) -> None:
        try:
            await self._run()
        except ConnectionGone:
            raise
        except Exception:
            # A bug must end the response visibly, not leave the client waiting forever.
            log.exception("emulator response %s failed", self.id)
            await self._failed()
        finally:
            self._release(self)
            self.created.set()
            self.finished.set()

    async def _failed(self) -> None:
        self._release(self)
        error = {"type": "server_error", "message": "The emulator failed to generate audio."}
        await self._send("error", {"error": {**error, "code": "server_error", "param": None}})
        details = {"type": "failed", "error": error}
        response = self._response("failed", [], status_details=details)
        await self._send("response.done", {"response": response})

    async def _pause(self, seconds: float) -> None:
        """Sleep that a cancel cuts short."""
        if self.cancel_reason is not None:
            return
        if seconds <= 0:
            await asyncio.sleep(0)  # let other sessions and the reader run
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(seconds, _wake, waiter)
        self._waiter = waiter
        try:
            await waiter
        finally:
            handle.cancel()
            self._waiter = None

    def _response(self, status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        plan = self.plan
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": None,
            "output": output,
            "conversation_id": plan.conversation_id if plan.in_conversation else None,
            "modalities": ["text", "audio"] if plan.audio else ["text"],
            **plan.echo,
            "metadata": clone(plan.metadata),
            "usage": None,
            **extra,
        }

    def _where(self) -> dict[str, Any]:
        return {
            "response_id": self.id,
            "item_id": self.item_id,
            "output_index": 0,
            "content_index": 0,
        }

    def _set_audio_ms(self, duration_ms: int) -> None:
        self._audio_ms = duration_ms
        if self.plan.in_conversation:
            self._conversation.set_audio_ms(self.item_id, duration_ms)

    async def _add_item(self, item: dict[str, Any]) -> None:
        await self._send(
            "response.output_item.added",
            {"response_id": self.id, "output_index": 0, "item": clone(item)},
        )
        if self.plan.in_conversation:
            previous = self._conversation.insert(item)
            await self._send(
                "conversation.item.created", {"previous_item_id": previous, "item": clone(item)}
            )

    async def _run(self) -> None:
        await self._pause(self.plan.created_delay)
        await self._send("response.created", {"response": self._response("in_progress", [])})
        self.created.set()
        if self.cancel_reason is not None:
            await self._done([], text="", audio_ms=0)
            return
        if self.plan.tool_call is not None:
            await self._run_call(self.plan.tool_call)
            return
        item = message_item(self.item_id, "assistant", [], status="in_progress")
        await self._add_item(item)
        part = audio_part() if self.plan.audio else {"type": "text", "text": ""}
        item["content"].append(part)
        await self._send("response.content_part.added", {**self._where(), "part": dict(part)})
        if self.plan.audio:
            text, audio_ms = await self._stream_audio()
        else:
            text, audio_ms = await self._stream_text(), 0
        await self._finish(item, part, text, audio_ms)

    def _over_limit(self, words: int, audio_ms: int) -> bool:
        limit = self.plan.max_output_tokens
        if limit is None:
            return False
        spent = (words * 4 + 2) // 3 if words else 0
        if spent + int(audio_ms * _AUDIO_TOKENS_PER_MS) > limit:
            self._limited = True
            return True
        return False

    async def _stream_audio(self) -> tuple[str, int]:
        """Transcript and audio deltas, interleaved; returns (transcript sent, audio ms sent)."""
        plan, send, where = self.plan, self._send, self._where()
        speech = await self._speech.get(plan.text, plan.output_format)
        chunks = speech.chunks
        if plan.in_conversation:
            self._conversation.set_words(self.item_id, speech.words)
        pieces = [plan.text] if plan.one_transcript_delta else _PIECES.findall(plan.text)
        # Each word's transcript goes out with the chunk its audio starts in, so the
        # transcript keeps pace with the voice.
        if len(pieces) == len(speech.words):
            last = len(chunks) - 1
            due = [min(word.offset_ms // speech.chunk_ms, last) for word in speech.words]
        else:
            due = [index * len(chunks) // len(pieces) for index in range(len(pieces))]
        timeline = speech.words if plan.word_timestamps or plan.visemes else ()
        sent_pieces = words = next_word = 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, chunk in enumerate(chunks):
            if self.cancel_reason is not None:
                break
            ready = sent_pieces
            while ready < len(pieces) and due[ready] <= index:
                ready += 1
            more = sum(len(piece.split()) for piece in pieces[sent_pieces:ready])
            if self._over_limit(words + more, (index + 1) * speech.chunk_ms):
                break
            for piece in pieces[sent_pieces:ready]:
                await send("response.audio_transcript.delta", {**where, "delta": piece})
            sent_pieces, words = ready, words + more
            chunk_end = (index + 1) * speech.chunk_ms
            while next_word < len(timeline) and timeline[next_word].offset_ms < chunk_end:
                await self._mark_word(timeline[next_word])
                next_word += 1
            await send("response.audio.delta", {**where, "delta": chunk})
            sent = index + 1
            self._set_audio_ms(sent * speech.chunk_ms)
            if sent == plan.cough_after_chunks and self._on_cough is not None:
                self._on_cough()
            if sent == plan.stall_after_chunks and plan.stall_seconds > 0:
                stalled = loop.time()
                await self._pause(plan.stall_seconds)
                start += loop.time() - stalled  # pacing resumes after the stall, no burst
            if plan.pace > 0:
                target = start + sent * speech.chunk_ms / 1000 / plan.pace
                await self._pause(target - loop.time())
            else:
                await self._pause(0)
        if self.cancel_reason is None and not self._limited:
            return plan.text, self._audio_ms
        return "".join(pieces[:sent_pieces]).rstrip(), self._audio_ms

    async def _mark_word(self, word: Word) -> None:
        where = self._where()
        if self.plan.word_timestamps:
            await self._send(
                "response.audio_timestamp.delta",
                {
                    **where,
                    "audio_offset_ms": word.offset_ms,
                    "audio_duration_ms": word.duration_ms,
                    "text": word.text,
                    "timestamp_type": "word",
                },
            )
        if self.plan.visemes:
            for offset, viseme in viseme_ids(word):
                await self._send(
                    "response.animation_viseme.delta",
                    {**where, "audio_offset_ms": offset, "viseme_id": viseme},
                )

    async def _stream_text(self) -> str:
        where, sent = self._where(), list[str]()
        for piece in _PIECES.findall(self.plan.text):
            if self.cancel_reason is not None or self._over_limit(len(sent) + 1, 0):
                break
            await self._send("response.text.delta", {**where, "delta": piece})
            sent.append(piece)
            await self._pause(0)
        if self.cancel_reason is None and not self._limited:
            return self.plan.text
        return "".join(sent).rstrip()

    async def _run_call(self, call: ToolCall) -> None:
        item: dict[str, Any] = {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": self.call_id,
            "arguments": "",
        }
        await self._add_item(item)
        where = {"response_id": self.id, "item_id": self.item_id, "output_index": 0}
        arguments = call.arguments
        sent = ""
        for start in range(0, len(arguments), _ARGUMENT_DELTA_CHARS):
            piece = arguments[start : start + _ARGUMENT_DELTA_CHARS]
            if self.cancel_reason is not None or self._call_over(sent + piece):
                break
            await self._send(
                "response.function_call_arguments.delta",
                {**where, "call_id": self.call_id, "delta": piece},
            )
            sent += piece
            await self._pause(0)
        self._finishing = True
        await self._send(
            "response.function_call_arguments.done",
            {**where, "call_id": self.call_id, "name": call.name, "arguments": sent},
        )
        item["arguments"] = sent
        item["status"] = "completed" if sent == arguments else "incomplete"
        await self._send(
            "response.output_item.done",
            {"response_id": self.id, "output_index": 0, "item": clone(item)},
        )
        await self._done([clone(item)], text=sent, audio_ms=0, text_tokens=_json_tokens(sent))

    def _call_over(self, arguments: str) -> bool:
        limit = self.plan.max_output_tokens
        if limit is not None and _json_tokens(arguments) > limit:
            self._limited = True
            return True
        return False

    async def _finish(
        self, item: dict[str, Any], part: dict[str, Any], text: str, audio_ms: int
    ) -> None:
        self._finishing = True
        send, where = self._send, self._where()
        stopped = self.cancel_reason is not None or self._limited
        if self.plan.audio:
            part["transcript"] = text
            if self.plan.word_timestamps:
                await send("response.audio_timestamp.done", where)
            if self.plan.visemes:
                await send(
                    "response.animation_viseme.delta",
                    {**where, "audio_offset_ms": audio_ms, "viseme_id": SILENCE},
                )
                await send("response.animation_viseme.done", where)
            await send("response.audio.done", where)
            await send("response.audio_transcript.done", {**where, "transcript": text})
        else:
            part["text"] = text
            await send("response.text.done", {**where, "text": text})
        item["status"] = "incomplete" if stopped else "completed"
        await send("response.content_part.done", {**where, "part": dict(part)})
        await send(
            "response.output_item.done",
            {"response_id": self.id, "output_index": 0, "item": clone(item)},
        )
        await self._done([clone(item)], text=text, audio_ms=audio_ms)

    async def _done(
        self,
        output: list[dict[str, Any]],
        *,
        text: str,
        audio_ms: int,
        text_tokens: int | None = None,
    ) -> None:
        status, details = "completed", None
        if self.cancel_reason is not None:
            status, details = "cancelled", {"type": "cancelled", "reason": self.cancel_reason}
        elif self._limited:
            status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        tokens = estimate_tokens(text) if text_tokens is None else text_tokens
        spent = usage(self.plan.input_tokens, tokens, int(audio_ms * _AUDIO_TOKENS_PER_MS))
        # Free the slot before response.done goes out: a client that answers response.done
        # with a new response.create at once must not be told a response is still active.
        self._release(self)
        await self._send(
            "response.done",
            {"response": self._response(status, output, status_details=details, usage=spent)},
        )


def _json_tokens(arguments: str) -> int:
    """About one token per four characters of JSON."""
    return -(-len(arguments) // 4)
