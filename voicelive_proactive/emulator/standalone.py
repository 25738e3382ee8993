"""Run the emulator as a long-lived service (``python -m voicelive_proactive.emulator``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterable

from .faults import Faults
from .options import phrases as phrases_from
from .server import DEFAULT_PACE, Emulator
from .voice import VoiceName

__all__ = ["announce", "serve", "serve_from_args"]


def announce(emulator: Emulator) -> None:
    """Print the one line other processes parse: ``endpoint=... api_key=...``."""
    print(f"endpoint={emulator.endpoint} api_key={emulator.api_key}", flush=True)


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    allow_remote: bool = False,
    pace: float = DEFAULT_PACE,
    voice: VoiceName = "auto",
    faults: Faults | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Emulator], None] = announce,
    phrases: Iterable[str] = (),
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set), then shut down cleanly.

    Nothing is recorded per connection, so a long run does not grow in memory.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows' event loops; Ctrl+C still raises KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    emulator = Emulator(
        host,
        port,
        api_key=api_key,
        allow_remote=allow_remote,
        pace=pace,
        voice=voice,
        faults=faults,
        record=False,
        phrases=phrases,
    )
    try:
        async with emulator:
            on_ready(emulator)
            await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    print("emulator stopped", file=sys.stderr, flush=True)


async def serve_from_args(args: argparse.Namespace) -> None:
    """:func:`serve` with the options of :func:`~.options.add_arguments`, as parsed."""
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    await serve(
        args.host,
        args.port,
        api_key=args.api_key,
        allow_remote=args.allow_remote,
        pace=args.pace,
        voice=args.voice,
        phrases=phrases_from(args),
    )
