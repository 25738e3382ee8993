"""A connection's conversation: ordered items, plus how much audio each assistant item holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .animation import Word

__all__ = ["Conversation", "item_problem", "item_text"]


class Conversation:
    """Items in order. ``insert`` answers the ``previous_item_id`` the service would report."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._audio_ms: dict[str, int] = {}
        self._words: dict[str, tuple[Word, ...]] = {}
        self.heard: dict[str, str] = {}
        """What the emulator recognized in user audio items (see ``hearing``), by item id."""

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def get(self, item_id: str) -> dict[str, Any] | None:
        return self._by_id.get(item_id)

    @property
    def last_id(self) -> str | None:
        return self._items[-1]["id"] if self._items else None

    def insert(self, item: dict[str, Any], after: str | None = None) -> str | None:
        """Append, or insert after ``after`` (``"root"`` = at the start); return the item before."""
        if after is None:
            previous = self.last_id
            self._items.append(item)
        elif after == "root":
            previous = None
            self._items.insert(0, item)
        else:
            index = next(i for i, known in enumerate(self._items) if known["id"] == after)
            previous = after
            self._items.insert(index + 1, item)
        self._by_id[item["id"]] = item
        return previous

    def delete(self, item_id: str) -> bool:
        item = self._by_id.pop(item_id, None)
        if item is None:
            return False
        self._items.remove(item)
        self._audio_ms.pop(item_id, None)
        self._words.pop(item_id, None)
        self.heard.pop(item_id, None)
        return True

    def audio_ms(self, item_id: str) -> int | None:
        """Milliseconds of audio the client has been sent for this item, if it has audio."""
        return self._audio_ms.get(item_id)

    def set_audio_ms(self, item_id: str, duration_ms: int) -> None:
        self._audio_ms[item_id] = duration_ms

    def words(self, item_id: str) -> tuple[Word, ...]:
        """Where each word of an assistant item's audio lies (empty if unknown)."""
        return self._words.get(item_id, ())

    def set_words(self, item_id: str, words: Sequence[Word]) -> None:
        self._words[item_id] = tuple(words)


def item_text(item: dict[str, Any]) -> str | None:
    """The words of a message item: its text parts, or the transcripts of its audio parts."""
    words = []
    for part in item.get("content") or ():
        if not isinstance(part, dict):
            continue
        text = part.get("text") if part.get("type") in ("input_text", "text") else None
        if text is None:
            text = part.get("transcript")
        if isinstance(text, str) and text.strip():
            words.append(text.strip())
    return " ".join(words) or None


_ROLES = ("system", "user", "assistant")
_PART_TYPES = {
    "system": ("input_text",),
    "user": ("input_text", "input_audio", "input_image"),
    "assistant": ("text", "audio"),
}


def item_problem(item: object) -> tuple[str, str] | None:
    """``(param, message)`` when ``conversation.item.create`` cannot take this item."""
    if not isinstance(item, dict):
        return "item", "Missing required parameter: 'item'."
    if item.get("id") is not None and not isinstance(item.get("id"), str):
        return "item.id", "item.id must be a string."
    kind = item.get("type")
    if kind == "function_call_output":
        return _fields_problem(item, ("call_id", "output"))
    if kind == "function_call":
        return _fields_problem(item, ("call_id", "name", "arguments"))
    if kind != "message":
        supported = "'message', 'function_call', 'function_call_output'"
        return "item.type", f"Invalid value: {kind!r}. Supported values are: {supported}."
    role = item.get("role")
    if role not in _ROLES:
        return (
            "item.role",
            f"Invalid value: {role!r}. Supported values are: 'system', 'user', 'assistant'.",
        )
    content = item.get("content")
    if not isinstance(content, list) or not content:
        return "item.content", "A message item needs a non-empty content list."
    for index, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in _PART_TYPES[role]:
            allowed = ", ".join(f"'{name}'" for name in _PART_TYPES[role])
            return f"item.content[{index}].type", f"A {role} message part must be one of {allowed}."
    return None


def _fields_problem(item: dict[str, Any], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        if not isinstance(item.get(name), str):
            return f"item.{name}", f"Missing required parameter: 'item.{name}' (a string)."
    return None
