"""Ids and the shapes of server events that more than one module builds."""

from __future__ import annotations

import itertools
import secrets
from typing import Any, Final

__all__ = [
    "INVALID_REQUEST",
    "SERVER_ERROR",
    "ConnectionGone",
    "Ids",
    "audio_part",
    "clone",
    "error_body",
    "message_item",
    "usage",
]

INVALID_REQUEST: Final = "invalid_request_error"
SERVER_ERROR: Final = "server_error"


class ConnectionGone(Exception):
    """The socket is closed or was dropped on purpose: stop sending."""


class Ids:
    """Unique ids without a syscall each time: a random per-connection stem plus a counter."""

    def __init__(self) -> None:
        self._stem = secrets.token_hex(6)
        self._counter = itertools.count(1)

    def new(self, kind: str) -> str:
        return f"{kind}_{self._stem}{next(self._counter):06d}"


def clone(value: Any) -> Any:
    """Deep copy for JSON-shaped data; several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


def error_body(
    code: str,
    message: str,
    *,
    param: str | None = None,
    event_id: str | None = None,
    kind: str = INVALID_REQUEST,
) -> dict[str, Any]:
    """The ``error`` field of an ``error`` event; ``event_id`` names the client event at fault."""
    return {"type": kind, "code": code, "message": message, "param": param, "event_id": event_id}


def audio_part(transcript: str = "") -> dict[str, Any]:
    return {"type": "audio", "transcript": transcript}


def message_item(
    item_id: str, role: str, content: list[dict[str, Any]], status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": role,
        "status": status,
        "content": content,
    }


def usage(input_tokens: int, text_tokens: int, audio_tokens: int) -> dict[str, Any]:
    output = text_tokens + audio_tokens
    return {
        "total_tokens": input_tokens + output,
        "input_tokens": input_tokens,
        "output_tokens": output,
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": input_tokens,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }
