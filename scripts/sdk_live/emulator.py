"""Run the emulator under test as its own process: ``python -m voicelive_proactive.emulator``.

By default that is this checkout's emulator, run by the interpreter running the harness.
``emulator_src`` points at another checkout (e.g. another worktree): its own ``.venv`` Python
is used when it has one, with the checkout first on ``PYTHONPATH`` either way, so the
emulator code that serves the tests is that checkout's.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["EmulatorProcess", "EmulatorSource", "resolve_source"]

_READY = re.compile(r"^endpoint=(?P<endpoint>\S+) api_key=(?P<key>\S+)\s*$")
_ORIGIN = (
    "import voicelive_proactive, sys; sys.stdout.write(voicelive_proactive.__file__); "
    "sys.stdout.flush()"
)


@dataclass(frozen=True, slots=True)
class EmulatorSource:
    """Which emulator code runs: the interpreter, the checkout and its git commit."""

    python: Path
    checkout: Path | None
    package_file: str
    commit: str | None
    dirty: bool | None


def _git(checkout: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def _env(checkout: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if checkout is not None:
        parts = [str(checkout), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(part for part in parts if part)
    return env


def resolve_source(checkout: Path | None) -> EmulatorSource:
    """The interpreter for ``checkout`` (None: this one) and where its emulator package lives."""
    python = Path(sys.executable)
    if checkout is not None:
        checkout = checkout.resolve()
        if not (checkout / "voicelive_proactive" / "emulator").is_dir():
            raise FileNotFoundError(f"{checkout} has no voicelive_proactive/emulator package")
        own = checkout / ".venv" / "bin" / "python"
        if own.is_file():
            python = own
    done = subprocess.run(
        [str(python), "-c", _ORIGIN],
        capture_output=True,
        text=True,
        check=True,
        env=_env(checkout),
        cwd=str(checkout) if checkout else None,
    )
    package_file = done.stdout.strip()
    if checkout is not None and not Path(package_file).resolve().is_relative_to(checkout):
        raise RuntimeError(
            f"{python} imports voicelive_proactive from {package_file}, not from {checkout}"
        )
    root = checkout or Path(package_file).resolve().parent.parent
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return EmulatorSource(
        python=python,
        checkout=checkout,
        package_file=package_file,
        commit=_git(root, "rev-parse", "HEAD"),
        dirty=None if status is None else bool(status),
    )


class EmulatorProcess:
    """``with EmulatorProcess(source, log) as emu:`` then ``emu.endpoint``, ``emu.api_key``."""

    def __init__(
        self, source: EmulatorSource, log_path: Path, *, pace: float, timeout: float = 60.0
    ) -> None:
        self.source = source
        self.log_path = log_path
        self.pace = pace
        self.timeout = timeout
        self.api_key = secrets.token_hex(16)
        self.endpoint = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._pump: threading.Thread | None = None

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        command = [
            str(self.source.python),
            "-m",
            "voicelive_proactive.emulator",
            "--port",
            "0",
            f"--api-key={self.api_key}",
            "--pace",
            str(self.pace),
        ]
        self._log = self.log_path.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=_env(self.source.checkout),
            cwd=str(self.source.checkout) if self.source.checkout else None,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + self.timeout
        ready = threading.Event()

        def pump(stream: IO[str]) -> None:
            # Read the ready line, then keep draining stdout so the emulator never blocks on it.
            for line in stream:
                match = _READY.match(line)
                if match and not ready.is_set():
                    self.endpoint = match["endpoint"]
                    ready.set()

        self._pump = threading.Thread(target=pump, args=(self._process.stdout,), daemon=True)
        self._pump.start()
        while not ready.wait(0.1):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise RuntimeError(f"the emulator did not start ({self.log_path}):\n{tail}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
