"""The ``voicelive-proactive`` command: a demo session, a config checker, the emulator.

Exit codes: 0 success, 1 runtime failure, 2 configuration or usage error (the message says
what to set), 130 interrupted (Ctrl-C). With ``--json``, stdout always holds exactly one JSON
object, failures included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TextIO

from . import __version__
from .audio.base import BYTES_PER_MS, AudioIO
from .config import SCHEMA_PATH, load_greeting, schema_text
from .config._preview import Line, context_fields, locale_tags, matched_tag, preview
from .emulator.options import add_arguments as add_emulator_arguments
from .endpoint import check_endpoint, is_loopback_host
from .errors import (
    AudioUnavailableError,
    ConfigFileError,
    ConfigurationError,
    ConfigValidationError,
    GreetingConfigError,
    MissingContextFieldError,
)
from .greetings import (
    GreetingContext,
    GreetingStrategy,
    LLMGreeting,
    RandomGreeting,
    StaticGreeting,
    TemplateGreeting,
    check_fields,
)
from .outcome import GreetingStatus
from .session import ProactiveSession

__all__ = ["main"]

EXIT_OK, EXIT_RUNTIME, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130

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


@dataclass
class _Startup:
    """Watches the session start: an ``error`` before ``session.updated`` means the service
    refused the session's configuration (an unknown voice, say), and no greeting will come."""

    ready: bool = False
    error: dict[str, Any] | None = None
    rejected: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, event: Any) -> None:
        event_type = event["type"]
        if event_type == "session.updated":
            self.ready = True
        elif event_type == "error" and not self.ready and self.error is None:
            error = event.get("error") or {}
            self.error = {key: error.get(key) for key in ("type", "code", "message", "param")}
            self.rejected.set()

    @property
    def reason(self) -> str:
        error = self.error or {}
        return f"{error.get('code') or 'error'}: {error.get('message') or '(no message)'}"


def _build_strategy(args: argparse.Namespace) -> GreetingStrategy:
    if args.config is not None:
        if args.greeting is not None or args.text is not None:
            raise ConfigurationError(
                "--config gives the whole greeting; drop --greeting and --text, or drop --config."
            )
        return load_greeting(args.config)
    kind = args.greeting or "template"
    try:
        if kind == "random":
            return RandomGreeting(_RANDOM_LINES if args.text is None else [args.text])
        # An explicit --text "" is a mistake to report, not a request for the default line.
        text = _DEFAULT_TEXT[kind] if args.text is None else args.text
        if kind == "static":
            return StaticGreeting(text)
        if kind == "template":
            return TemplateGreeting(text)
        return LLMGreeting(text)
    except GreetingConfigError as exc:
        raise GreetingConfigError(f"--text: {exc}") from None


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
        try:  # --timeout bounds the handshake too (aiohttp alone waits 5 minutes)
            conn = await asyncio.wait_for(
                stack.enter_async_context(connect(**kwargs)), timeout=args.timeout
            )
        except asyncio.TimeoutError as exc:  # its message is empty: say what timed out
            raise TimeoutError(
                f"{endpoint} did not complete the WebSocket handshake within {args.timeout:g} s"
            ) from exc
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


def _check_context(args: argparse.Namespace, strategy: GreetingStrategy, context: Any) -> None:
    """Fail before connecting when the greeting needs a value no flag gave."""
    try:
        check_fields(strategy, context)
    except MissingContextFieldError as exc:
        if args.config is not None:
            where = f"the greeting in {args.config}"
        else:
            where = (
                "--text" if args.text is not None else f"the {args.greeting or 'template'} greeting"
            )
        flags = " ".join(f"--context {name}=VALUE" for name in sorted(exc.fields))
        raise MissingContextFieldError(
            f"{where} needs {', '.join(sorted(exc.fields))}, which no option gives a value"
            f" (an empty value counts as none). Pass {flags}"
            + (" (or --name NAME)" if "name" in exc.fields else "")
            + ", or change the greeting.",
            fields=exc.fields,
        ) from None


