"""Read a greeting configuration file (TOML or JSON) into plain data, or say exactly why not."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from voicelive_proactive.errors import ConfigFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

__all__ = ["MAX_FILE_BYTES", "SUFFIXES", "read_document"]

#: A greeting file is a few lines; anything this large is the wrong file.
MAX_FILE_BYTES = 1_000_000
SUFFIXES = (".toml", ".json")
_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_document(path: str | os.PathLike[str]) -> Any:
    """Parse ``path`` by its suffix (``.toml`` or ``.json``); raise :class:`ConfigFileError`."""
    where = os.fspath(path)
    suffix = Path(where).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigFileError(
            f"{where}: cannot tell the format from the suffix {suffix or '(none)'!r}; name the "
            "file *.toml or *.json, or load the data yourself and pass the dict.",
            path=where,
        )
    try:
        with open(where, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigFileError(f"{where}: cannot read the file: {reason}.", path=where) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigFileError(
            f"{where}: the file is larger than {MAX_FILE_BYTES:,} bytes; a greeting "
            "configuration is a few lines. Is it the right file?",
            path=where,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigFileError(
            f"{where}: line {line}: the file is not UTF-8 (byte {raw[exc.start]:#04x}); save "
            "it as UTF-8.",
            path=where,
            line=line,
        ) from None
    return _parse_toml(text, where) if suffix == ".toml" else _parse_json(text, where)


def _parse_toml(text: str, where: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        match = _AT_LINE.search(str(exc))
        if line is None and match:  # Python 3.11-3.13 put the position in the message only
            line, column = int(match.group(1)), int(match.group(2))
        reason = _AT_LINE.sub("", getattr(exc, "msg", None) or str(exc)).strip()
        raise _syntax_error(where, "TOML", reason, line, column) from None
    except RecursionError:
        raise _too_deep(where) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise _syntax_error(where, "TOML", str(exc), None, None) from None


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise _syntax_error(where, "JSON", exc.msg, exc.lineno, exc.colno) from None
    except _DuplicateKey as exc:
        raise ConfigFileError(
            f"{where}: invalid JSON: the key {exc.args[0]!r} appears twice in one object; "
            "keep one.",
            path=where,
        ) from None
    except RecursionError:
        raise _too_deep(where) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise _syntax_error(where, "JSON", str(exc), None, None) from None


def _syntax_error(
    where: str, what: str, reason: str, line: int | None, column: int | None
) -> ConfigFileError:
    at = f"line {line}, column {column}: " if line is not None else ""
    return ConfigFileError(
        f"{where}: {at}invalid {what}: {reason}.", path=where, line=line, column=column
    )


def _too_deep(where: str) -> ConfigFileError:
    return ConfigFileError(f"{where}: the file is nested too deeply to read.", path=where)
