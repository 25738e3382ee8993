"""The ``conversation.item.*`` client events: create, truncate, delete, retrieve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .conversation import Conversation, item_problem
from .events import INVALID_REQUEST, Ids, clone

__all__ = ["ItemEvents"]


@dataclass(frozen=True, slots=True)
class _Truncation:
    item_id: str
    content_index: int
    end_ms: int
    audio_ms: int


class ItemEvents:
    """What a connection does with conversation items (mixed into the connection)."""

    conversation: Conversation
    _ids: Ids

    # Provided by the connection.
    async def _send(self, kind: str, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _error(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        event_id: str | None = None,
        kind: str = INVALID_REQUEST,
    ) -> None:
        raise NotImplementedError

    async def _on_item_create(self, event: dict[str, Any], client_id: str | None) -> None:
        item = event.get("item")
        problem = item_problem(item)
        if problem is not None or not isinstance(item, dict):
            param, message = problem or ("item", "Missing required parameter: 'item'.")
            await self._error("invalid_value", message, param=param, event_id=client_id)
            return
        item_id = item.get("id") or self._ids.new("item")
        after = event.get("previous_item_id")
        if item_id in self.conversation:
            await self._error(
                "invalid_value",
                f"An item with id {item_id!r} already exists.",
                param="item.id",
                event_id=client_id,
            )
            return
        if after is not None and after != "root" and after not in self.conversation:
            await self._error(
                "invalid_value",
                f"Item with previous_item_id {after!r} not found.",
                param="previous_item_id",
                event_id=client_id,
            )
            return
        await self._add_item({**item, "id": item_id}, after=after)

    async def _add_item(self, item: dict[str, Any], *, after: str | None = None) -> None:
        """Store a (checked) client item and announce it with ``conversation.item.created``."""
        item_id = item.get("id") or self._ids.new("item")
        stored = {**clone(item), "id": item_id, "object": "realtime.item"}
        stored.setdefault("status", "completed")
        previous = self.conversation.insert(stored, after=after)
        await self._send(
            "conversation.item.created",
            {"previous_item_id": previous, "item": clone(stored)},
        )

    async def _on_item_truncate(self, event: dict[str, Any], client_id: str | None) -> None:
        checked = self._truncation(event)
        if isinstance(checked, tuple):
            param, message = checked
            await self._error("invalid_value", message, param=param, event_id=client_id)
            return
        item_id, content_index, end_ms = checked.item_id, checked.content_index, checked.end_ms
        item = self.conversation.get(item_id) or {}
        part = item["content"][content_index]
        transcript = part.get("transcript")
        words = self.conversation.words(item_id)
        if isinstance(transcript, str) and checked.audio_ms and end_ms < checked.audio_ms:
            # Keep only the words the user could have heard, as the service drops the rest:
            # those whose audio ended by then, or, without timings, a share of the text.
            if words:
                heard = [word.text for word in words if word.offset_ms + word.duration_ms <= end_ms]
                part["transcript"] = " ".join(heard)
            else:
                kept = transcript[: len(transcript) * end_ms // checked.audio_ms]
                part["transcript"] = kept.rsplit(" ", 1)[0] if " " in kept else ""
        self.conversation.set_audio_ms(item_id, end_ms)
        await self._send(
            "conversation.item.truncated",
            {"item_id": item_id, "content_index": content_index, "audio_end_ms": end_ms},
        )

    def _truncation(self, event: dict[str, Any]) -> _Truncation | tuple[str, str]:
        """The checked truncate request, or ``(param, message)`` saying what is wrong."""
        item_id = event.get("item_id")
        content_index = event.get("content_index", 0)
        end_ms = event.get("audio_end_ms")
        if not isinstance(item_id, str) or item_id not in self.conversation:
            return "item_id", f"Item with item_id {item_id!r} not found."
        item = self.conversation.get(item_id) or {}
        audio_ms = self.conversation.audio_ms(item_id)
        if item.get("role") != "assistant" or audio_ms is None:
            return "item_id", "Only assistant message items with audio can be truncated."
        content = item.get("content") or []
        if not isinstance(content_index, int) or not 0 <= content_index < len(content):
            return "content_index", f"Invalid content_index {content_index!r}."
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or not 0 <= end_ms <= audio_ms:
            return (
                "audio_end_ms",
                f"audio_end_ms ({end_ms!r}) must be between 0 and the item's audio "
                f"duration ({audio_ms} ms).",
            )
        return _Truncation(item_id, content_index, end_ms, audio_ms)

    async def _on_item_delete(self, event: dict[str, Any], client_id: str | None) -> None:
        item_id = event.get("item_id")
        if isinstance(item_id, str) and self.conversation.delete(item_id):
            await self._send("conversation.item.deleted", {"item_id": item_id})
            return
        await self._error(
            "invalid_value",
            f"Item with item_id {item_id!r} not found.",
            param="item_id",
            event_id=client_id,
        )

    async def _on_item_retrieve(self, event: dict[str, Any], client_id: str | None) -> None:
        item_id = event.get("item_id")
        item = self.conversation.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            await self._error(
                "invalid_value",
                f"Item with item_id {item_id!r} not found.",
                param="item_id",
                event_id=client_id,
            )
            return
        await self._send("conversation.item.retrieved", {"item": clone(item)})
