"""The standalone emulator's command-line options, shared by both ways of starting it.

``python -m voicelive_proactive.emulator`` and ``voicelive-proactive emulator`` take the same
options with the same defaults, defined once here. This module imports nothing heavy, so the
``voicelive-proactive`` command can build its parser without loading the emulator.
"""

from __future__ import annotations

import argparse
import os
from typing import Final, Literal

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_PACE",
    "DEFAULT_PORT",
    "VOICES",
    "VoiceName",
    "add_arguments",
    "phrases",
]

DEFAULT_PACE: Final = 4.0
"""Audio goes out 4x faster than real time: quick tests, yet still a stream, like the service."""
DEFAULT_PORT: Final = 0
"""A free port, printed when the emulator listens (``--port 8765`` for a fixed one)."""
API_KEY_ENV: Final = "VOICELIVE_EMULATOR_API_KEY"

VoiceName = Literal["auto", "espeak", "synthetic"]
VOICES: Final[tuple[VoiceName, ...]] = ("auto", "espeak", "synthetic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, loopback)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port to listen on; 0 (the default) picks a free one",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"the key clients must send (default: ${API_KEY_ENV}, else a random one)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (there is no TLS: only on a network you trust)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=DEFAULT_PACE,
        help=f"audio speed vs real time; 0 = as fast as possible (default {DEFAULT_PACE})",
    )
    parser.add_argument(
        "--voice",
        choices=VOICES,
        default="auto",
        help="speech engine: espeak (eSpeak NG), synthetic (tones), or auto (espeak when "
        "installed; the default)",
    )
    parser.add_argument(
        "--phrase",
        action="append",
        default=[],
        metavar="TEXT",
        help="a sentence to synthesize at start, so that its speech is recognized (repeatable)",
    )
    parser.add_argument(
        "--phrases-file",
        type=argparse.FileType("r", encoding="utf-8"),
        metavar="FILE",
        help="a UTF-8 file of such sentences, one a line",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging to stderr")


def phrases(args: argparse.Namespace) -> list[str]:
    """The ``--phrase`` values, then the lines of ``--phrases-file`` (closed once read)."""
    found = list(args.phrase)
    if args.phrases_file is not None:
        with args.phrases_file as lines:
            found += [line.strip() for line in lines if line.strip()]
    return found
