"""The ``voicelive-proactive`` command: a demo session, and the emulator as a server.

Exit codes: 0 success, 1 runtime failure, 2 configuration error (the message says what to set).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import __version__
from .audio.base import BYTES_PER_MS, AudioIO
from .endpoint import check_endpoint, is_loopback_host
from .errors import AudioUnavailableError, ConfigurationError
from .greetings import (
    GreetingStrategy,
    LLMGreeting,
    RandomGreeting,
    StaticGreeting,
    TemplateGreeting,
)
from .outcome import GreetingStatus
from .session import ProactiveSession

__all__ = ["main"]

EXIT_OK, EXIT_RUNTIME, EXIT_CONFIG = 0, 1, 2

_DEFAULT_TEXT = {
    "static": "Hi, welcome back! How can I assist you today?",
    "template": "Hi {name}, welcome back! How can I assist you today?",
    "llm": "Greet the user, whose name is {name}, warmly and briefly explain how you can help.",
}
_RANDOM_LINES = [
    "Hello! How can I help you today?",
    "Hi there! What can I do for you?",
    "Welcome! How may I assist you?",
]
# Events too frequent to print one by one; the timeline counts them instead.
_CHATTY = frozenset(
    {"response.audio.delta", "response.audio_transcript.delta", "input_audio_buffer.append"}
)


@dataclass
class _Timeline:
    """Prints each event with the milliseconds since the demo started."""

    out: TextIO | None
    start: float = field(default_factory=time.monotonic)
    rows: list[tuple[float, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def mark(self, what: str) -> None:
        ms = (time.monotonic() - self.start) * 1000
        self.rows.append((ms, what))
        if self.out is not None:
            print(f"{ms:9.1f} ms  {what}", file=self.out, flush=True)

    def on_event(self, event: Any) -> None:
        event_type = str(event["type"])
        if event_type in _CHATTY:
            seen = self.counts.get(event_type, 0)
            self.counts[event_type] = seen + 1
            if seen:
                return
            event_type += " (first)"
        elif event_type == "response.audio_transcript.done":
            event_type += f": {event.get('transcript', '')!r}"
        elif event_type == "error":
            error = event.get("error") or {}
            event_type += f": {error.get('code')}: {error.get('message')}"
        self.mark(event_type)


def _build_strategy(args: argparse.Namespace) -> GreetingStrategy:
    kind = args.greeting
    if kind == "random":
        return RandomGreeting([args.text] if args.text else _RANDOM_LINES)
    text = args.text or _DEFAULT_TEXT[kind]
    if kind == "static":
        return StaticGreeting(text)
    if kind == "template":
        return TemplateGreeting(text)
    return LLMGreeting(text)


def _pick_audio(args: argparse.Namespace, say: TextIO) -> tuple[AudioIO, str]:
    from .audio import SounddeviceAudioIO, WavAudioIO

    if args.out is None:
        try:
            return SounddeviceAudioIO(), "sound device"
        except AudioUnavailableError as exc:
            reason = str(exc).split(". ")[0].split(":")[0]
            print(f"no usable sound device ({reason})", file=say)
    path = args.out or "greeting.wav"
    return WavAudioIO(path), f"WAV file {path}"


@contextlib.asynccontextmanager
async def _connection(args: argparse.Namespace, say: TextIO) -> AsyncIterator[Any]:
    """Connect to the configured service, or to an embedded emulator."""
    from azure.ai.voicelive.aio import connect
    from azure.core.credentials import AzureKeyCredential

    endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT", "").strip()
    async with contextlib.AsyncExitStack() as stack:
        credential: Any
        if endpoint:
            try:
                check_endpoint(endpoint)
            except ConfigurationError as exc:
                raise ConfigurationError(f"AZURE_VOICELIVE_ENDPOINT: {exc}") from None
            key = os.environ.get("AZURE_VOICELIVE_API_KEY", "").strip()
            if key:
                credential = AzureKeyCredential(key)
                how = "API key"
            else:
                from azure.identity.aio import DefaultAzureCredential

                credential = await stack.enter_async_context(DefaultAzureCredential())
                how = "DefaultAzureCredential"
            print(f"connecting to {endpoint} ({how})", file=say)
        else:
            from .emulator import Emulator

            emulator = await stack.enter_async_context(Emulator())
            endpoint = emulator.endpoint
            credential = AzureKeyCredential(emulator.api_key)
            print(
                f"AZURE_VOICELIVE_ENDPOINT is not set: using the embedded emulator at {endpoint}",
                file=say,
            )
        kwargs: dict[str, Any] = {"endpoint": endpoint, "credential": credential}
        kwargs["model"] = args.model
        if args.api_version:
            kwargs["api_version"] = args.api_version
        conn = await stack.enter_async_context(connect(**kwargs))
        yield conn


def _session_config(args: argparse.Namespace) -> dict[str, Any]:
    voice: Any = args.voice
    if "-" in voice and "Neural" in voice:
        voice = {"type": "azure-standard", "name": voice}
    return {
        "modalities": ["text", "audio"],
        "instructions": "You are a helpful, concise voice assistant.",
        "voice": voice,
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
    }


async def _demo(args: argparse.Namespace) -> int:
    say = sys.stderr if args.json else sys.stdout
    strategy = _build_strategy(args)
    context = {"name": args.name}
    timeline = _Timeline(None if args.json else sys.stdout)
    audio, audio_where = _pick_audio(args, say)
    async with _connection(args, say) as conn:
        proactive = ProactiveSession(conn, greeting=strategy, context=context, audio=audio)
        print(f"greeting: {strategy!r}; audio to the {audio_where}", file=say)
        async with proactive:
            timeline.mark("session.update sent")
            await conn.session.update(session=_session_config(args))
            runner = asyncio.create_task(proactive.run(on_event=timeline.on_event))
            try:
                outcome = await proactive.wait(timeout=args.timeout)
            except asyncio.TimeoutError:
                outcome = proactive.outcome
                timeline.mark(f"timed out after {args.timeout:.0f} s")
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await _let_audio_finish(audio, args.timeout)
    timeline.mark("done")
    summary = {
        "status": outcome.status.value,
        "greeting": None if outcome.greeting is None else outcome.greeting.text,
        "mode": None if outcome.greeting is None else outcome.greeting.mode.value,
        "reason": outcome.reason,
        "error": None if outcome.error is None else str(outcome.error),
        "interrupted": outcome.interrupted,
        "audio_ms": proactive.metrics.audio_bytes // BYTES_PER_MS,
        "audio_out": audio_where,
        "metrics": proactive.metrics.as_dict(),
        "timeline_ms": [{"ms": round(ms, 1), "event": what} for ms, what in timeline.rows],
    }
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return EXIT_OK if outcome.status is GreetingStatus.SENT else EXIT_RUNTIME


async def _let_audio_finish(audio: AudioIO, timeout: float) -> None:
    """Give a real device time to play what is still buffered (a file needs none)."""
    deadline = time.monotonic() + timeout
    pending = getattr(audio, "pending_bytes", None)
    while isinstance(pending, int) and pending > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        pending = getattr(audio, "pending_bytes", None)


def _print_summary(summary: dict[str, Any]) -> None:
    metrics = summary["metrics"]
    print()
    print(f"greeting {summary['status']}: {summary['greeting']!r} ({summary['mode']})")
    if summary["reason"]:
        print(f"  reason: {summary['reason']}")
    for key in (
        "ready_to_sent_ms",
        "sent_to_created_ms",
        "sent_to_first_audio_ms",
        "ready_to_first_audio_ms",
        "ready_to_done_ms",
    ):
        value = metrics[key]
        print(f"  {key:<24} {'-' if value is None else f'{value:8.1f}'}")
    print(f"  {'audio':<24} {summary['audio_ms']:8d} ms to the {summary['audio_out']}")


async def _emulator(args: argparse.Namespace) -> int:
    from .emulator import serve

    if not args.allow_remote and not is_loopback_host(args.host):
        raise ConfigurationError(
            f"--host {args.host} is not a loopback address; the emulator has no TLS and "
            "accepts a shared key, so it only listens on this machine unless you pass "
            "--allow-remote."
        )
    await serve(
        host=args.host, port=args.port, api_key=args.api_key, allow_remote=args.allow_remote
    )
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicelive-proactive", description="Make a Voice Live agent speak first."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run one proactive session (against the emulator unless AZURE_VOICELIVE_ENDPOINT "
        "is set)",
    )
    demo.add_argument(
        "--greeting", choices=["static", "template", "random", "llm"], default="template"
    )
    demo.add_argument(
        "--text", help="the line to say (static, template, random) or the instruction (llm)"
    )
    demo.add_argument("--name", default="Lisa", help="the user's name, for {name} (default: Lisa)")
    demo.add_argument("--out", help="write the agent's audio to this WAV file instead of a device")
    demo.add_argument("--json", action="store_true", help="print one JSON summary instead")
    demo.add_argument("--model", default=os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime"))
    demo.add_argument("--voice", default=os.environ.get("AZURE_VOICELIVE_VOICE", "en-US-AvaNeural"))
    demo.add_argument(
        "--api-version",
        default=os.environ.get("AZURE_VOICELIVE_API_VERSION"),
        help="Voice Live API version (default: the SDK's)",
    )
    demo.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")

    emulator = commands.add_parser("emulator", help="run the Voice Live emulator until Ctrl-C")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--api-key", default=os.environ.get("VOICELIVE_EMULATOR_API_KEY"))
    emulator.add_argument("--allow-remote", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicelive-proactive`` command."""
    args = _parser().parse_args(argv)
    runner = _demo if args.command == "demo" else _emulator
    try:
        return asyncio.run(runner(args))
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK if args.command == "emulator" else EXIT_RUNTIME
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