async def _demo(args: argparse.Namespace) -> int:
    say = sys.stderr if args.json else sys.stdout
    strategy = _build_strategy(args)
    context = {"name": args.name, **dict(args.context)}
    _check_context(args, strategy, context)
    timeline = _Timeline(None if args.json else sys.stdout)
    startup = _Startup()

    def on_event(event: Any) -> None:
        timeline.on_event(event)
        startup.on_event(event)

    audio, audio_where = _pick_audio(args, say)
    async with _connection(args, say) as conn:
        proactive = ProactiveSession(conn, greeting=strategy, context=context, audio=audio)
        print(f"greeting: {strategy!r}; audio to the {audio_where}", file=say)
        async with proactive:
            timeline.mark("session.update sent")
            await conn.session.update(session=_session_config(args))
            runner = asyncio.create_task(proactive.run(on_event=on_event))
            timed_out = not await _greeting_or_rejection(proactive, startup, args.timeout)
            if startup.error is not None:
                timeline.mark("the service refused the session configuration: stopping")
            elif timed_out:
                timeline.mark(f"timed out after {args.timeout:g} s")
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            if startup.error is None:
                await _let_audio_finish(audio, args.timeout)
    timeline.mark("done")
    outcome = proactive.outcome
    status, reason = outcome.status.value, outcome.reason
    error = None if outcome.error is None else str(outcome.error)
    if startup.error is not None:
        status = GreetingStatus.FAILED.value
        reason = f"the service refused the session configuration ({startup.reason})"
        error = startup.reason
    elif timed_out and reason is None:
        reason = f"no greeting within {args.timeout:g} s (--timeout)"
    summary = {
        "status": status,
        "greeting": None if outcome.greeting is None else outcome.greeting.text,
        "mode": None if outcome.greeting is None else outcome.greeting.mode.value,
        "reason": reason,
        "error": error,
        "service_error": startup.error,
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
    return EXIT_OK if status == GreetingStatus.SENT.value else EXIT_RUNTIME


async def _greeting_or_rejection(
    proactive: ProactiveSession, startup: _Startup, timeout: float
) -> bool:
    """Wait for the greeting's outcome, or for the service to refuse the session; False when
    ``timeout`` passes first."""
    greeting = asyncio.ensure_future(proactive.wait())
    rejected = asyncio.ensure_future(startup.rejected.wait())
    try:
        done, _ = await asyncio.wait(
            {greeting, rejected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for waiter in (greeting, rejected):
            waiter.cancel()
        await asyncio.gather(greeting, rejected, return_exceptions=True)
    return bool(done)


async def _record(args: argparse.Namespace) -> int:
    """Record the service's own voice saying the text, plus where each word lies."""
    from .greetings import Greeting
    from .recording import check_output_format, check_wav_path, record_speech

    say = sys.stderr if args.json else sys.stdout
    Greeting.spoken(args.text)  # bad input fails before connecting
    check_output_format(args.format)
    check_wav_path(args.out)
    async with _connection(args, say) as conn:
        voice = _session_config(args)["voice"]
        recording = await record_speech(
            conn, args.text, output_format=args.format, voice=voice, timeout=args.timeout
        )
    wav, words = recording.save(args.out)
    summary = {
        "status": "recorded",
        "wav": str(wav),
        "words_file": str(words),
        "format": args.format,
        "sample_rate": recording.format.sample_rate,
        "duration_ms": recording.duration_ms,
        "text": recording.words.text,
        "words": len(recording.words.words),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"wrote {wav} ({recording.duration_ms} ms, {args.format} as 16-bit PCM at "
            f"{recording.format.sample_rate} Hz) and {words} ({summary['words']} words)"
        )
    return EXIT_OK


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
    said = (
        "nothing was said"
        if summary["greeting"] is None
        else f"{summary['greeting']!r} ({summary['mode']})"
    )
    print(f"greeting {summary['status']}: {said}")
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


def _check(args: argparse.Namespace) -> int:
    """Validate a greeting file and show what each locale would say."""
    try:
        strategy = load_greeting(args.file)
    except (ConfigFileError, ConfigValidationError) as exc:
        return _report_invalid(args, exc)
    given = dict(args.context)
    fields = sorted(context_fields(strategy))
    samples = {name: f"<{name}>" for name in fields if name not in given}
    if "locale" in given:
        rows: list[str | None] = [given["locale"]]
    else:
        rows = [None, *locale_tags(strategy)]
    results: list[dict[str, Any]] = []
    for locale in rows:
        values = {**samples, **given}
        if locale is not None:
            values["locale"] = locale
        lines = preview(strategy, GreetingContext(values))
        results.append(
            {
                "locale": locale,
                "entry": None if locale is None else matched_tag(strategy, locale),
                "alternatives": [_line_dict(line) for line in lines],
            }
        )
    failed = any(line["error"] for row in results for line in row["alternatives"])
    out = {
        "status": "valid",
        "valid": True,
        "file": args.file,
        "context_fields": fields,
        "samples": samples,
        "context": given,
        "locales": results,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        _print_check(out)
    return EXIT_RUNTIME if failed else EXIT_OK


def _report_invalid(args: argparse.Namespace, exc: ConfigFileError | ConfigValidationError) -> int:
    errors: list[dict[str, Any]]
    if isinstance(exc, ConfigFileError):
        errors = [{"path": None, "message": str(exc), "line": exc.line, "column": exc.column}]
    else:
        errors = [{"path": issue.path, "message": issue.message} for issue in exc.issues]
    if args.json:
        report = {"status": "invalid", "valid": False, "file": args.file, "errors": errors}
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{args.file}: invalid greeting configuration", file=sys.stderr)
        for error in errors:
            where = f"{error['path']}: " if error["path"] else ""
            print(f"  {where}{error['message']}", file=sys.stderr)
    return EXIT_CONFIG


def _line_dict(line: Line) -> dict[str, Any]:
    return {
        "type": line.kind,
        "mode": line.mode,
        "text": line.text,
        "choices": None if line.choices is None else list(line.choices),
        "error": line.error,
    }


def _print_check(out: dict[str, Any]) -> None:
    print(f"{out['file']}: valid")
    print(f"context fields used: {', '.join(out['context_fields']) or '(none)'}")
    if out["samples"]:
        shown = ", ".join(f"{k}={v}" for k, v in out["samples"].items())
        print(f"sample values (not given with --context, shown as <field>): {shown}")
    for row in out["locales"]:
        locale, entry = row["locale"], row["entry"]
        print()
        if locale is None:
            print("default (no locale, or one without an entry):")
        elif entry == locale:
            print(f"{locale}:")
        else:
            print(f"{locale} (uses {'the default' if entry is None else entry}):")
        for number, line in enumerate(row["alternatives"], 1):
            if line["error"]:
                said = f"cannot render: {line['error']}"
            elif line["choices"] is not None:
                said = "says one of: " + " | ".join(map(repr, line["choices"]))
            elif line["mode"] == "instructed":
                said = f"asks the model: {line['text']!r}"
            else:
                said = f"says: {line['text']!r}"
            print(f"  {number}. {line['type']:<9} {said}")


async def _emulator(args: argparse.Namespace) -> int:
    if not args.allow_remote and not is_loopback_host(args.host):
        raise ConfigurationError(
            f"--host {args.host} is not a loopback address; the emulator has no TLS and "
            "accepts a shared key, so it only listens on this machine unless you pass "
            "--allow-remote."
        )
    from .emulator.standalone import serve_from_args

    await serve_from_args(args)
    return EXIT_OK


class _UsageError(Exception):
    """A command-line mistake; argparse would print it and exit 2."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    # Report usage errors to main() instead of exiting, so --json can answer in JSON too.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive, finite number of seconds, not {text!r}"
        )
    return value


def _context_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"write it as KEY=VALUE (e.g. name=Lisa), not {text!r}")
    return key.strip(), value


def _add_context(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--context",
        type=_context_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a context value, e.g. name=Lisa or locale=de-DE (repeat for more)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="voicelive-proactive", description="Make a Voice Live agent speak first.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run one proactive session (against the emulator unless AZURE_VOICELIVE_ENDPOINT "
        "is set)",
    )
    demo.add_argument(
        "--greeting",
        choices=["static", "template", "random", "llm"],
        help="the kind of greeting (default: template)",
    )
    demo.add_argument(
        "--text", help="the line to say (static, template, random) or the instruction (llm)"
    )
    demo.add_argument(
        "--config", metavar="FILE", help="load the greeting from a .toml or .json file"
    )
    demo.add_argument("--name", default="Lisa", help="the user's name, for {name} (default: Lisa)")
    _add_context(demo)
    demo.add_argument("--out", help="write the agent's audio to this WAV file instead of a device")
    demo.add_argument("--json", action="store_true", help="print one JSON summary instead")
    demo.add_argument(
        "--model",
        default=os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime"),
        help="the model to connect to (default: $AZURE_VOICELIVE_MODEL, else gpt-realtime)",
    )
    demo.add_argument(
        "--voice",
        default=os.environ.get("AZURE_VOICELIVE_VOICE", "en-US-AvaNeural"),
        help="the voice to speak with: an Azure voice such as en-US-AvaNeural or an OpenAI "
        "voice such as alloy (default: $AZURE_VOICELIVE_VOICE, else en-US-AvaNeural)",
    )
    demo.add_argument(
        "--api-version",
        default=os.environ.get("AZURE_VOICELIVE_API_VERSION"),
        help="the Voice Live API version (default: $AZURE_VOICELIVE_API_VERSION, else the SDK's)",
    )
    demo.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=30.0,
        help="seconds to wait for the connection, then for the greeting (default 30)",
    )

    record = commands.add_parser(
        "record",
        help="record the service's own voice saying TEXT into a WAV file, plus its words file",
    )
    record.add_argument("text", help="the words to say, verbatim")
    record.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="WAV",
        help="the WAV file to write; the word timings go to NAME.words.json beside it",
    )
    record.add_argument(
        "--format",
        default="pcm16",
        choices=["pcm16", "pcm16_16000hz", "pcm16_8000hz", "g711_ulaw", "g711_alaw"],
        help="the service's output format (default pcm16, 24 kHz); the WAV is 16-bit PCM at "
        "its rate, g711 decoded to 8 kHz PCM",
    )
    record.add_argument("--json", action="store_true", help="print one JSON summary instead")
    record.add_argument("--model", default=os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime"))
    record.add_argument(
        "--voice", default=os.environ.get("AZURE_VOICELIVE_VOICE", "en-US-AvaNeural")
    )
    record.add_argument(
        "--api-version",
        default=os.environ.get("AZURE_VOICELIVE_API_VERSION"),
        help="Voice Live API version (default: the SDK's)",
    )
    record.add_argument(
        "--timeout", type=_positive_seconds, default=30.0, help="seconds to wait (default 30)"
    )

    check = commands.add_parser(
        "check", help="validate a greeting file and show what each locale would say"
    )
    check.add_argument("file", help="the .toml or .json greeting configuration")
    _add_context(check)
    check.add_argument("--json", action="store_true", help="print one JSON report instead")

    schema = commands.add_parser("schema", help="print the JSON Schema of greeting files")
    schema.add_argument(
        "--path", action="store_true", help="print where the installed schema file is instead"
    )

    emulator = commands.add_parser(
        "emulator",
        help="run the Voice Live emulator until Ctrl-C",
        description="Run a local Voice Live emulator until Ctrl-C; print 'endpoint=... "
        "api_key=...' when ready. The same as python -m voicelive_proactive.emulator.",
    )
    add_emulator_arguments(emulator)
    return parser


def _schema(args: argparse.Namespace) -> int:
    print(SCHEMA_PATH if args.path else schema_text(), end="\n" if args.path else "")
    return EXIT_OK


def _redact(text: str) -> str:
    """Never echo the API key, whatever an error message happens to contain."""
    key = os.environ.get("AZURE_VOICELIVE_API_KEY", "").strip()
    return text.replace(key, "***") if key else text


def _fail(
    args: argparse.Namespace | None, code: int, kind: str, message: str, *, prefix: str = ""
) -> int:
    message = _redact(message)
    prefix = prefix or ("configuration error" if code == EXIT_CONFIG else "error")
    print(f"{prefix}: {message}", file=sys.stderr)
    if args is not None and getattr(args, "json", False):
        error = {"type": kind, "message": message}
        print(json.dumps({"status": "error", "exit_code": code, "error": error}))
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicelive-proactive`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        # Before parsing succeeded, "--json" anywhere is the best reading of the request.
        wants_json = argparse.Namespace(json="--json" in argv)
        # argparse's own wording: "<prog>: error: <what>", then exit 2.
        return _fail(
            wants_json, EXIT_CONFIG, "UsageError", str(exc), prefix=f"{exc.parser.prog}: error"
        )
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "schema":
            return _schema(args)
        runner = {"demo": _demo, "record": _record}.get(args.command, _emulator)
        return asyncio.run(runner(args))
    except BrokenPipeError:  # e.g. `... --json | head -c 100`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_RUNTIME
    except ConfigurationError as exc:
        return _fail(args, EXIT_CONFIG, type(exc).__name__, str(exc))
    except KeyboardInterrupt:
        if args.command == "emulator":  # Ctrl-C is how the emulator is meant to stop
            return EXIT_OK
        return _fail(args, EXIT_INTERRUPTED, "KeyboardInterrupt", "interrupted (Ctrl-C)")
    except Exception as exc:
        return _fail(args, EXIT_RUNTIME, type(exc).__name__, f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
