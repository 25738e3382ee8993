"""``python -m voicelive_proactive.emulator``: a local Voice Live service until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

from .server import DEFAULT_PACE
from .standalone import serve
from .voice import VOICES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voicelive_proactive.emulator",
        description="Run a local Voice Live emulator; print 'endpoint=... api_key=...' when ready.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--api-key", default=None, help="key clients must send (random if omitted)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --host (no TLS!)"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=DEFAULT_PACE,
        help=f"audio speed vs real time; 0 = as fast as possible (default {DEFAULT_PACE})",
    )
    parser.add_argument("--voice", choices=VOICES, default="auto", help="speech engine")
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
        help="a UTF-8 file of such sentences, one a line",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    phrases = list(args.phrase)
    if args.phrases_file is not None:
        with args.phrases_file as lines:
            phrases += [line.strip() for line in lines if line.strip()]
    try:
        asyncio.run(
            serve(
                args.host,
                args.port,
                api_key=args.api_key,
                allow_remote=args.allow_remote,
                pace=args.pace,
                voice=args.voice,
                phrases=phrases,
            )
        )
    except ValueError as exc:  # e.g. a non-loopback host without --allow-remote
        _parser().error(str(exc))
    except KeyboardInterrupt:  # Windows, where signal handlers are not available
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
