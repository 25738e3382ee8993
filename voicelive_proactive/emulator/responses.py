"""One response from ``response.created`` to ``response.done``, paced like a streaming service."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .conversation import Conversation
from .events import ConnectionGone, Ids, audio_part, clone, message_item, usage
from .model import estimate_tokens
from .speech import SpeechCache

__all__ = ["ActiveResponse", "ResponsePlan", "Send", "pre_generated_text"]

Send = Callable[[str, dict[str, Any]], Awaitable[None]]
"""``send(event_type, fields)``: the connection adds ``event_id`` and puts it on the wire."""

log = logging.getLogger(__name__)

_PIECES = re.compile(r"\S+\s*")


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """Everything decided when ``response.create`` was accepted."""

    text: str
    audio: bool = True
    one_transcript_delta: bool = False
    """Pre-generated speech: the service sends the whole text in one transcript delta."""
    input_tokens: int = 0
    pace: float = 4.0
    created_delay: float = 0.0
    stall_after_chunks: int | None = None
    stall_seconds: float = 0.0


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
    ) -> None:
        self.plan = plan
        self.id = ids.new("resp")
        self.item_id = ids.new("item")
        self.cancel_reason: str | None = None
        self.finished = asyncio.Event()
        self._send = send
        self._conversation = conversation
        self._speech = speech
        self._release = release
        self._finishing = False
        self._waiter: asyncio.Future[None] | None = None

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
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": None,
            "output": output,
            "modalities": ["text", "audio"] if self.plan.audio else ["text"],
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

    async def _run(self) -> None:
        send = self._send
        await self._pause(self.plan.created_delay)
        await send("response.created", {"response": self._response("in_progress", [])})
        if self.cancel_reason is not None:
            await self._done([], text="", audio_ms=0)
            return
        item = message_item(self.item_id, "assistant", [], status="in_progress")
        await send(
            "response.output_item.added",
            {"response_id": self.id, "output_index": 0, "item": clone(item)},
        )
        previous = self._conversation.insert(item)
        await send(
            "conversation.item.created",
            {"previous_item_id": previous, "item": clone(item)},
        )
        part = audio_part() if self.plan.audio else {"type": "text", "text": ""}
        item["content"].append(part)
        await send("response.content_part.added", {**self._where(), "part": dict(part)})
        if self.plan.audio:
            text, audio_ms = await self._stream_audio()
        else:
            text, audio_ms = await self._stream_text(), 0
        await self._finish(item, part, text, audio_ms)

    async def _stream_audio(self) -> tuple[str, int]:
        """Transcript and audio deltas, interleaved; returns (transcript sent, audio ms sent)."""
        plan, send, where = self.plan, self._send, self._where()
        speech = await self._speech.get(plan.text)
        chunks = speech.chunks
        pieces = [plan.text] if plan.one_transcript_delta else _PIECES.findall(plan.text)
        # Spread the words over the audio so the transcript keeps pace with the voice.
        due = [index * len(chunks) // len(pieces) for index in range(len(pieces))]
        sent_pieces = 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, chunk in enumerate(chunks):
            if self.cancel_reason is not None:
                break
            while sent_pieces < len(pieces) and due[sent_pieces] <= index:
                await send(
                    "response.audio_transcript.delta", {**where, "delta": pieces[sent_pieces]}
                )
                sent_pieces += 1
            await send("response.audio.delta", {**where, "delta": chunk})
            sent = index + 1
            self._conversation.set_audio_ms(self.item_id, sent * speech.chunk_ms)
            if sent == plan.stall_after_chunks and plan.stall_seconds > 0:
                stalled = loop.time()
                await self._pause(plan.stall_seconds)
                start += loop.time() - stalled  # pacing resumes after the stall, no burst
            if plan.pace > 0:
                target = start + sent * speech.chunk_ms / 1000 / plan.pace
                await self._pause(target - loop.time())
            else:
                await self._pause(0)
        audio_ms = self._conversation.audio_ms(self.item_id) or 0
        if self.cancel_reason is None:
            return plan.text, audio_ms
        return "".join(pieces[:sent_pieces]).rstrip(), audio_ms

    async def _stream_text(self) -> str:
        where, sent = self._where(), []
        for piece in _PIECES.findall(self.plan.text):
            if self.cancel_reason is not None:
                break
            await self._send("response.text.delta", {**where, "delta": piece})
            sent.append(piece)
            await self._pause(0)
        return self.plan.text if self.cancel_reason is None else "".join(sent).rstrip()

    async def _finish(
        self, item: dict[str, Any], part: dict[str, Any], text: str, audio_ms: int
    ) -> None:
        self._finishing = True
        send, where = self._send, self._where()
        cancelled = self.cancel_reason is not None
        if self.plan.audio:
            part["transcript"] = text
            await send("response.audio.done", where)
            await send("response.audio_transcript.done", {**where, "transcript": text})
        else:
            part["text"] = text
            await send("response.text.done", {**where, "text": text})
        item["status"] = "incomplete" if cancelled else "completed"
        await send("response.content_part.done", {**where, "part": dict(part)})
        await send(
            "response.output_item.done",
            {"response_id": self.id, "output_index": 0, "item": clone(item)},
        )
        await self._done([clone(item)], text=text, audio_ms=audio_ms)

    async def _done(self, output: list[dict[str, Any]], *, text: str, audio_ms: int) -> None:
        status, details = "completed", None
        if self.cancel_reason is not None:
            status, details = "cancelled", {"type": "cancelled", "reason": self.cancel_reason}
        spent = usage(self.plan.input_tokens, estimate_tokens(text), audio_ms // 50)
        # Free the slot before response.done goes out: a client that answers response.done
        # with a new response.create at once must not be told a response is still active.
        self._release(self)
        await self._send(
            "response.done",
            {"response": self._response(status, output, status_details=details, usage=spent)},
        )


def pre_generated_text(message: object) -> str | None:
    """The text of a valid pre-generated message: an assistant message with ONE text part."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return None
    if message.get("type", "message") != "message":
        return None
    content = message.get("content")
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        return None
    part = content[0]
    text = part.get("text")
    if part.get("type") != "text" or not isinstance(text, str) or not text.strip():
        return None
    return text
