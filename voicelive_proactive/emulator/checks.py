"""Value rules shared by ``session.update`` and ``response.create``.

Each check returns ``None`` when the value is acceptable, or a :class:`Problem` naming the
param. The limits are the documented ones (SDK 1.3.1 model docs, the Voice Live and OpenAI
Realtime references); nothing stricter is invented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

__all__ = [
    "MAX_METADATA_KEY_CHARS",
    "MAX_METADATA_PAIRS",
    "MAX_METADATA_VALUE_CHARS",
    "MAX_OUTPUT_TOKENS",
    "TEMPERATURE_RANGE",
    "Problem",
    "is_number",
    "max_tokens_problem",
    "metadata_problem",
    "temperature_problem",
    "token_limit",
]

MAX_METADATA_PAIRS: Final = 16
MAX_METADATA_KEY_CHARS: Final = 64
MAX_METADATA_VALUE_CHARS: Final = 512
MAX_OUTPUT_TOKENS: Final = 4096
"""``max_output_tokens``: an integer from 1 to 4096, or ``"inf"``."""
TEMPERATURE_RANGE: Final = (0.6, 1.2)
"""``temperature`` is "limited to [0.6, 1.2]" (the model docs)."""


class Problem(NamedTuple):
    """Why a value is refused: the ``error`` event's ``code``, ``message`` and ``param``."""

    code: str
    message: str
    param: str


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metadata_problem(value: object, param: str) -> Problem | None:
    """Up to 16 string pairs; keys at most 64 characters, values at most 512."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return Problem("invalid_type", f"'{param}' must be an object of strings.", param)
    if len(value) > MAX_METADATA_PAIRS:
        return Problem(
            "invalid_value",
            f"'{param}' has {len(value)} pairs; at most {MAX_METADATA_PAIRS} are allowed.",
            param,
        )
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > MAX_METADATA_KEY_CHARS:
            return Problem(
                "invalid_value",
                f"Keys of '{param}' must be strings of at most {MAX_METADATA_KEY_CHARS} "
                f"characters; {str(key)[:80]!r} is not.",
                param,
            )
        if not isinstance(item, str) or len(item) > MAX_METADATA_VALUE_CHARS:
            return Problem(
                "invalid_value",
                f"'{param}.{key}' must be a string of at most {MAX_METADATA_VALUE_CHARS} "
                "characters.",
                f"{param}.{key}",
            )
    return None


def max_tokens_problem(value: object, param: str) -> Problem | None:
    """An integer in 1..4096, or ``"inf"`` (None means unset)."""
    if value is None or value == "inf":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_OUTPUT_TOKENS:
        return None
    return Problem(
        "invalid_value",
        f"'{param}' must be an integer from 1 to {MAX_OUTPUT_TOKENS}, or 'inf'; got {value!r}.",
        param,
    )


def token_limit(value: object) -> int | None:
    """The limit as an int, None for ``"inf"`` or unset (the value must be checked first)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def temperature_problem(value: object, param: str) -> Problem | None:
    low, high = TEMPERATURE_RANGE
    if value is None or (is_number(value) and low <= float(value) <= high):  # type: ignore[arg-type]
        return None
    return Problem(
        "invalid_value",
        f"'{param}' must be a number from {low} to {high}; got {value!r}.",
        param,
    )


def string_problem(value: object, param: str) -> Problem | None:
    if value is None or isinstance(value, str):
        return None
    return Problem("invalid_type", f"'{param}' must be a string.", param)


def any_problem(*problems: Problem | None) -> Problem | None:
    """The first problem found, if any."""
    return next((problem for problem in problems if problem is not None), None)


def object_or_none(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
