"""The emulator in its own process, stamping ``time.monotonic_ns()`` when a greeting arrives.

Run as ``python -m benchmarks.emulator_proc --pace P --voice V``. It prints the usual line
``endpoint=... api_key=...`` and then serves. The hook: every client frame goes through
``EmulatedConnection._on_frame`` first; we wrap it (in this process only) so that the clock
is read before anything else happens to the frame, and a ``response.create`` records
``(session id, stamp)``. Nothing is printed on the hot path: the parent asks for the stamps
collected so far by writing ``dump`` on stdin and reads one JSON line back (``live`` answers
how many connections the emulator still serves, so that runs do not overlap).

``CLOCK_MONOTONIC`` is system-wide on Linux, so the parent can subtract its own
``monotonic_ns()`` stamps from these.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from typing import IO, Any

from benchmarks.alsa import REPO

_CREATE = '"response.create"'


def _install_hook(created: list[tuple[str, int]], opened: list[str], live: dict[str, int]) -> None:
    from voicelive_proactive.emulator.connection import EmulatedConnection

    on_frame = EmulatedConnection._on_frame
    run = EmulatedConnection.run

    async def stamped_on_frame(self: EmulatedConnection, data: str) -> None:
        now = time.monotonic_ns()
        if _CREATE in data:
            created.append((self.session_id, now))
        await on_frame(self, data)

    async def recorded_run(self: EmulatedConnection) -> None:
        opened.append(self.session_id)
        live["connections"] += 1
        try:
            await run(self)
        finally:
            live["connections"] -= 1

    EmulatedConnection._on_frame = stamped_on_frame  # type: ignore[method-assign]
    EmulatedConnection.run = recorded_run  # type: ignore[method-assign]


async def _serve(pace: float, voice: str) -> None:
    from voicelive_proactive.emulator import Emulator

    created: list[tuple[str, int]] = []
    opened: list[str] = []
    live = {"connections": 0}
    _install_hook(created, opened, live)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def dump() -> None:
        line = json.dumps({"created": created[:], "opened": opened[:]})
        created.clear()
        opened.clear()
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def report_live() -> None:
        sys.stdout.write(json.dumps(live) + "\n")
        sys.stdout.flush()

    def commands() -> None:  # a thread: stdin lines are handed to the loop
        for line in sys.stdin:
            command = line.strip()
            if command == "dump":
                loop.call_soon_threadsafe(dump)
            elif command == "live":
                loop.call_soon_threadsafe(report_live)
            elif command == "quit":
                break
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=commands, daemon=True).start()
    async with Emulator(pace=pace, voice=voice, record=False) as emulator:  # type: ignore[arg-type]
        print(f"endpoint={emulator.endpoint} api_key={emulator.api_key}", flush=True)
        await stop.wait()


class EmulatorProcess:
    """Parent side: start the child, read its endpoint, fetch stamps, stop it."""

    def __init__(self, *, pace: float = 0.0, voice: str = "synthetic") -> None:
        command = [sys.executable, "-m", "benchmarks.emulator_proc"]
        self.proc = subprocess.Popen(
            [*command, "--pace", str(pace), "--voice", voice],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._stdin: IO[str] = self.proc.stdin  # type: ignore[assignment]
        self._stdout: IO[str] = self.proc.stdout  # type: ignore[assignment]
        line = self._stdout.readline()
        if not line.startswith("endpoint="):
            self.proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        fields = dict(part.split("=", 1) for part in line.split())
        self.endpoint, self.api_key = fields["endpoint"], fields["api_key"]
        self.pid = self.proc.pid

    def dump(self) -> dict[str, Any]:
        """The stamps since the last dump: ``created`` [(sid, ns)], ``opened`` [sid]."""
        self._stdin.write("dump\n")
        self._stdin.flush()
        result: dict[str, Any] = json.loads(self._stdout.readline())
        return result

    def live_connections(self) -> int:
        """Connections the emulator is still serving (closing ones included)."""
        self._stdin.write("live\n")
        self._stdin.flush()
        count: int = json.loads(self._stdout.readline())["connections"]
        return count

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._stdin.write("quit\n")
                self._stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--voice", default="synthetic")
    args = parser.parse_args()
    asyncio.run(_serve(args.pace, args.voice))


if __name__ == "__main__":
    main()
