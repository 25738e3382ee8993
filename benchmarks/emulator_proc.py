"""The emulator in its own process, driven through its public API only.

``python -m benchmarks.emulator_proc --pace P --voice V`` starts ``Emulator(pace=P, voice=V,
record=False)`` and prints the usual ``endpoint=... api_key=...`` line. The parent then writes
commands on stdin and reads one JSON line back for each:

* ``live``: ``{"connections": n}``, the connections still open (``len(emulator.connections)``,
  which lists only live ones when ``record=False``), so runs do not overlap;
* ``dump``: ``{"hook": bool, "created": [[session_id, ns], ...], "opened": [session_id, ...],
  "truncates": [[session_id, item_id, audio_end_ms, ns], ...]}``;
* ``quit``.

Server-side stamps (when a ``response.create`` reached the emulator) need a public hook that
the emulator does not have yet: a constructor argument ``on_client_event(session_id, event,
received_ns)``, called for every client event with ``time.monotonic_ns()`` read when its frame
came off the socket. When the installed emulator accepts it, ``dump`` returns those stamps;
until then ``hook`` is false, ``created`` is empty and the benchmarks use their client-side
stamps (:mod:`benchmarks.wiretap`) alone.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import subprocess
import sys
import threading
from typing import IO, Any

from benchmarks.alsa import REPO

HOOK = "on_client_event"


def hook_available() -> bool:
    """Whether the installed ``Emulator`` takes the ``on_client_event`` hook."""
    from voicelive_proactive.emulator import Emulator

    return HOOK in inspect.signature(Emulator).parameters


async def _serve(
    pace: float, voice: str, phrases: list[str] | None = None, faults: str | None = None
) -> None:
    from voicelive_proactive.emulator import Emulator, Faults

    created: list[tuple[str, int]] = []
    opened: list[str] = []
    truncates: list[tuple[str, Any, Any, int]] = []
    seen: set[str] = set()

    def on_client_event(session_id: str, event: dict[str, Any], received_ns: int) -> None:
        kind = event.get("type")
        if kind == "response.create":
            created.append((session_id, received_ns))
        elif kind == "conversation.item.truncate":
            truncates.append(
                (session_id, event.get("item_id"), event.get("audio_end_ms"), received_ns)
            )
        if session_id not in seen:
            seen.add(session_id)
            opened.append(session_id)

    hooked = hook_available()
    options: dict[str, Any] = {HOOK: on_client_event} if hooked else {}
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if phrases:
        options["phrases"] = phrases
    if faults:
        options["faults"] = Faults(**json.loads(faults))
    emulator = Emulator(pace=pace, voice=voice, record=False, **options)  # type: ignore[arg-type]

    def reply(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    def dump() -> None:
        reply(
            {
                "hook": hooked,
                "created": created[:],
                "opened": opened[:],
                "truncates": truncates[:],
            }
        )
        created.clear()
        opened.clear()
        truncates.clear()
        seen.clear()

    def commands() -> None:  # a thread: stdin lines are handed to the loop
        for line in sys.stdin:
            command = line.strip()
            if command == "dump":
                loop.call_soon_threadsafe(dump)
            elif command == "live":
                loop.call_soon_threadsafe(lambda: reply({"connections": len(emulator.connections)}))
            elif command == "quit":
                break
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=commands, daemon=True).start()
    async with emulator:
        print(f"endpoint={emulator.endpoint} api_key={emulator.api_key}", flush=True)
        await stop.wait()


class EmulatorProcess:
    """Parent side: start the child, read its endpoint, ask it questions, stop it."""

    def __init__(
        self,
        *,
        pace: float = 0.0,
        voice: str = "synthetic",
        phrases: tuple[str, ...] = (),
        faults: dict[str, Any] | None = None,
    ) -> None:
        command = [sys.executable, "-m", "benchmarks.emulator_proc"]
        command += ["--pace", str(pace), "--voice", voice]
        for phrase in phrases:
            command += ["--phrase", phrase]
        if faults:
            command += ["--faults", json.dumps(faults)]
        self.proc = subprocess.Popen(
            command,
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

    def _ask(self, command: str) -> dict[str, Any]:
        self._stdin.write(command + "\n")
        self._stdin.flush()
        answer: dict[str, Any] = json.loads(self._stdout.readline())
        return answer

    def dump(self) -> dict[str, Any]:
        """Server-side stamps since the last dump (empty unless the hook exists)."""
        return self._ask("dump")

    def live_connections(self) -> int:
        """Connections the emulator still serves."""
        count: int = self._ask("live")["connections"]
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
    parser.add_argument("--phrase", action="append", default=[], help="a sentence to recognize")
    parser.add_argument("--faults", help="Faults(**JSON) for every connection")
    args = parser.parse_args()
    asyncio.run(_serve(args.pace, args.voice, args.phrase, args.faults))


if __name__ == "__main__":
    main()
