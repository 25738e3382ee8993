"""The stand-in "model": a deterministic reply from the latest instruction or user turn.

It is not a language model and does not pretend to be one. It covers what the library's tests
and demo need: asked to greet, it greets (by name when the instructions give one); given a
user turn, it acknowledges it; asked to ``say "..."``, it says exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .conversation import item_text

__all__ = ["estimate_tokens", "reply_text"]

_GREET = re.compile(r"\b(greet\w*|welcome\w*|say hello|introduce yourself|hello|hi)\b", re.I)
_WELCOME_BACK = re.compile(r"\bwelcome\s+back\b", re.I)
_SAY = re.compile(r"""\bsay\s+(?:exactly\s*)?:?\s*(?:"([^"\n]{1,500})"|“([^”\n]{1,500})”)""", re.I)
_NAME = re.compile(
    r"""\bname\s+is\s*:?\s*(?:"([^"\n]{1,64})"|'([^'\n]{1,64})'|([A-Z][\w'-]{0,63}))"""
    r"""|\b(?:called|named)\s+(?:"([^"\n]{1,64})"|([A-Z][\w'-]{0,63}))"""
)
_MAX_ECHO_CHARS: Final = 200


def reply_text(
    items: Iterable[Mapping[str, Any]],
    *,
    session_instructions: str | None = None,
    response_instructions: str | None = None,
    additional_instructions: str | None = None,
) -> str:
    """What the assistant says next."""
    latest_role, latest_text = None, None
    for item in items:
        role = item.get("role")
        if item.get("type") == "message" and role in ("system", "user"):
            latest_role, latest_text = role, item_text(dict(item))
    # The closest instruction wins: per-response ones, then the latest system item.
    directives = [additional_instructions, response_instructions]
    if latest_role == "system":
        directives.append(latest_text)
    if latest_role is None:
        directives.append(session_instructions)
    present = [text for text in directives if text]
    for text in present:
        said = _SAY.search(text)
        if said:
            return next(group for group in said.groups() if group)
    name = _find_name([*present, session_instructions or ""])
    if latest_role == "user" and not any(_GREET.search(text) for text in present):
        if latest_text is None:
            return "I heard you. Could you tell me a little more?"
        echo = latest_text if len(latest_text) <= _MAX_ECHO_CHARS else latest_text[:197] + "..."
        return f'You said: "{echo}". How can I help with that?'
    if any(_WELCOME_BACK.search(text) for text in present):
        return f"Welcome back{', ' + name if name else ''}! How can I help you today?"
    # An empty conversation is the opening turn: a model greets there.
    if latest_role is None or any(_GREET.search(text) for text in present):
        hello = f"Hello {name}!" if name else "Hello!"
        return f"{hello} I'm your assistant. How can I help you today?"
    return "Understood. How can I help you today?"


def _find_name(texts: Iterable[str]) -> str | None:
    for text in texts:
        match = _NAME.search(text)
        if match:
            name = next(group for group in match.groups() if group).strip()
            if name:
                return name
    return None


def estimate_tokens(text: str | None) -> int:
    """About four tokens per three words, like an English tokenizer."""
    return 0 if not text else (len(text.split()) * 4 + 2) // 3
