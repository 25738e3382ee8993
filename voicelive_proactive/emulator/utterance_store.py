"""Synthesized utterances shared between processes on one machine, as small JSON files.

A test harness often synthesizes its audio in one process and runs the emulator in another
(``python -m voicelive_proactive.emulator``). Each :func:`synthesize` call therefore also
leaves the utterance's loudness contour (and its text) in a per-user directory that every
emulator on the machine reads, so speech the package synthesized anywhere is recognized.

The directory is ``$VOICELIVE_EMULATOR_UTTERANCES`` when set (empty: no sharing), else
``<tempdir>/voicelive-proactive-<uid>/utterances-v2``, created private (0700). A directory
owned by someone else is never used. Every failure here only turns sharing off.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = ["ENV_VAR", "UtteranceStore", "default_directory"]

log = logging.getLogger(__name__)

ENV_VAR: Final = "VOICELIVE_EMULATOR_UTTERANCES"
_MAX_FILE_BYTES: Final = 256 * 1024
_MAX_FILES_READ: Final = 1024
_PRUNE_ABOVE: Final = 2048  # files; the oldest are deleted down to _MAX_FILES_READ
_PRUNE_EVERY: Final = 64  # writes between two counts


def default_directory() -> Path | None:
    """Where utterances are shared, or None when ``$VOICELIVE_EMULATOR_UTTERANCES`` is empty."""
    configured = os.environ.get(ENV_VAR)
    if configured is not None:
        return Path(configured) if configured.strip() else None
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"voicelive-proactive-{user}" / "utterances-v2"


def _private_directory(path: Path) -> bool:
    """Create ``path`` (0700) if needed; True when it is a real directory of ours."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        log.debug("utterance sharing off: %s", exc)
        return False
    if not path.is_dir() or path.is_symlink():
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


class UtteranceStore:
    """Reads and writes ``{"text", "voice", "contours"}`` files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._usable: bool | None = None
        self._seen: set[str] = set()
        self._writes = 0

    def _ready(self) -> bool:
        if self._usable is None:
            self._usable = _private_directory(self.directory)
        return self._usable

    def write(self, text: str, voice: str, contours: list[list[float]]) -> None:
        if not self._ready():
            return
        name = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:32] + ".json"
        target = self.directory / name
        self._seen.add(name)  # our own: no need to read it back
        if target.exists():
            return
        payload = json.dumps({"text": text, "voice": voice, "contours": contours})
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(temporary, target)  # atomic: readers never see half a file
        except OSError as exc:
            log.debug("could not share an utterance: %s", exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
            return
        self._writes += 1
        if self._writes % _PRUNE_EVERY == 0:
            self.prune()

    def prune(self, keep: int = _MAX_FILES_READ, above: int = _PRUNE_ABOVE) -> None:
        """Delete the oldest files once there are more than ``above``, down to ``keep``."""
        try:
            files = [entry for entry in os.scandir(self.directory) if entry.name.endswith(".json")]
            if len(files) <= above:
                return
            files.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
            for entry in files[keep:]:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        except OSError as exc:
            log.debug("could not prune shared utterances: %s", exc)

    def read_new(self) -> Iterator[tuple[str, str, list[list[float]]]]:
        """``(text, voice, contours)`` of each file not read before (newest first)."""
        if not self._ready():
            return
        try:
            entries = sorted(
                (entry for entry in os.scandir(self.directory) if entry.name.endswith(".json")),
                key=lambda entry: entry.stat().st_mtime,
                reverse=True,
            )[:_MAX_FILES_READ]
        except OSError:
            return
        for entry in entries:
            if entry.name in self._seen:
                continue
            self._seen.add(entry.name)
            loaded = _load(entry.path)
            if loaded is not None:
                yield loaded


def _load(path: str) -> tuple[str, str, list[list[float]]] | None:
    try:
        if os.path.getsize(path) > _MAX_FILE_BYTES:
            return None
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    text, voice, contours = data.get("text"), data.get("voice"), data.get("contours")
    if not (isinstance(text, str) and isinstance(voice, str) and isinstance(contours, list)):
        return None
    if not contours or not all(_numbers(contour) for contour in contours):
        return None
    return text, voice, [[float(value) for value in contour] for contour in contours]


def _numbers(values: object) -> bool:
    return (
        isinstance(values, list)
        and bool(values)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    )
