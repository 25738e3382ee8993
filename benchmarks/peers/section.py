"""The ``peers`` section: our library and LiveKit Agents, same emulator, same work, same run.

Both clients run as command servers in their own processes (ours in this venv, LiveKit's in
``.venv-livekit``), so each one's CPU and memory are its own. The parent starts the emulators
(:mod:`benchmarks.emulator_proc`, ``pace=1``: audio in real time, as the service sends it),
synthesizes the user's utterance and the prerecorded greeting once (the same bytes for both),
then alternates the clients trial by trial:

1. **greeting** per mode, ``greeting_ms`` = the connection opening (the SDK's
   ``VoiceLiveConnection`` is built) → the first greeting sample reaching the sink;
2. **barge-in**: the agent says a long line; ``barge_after_s`` after its first sample the
   microphone starts the user's utterance (speech the emulator recognizes); *stale* is what
   the sink played of the agent's line from the user's first word until the utterance ended;
   *truncation error* compares the truncate the emulator received with what really played;
3. **race**: sessions against an emulator with ``Faults(vad_response_before_create=1)``;
4. **load**: N sessions in a two-way conversation (the user speaks once per ``CYCLE_S``, the
   agent answers; paced microphone in, audio out), CPU and RSS of the client process over
   ``WINDOW_S``.

Every setting is in ``setup`` of the result, and in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from benchmarks.alsa import REPO
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.peers import common, summary

PACE = 1.0
RACE_PACE = 4.0  # the race is decided before any audio plays; faster audio, shorter run
CYCLE_S = 9.0
FIRST_TURN_S = 6.0  # the greeting plays first
WINDOW_S = 60.0
WARM_S = 5.0
LOAD_SIZES = (1, summary.LOAD_N)
SESSIONS_PER_EMULATOR = 25
RACE_SESSIONS = 200
RACE_CONCURRENCY = 20
GREETING_TRIALS = 20
BARGE_TRIALS = 12
WARMUP = 2
GOLDEN = 0.6180339887


class Client:
    """One client process: send a JSON command, read its JSON answer."""

    def __init__(self, side: str, python: Path, module: str, files: dict[str, str]) -> None:
        self.side = side
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the client
        self._stderr = ""
        command = [str(python), "-m", module]
        command += ["--utterance", files["utterance"], "--prerecorded", files["prerecorded"]]
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._stdin: IO[str] = self.proc.stdin  # type: ignore[assignment]
        self._stdout: IO[str] = self.proc.stdout  # type: ignore[assignment]
        self.info = self._read(120)

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._stdout], [], [], max(0.0, left))
            if not ready:
                self.proc.kill()
                raise RuntimeError(
                    f"{self.side} client: no answer in {timeout:.0f} s{self._tail()}"
                )
            line = self._stdout.readline()
            if not line:
                raise RuntimeError(f"{self.side} client exited{self._tail()}")
            if line.startswith("{"):
                answer: dict[str, Any] = json.loads(line)
                return answer

    def _tail(self) -> str:
        text = self.stderr_tail()
        return f":\n{text}" if text else ""

    def stderr_tail(self, lines: int = 15) -> str:
        """The last lines the process wrote to stderr (its warnings), for the record."""
        if self._log.closed:
            return self._stderr
        self._log.seek(0)
        return "\n".join(self._log.read().splitlines()[-lines:])

    def ask(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        self._stdin.write(json.dumps(command) + "\n")
        self._stdin.flush()
        return self._read(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._stdin.write('{"cmd": "quit"}\n')
                self._stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr = self.stderr_tail()
        self._log.close()


def _files(directory: Path) -> dict[str, str]:
    """The user's utterance (raw PCM16) and the prerecorded greeting (WAV), synthesized once."""
    from voicelive_proactive.emulator import synthesize

    utterance = directory / "utterance.pcm"
    utterance.write_bytes(synthesize(common.USER_UTTERANCE, "synthetic"))
    prerecorded = directory / "prerecorded.wav"
    with wave.open(str(prerecorded), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(common.SAMPLE_RATE)
        wav.writeframes(synthesize(common.PRERECORDED, "synthetic"))
    return {"utterance": str(utterance), "prerecorded": str(prerecorded)}


def _order(items: list[Any], i: int) -> list[Any]:
    """Alternate who goes first, so drift on a shared machine hits both sides alike."""
    return items if i % 2 == 0 else items[::-1]


def _emulator(**options: Any) -> EmulatorProcess:
    return EmulatorProcess(
        pace=options.pop("pace", PACE),
        voice="synthetic",
        phrases=(common.USER_UTTERANCE,),
        **options,
    )


def _quiesce(emulators: list[EmulatorProcess], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(e.live_connections() == 0 for e in emulators):
            return
        time.sleep(0.05)


def _measure(
    clients: list[Client],
    spawners: dict[str, Callable[[], Client]],
    quick: bool,
    log: list[str],
) -> dict[str, Any]:
    raw: dict[str, Any] = {"greetings": [], "barges": [], "race": {}, "load": []}
    emulator = _emulator()
    try:
        where = {"endpoint": emulator.endpoint, "api_key": emulator.api_key}
        trials = 3 if quick else GREETING_TRIALS
        for i in range(WARMUP + trials):
            for mode in summary.MODES:
                for client in _order(clients, i):
                    answer = client.ask({"cmd": "greeting", "mode": mode, **where}, 60)
                    if i >= WARMUP:
                        raw["greetings"].append({**answer, "side": client.side, "trial": i})
        log.append(f"greetings: {trials} trials per mode and side")
        emulator.dump()
        for i in range(2 if quick else BARGE_TRIALS):
            after = 1.5 + ((i * GOLDEN) % 1.0)
            for client in _order(clients, i):
                answer = client.ask({"cmd": "barge", "barge_after_s": after, **where}, 90)
                answer.update(side=client.side, trial=i, barge_after_s=round(after, 3))
                _quiesce([emulator])
                truncates = emulator.dump().get("truncates") or []
                answer["received_truncate"] = next(
                    (
                        {"audio_end_ms": end, "item_id": item}
                        for sid, item, end, _ in truncates
                        if sid == answer.get("session_id") and item == answer.get("item_id")
                    ),
                    None,
                )
                raw["barges"].append(answer)
        log.append("barge-in done")
    finally:
        emulator.close()

    race_emulators = [
        _emulator(pace=RACE_PACE, faults={"vad_response_before_create": 1}) for _ in range(2)
    ]
    try:
        where_all = [[e.endpoint, e.api_key] for e in race_emulators]
        for client in clients:
            command = {
                "cmd": "race",
                "n": 20 if quick else RACE_SESSIONS,
                "concurrency": RACE_CONCURRENCY,
                "wait_s": 1.5,
                "endpoints": where_all,
            }
            raw["race"][client.side] = client.ask(command, 900)
            _quiesce(race_emulators)
        log.append("race done")
    finally:
        for e in race_emulators:
            e.close()

    sizes = (1, 10) if quick else LOAD_SIZES
    load_emulators = [_emulator() for _ in range(-(-max(sizes) // SESSIONS_PER_EMULATOR))]
    try:
        for i, n in enumerate(sizes):
            used = load_emulators[: -(-n // SESSIONS_PER_EMULATOR)]
            for side in _order(list(spawners), i):
                # A fresh process per run: its RSS before the sessions is its imports and one
                # warm-up greeting, not the high-water mark of earlier sections.
                client = spawners[side]()
                try:
                    warm = {"endpoint": used[0].endpoint, "api_key": used[0].api_key}
                    client.ask({"cmd": "greeting", "mode": "instructed", **warm}, 60)
                    command = {
                        "cmd": "load",
                        "n": n,
                        "window_s": 10.0 if quick else WINDOW_S,
                        "warm_s": WARM_S,
                        "cycle_s": CYCLE_S,
                        "first_turn_s": FIRST_TURN_S,
                        "endpoints": [[e.endpoint, e.api_key] for e in used],
                    }
                    answer = client.ask(command, 600)
                finally:
                    client.close()
                answer.update(side=side, stderr=client.stderr_tail())
                raw["load"].append(answer)
                _quiesce(used, 60)
        log.append("load done")
    finally:
        for e in load_emulators:
            e.close()
    return raw


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.peers import venv

    try:
        livekit_python = venv.ensure()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return {"skipped": f"LiveKit Agents could not be installed: {exc}"}
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vp-peers-") as tmp:
        files = _files(Path(tmp))
        spawners: dict[str, Callable[[], Client]] = {
            "ours": lambda: Client("ours", Path(sys.executable), "benchmarks.peers.ours", files),
            "livekit": lambda: Client(
                "livekit", livekit_python, "benchmarks.peers.livekit_side", files
            ),
        }
        clients: list[Client] = []
        try:
            clients += [spawners["ours"](), spawners["livekit"]()]
            raw = _measure(clients, spawners, quick, log)
        finally:
            for client in clients:
                client.close()
    result = summary.summarise(raw)
    result["versions"] = {c.side: c.info.get("versions") for c in clients}
    result["stderr"] = {c.side: c.stderr_tail() for c in clients}
    result["log"] = log
    result["raw"] = raw
    result["setup"] = setup(quick)
    result["protocol"] = PROTOCOL_NOTES
    result["analysis"] = ANALYSIS
    return result


def setup(quick: bool) -> dict[str, Any]:
    return {
        "emulator": f"its own processes, pace={PACE} (race: pace={RACE_PACE}), voice synthetic",
        "sink": "PacedSink: plays by the clock from the moment audio reaches it (both sides)",
        "microphone": f"one thread, {common.FRAME_MS} ms frames of quiet room noise or speech",
        "session_settings": common.session_config(),
        "ours": "ProactiveSession(conn, greeting=..., audio=SinkAudio) on the SDK's connect(); "
        "the app sends session.update with session_settings; drop-in handle() loop; defaults",
        "livekit": "AgentSession(llm=RealtimeModel(endpoint, api_key, model='gpt-realtime'), "
        "aec_warmup_duration=None), input.audio/output.audio = our AudioInput/AudioOutput "
        "(pause supported), Agent(instructions=...); every other option at its default",
        "greeting": {
            "instructed": f"ours LLMGreeting({common.INSTRUCTED!r}); LiveKit "
            f"generate_reply(instructions=...) right after start()",
            "spoken": f"ours StaticGreeting({common.SPOKEN!r}); LiveKit say(text)",
            "prerecorded": "ours PrerecordedGreeting(text, audio=wav), whose audio goes to "
            "the AudioIO when the session starts; LiveKit say(text, audio=frames) right after "
            "start(), which plays local audio without waiting for its connection (so its "
            "figure can be below zero: the first sample before the socket opened)",
            "trials_per_mode_and_side": 3 if quick else GREETING_TRIALS,
            "warmup_trials": WARMUP,
        },
        "barge_in": {
            "agent_line": common.LONG_REPLY,
            "user_utterance": common.USER_UTTERANCE,
            "barge_after_first_sample_s": "1.5-2.5 (golden-ratio sequence, same for both)",
            "trials_per_side": 2 if quick else BARGE_TRIALS,
        },
        "race": {
            "sessions_per_side": 20 if quick else RACE_SESSIONS,
            "concurrency": RACE_CONCURRENCY,
            "faults": {"vad_response_before_create": 1},
            "greeting": "instructed",
        },
        "load": {
            "sizes": list((1, 10) if quick else LOAD_SIZES),
            "window_s": 10.0 if quick else WINDOW_S,
            "warm_s": WARM_S,
            "cycle_s": CYCLE_S,
            "sessions_per_emulator_process": SESSIONS_PER_EMULATOR,
            "greeting": "instructed, then the user speaks once per cycle and the agent answers",
        },
    }


PROTOCOL_NOTES = [
    "Emulator bug, fixed: a client that gives up during the WebSocket upgrade (LiveKit's "
    "`AgentSession.aclose()` soon after `start()`, before its background `connect()` "
    "finished) made the emulator's aiohttp server log `Error handling request` with a "
    "traceback. It now drops such a socket quietly, as a service does.",
    "LiveKit: the plugin declares `message_truncation=False` and its `truncate()` only logs "
    "'truncate() is not supported by Azure Voice Live'. Voice Live documents "
    "`conversation.item.truncate` (SDK 1.3.1 `ClientEventConversationItemTruncate`, answered "
    "by `conversation.item.truncated`), and the emulator implements it. So after a barge-in "
    "LiveKit leaves audio and transcript the caller never heard in the model's history: its "
    "truncation error is the whole unheard tail. The emulator streams at real time here; the "
    "service runs ahead of playback, so on it the tail (and the error) is longer.",
    "LiveKit: on `speech_started` it sends `response.cancel`, without `response_id`, although "
    "server VAD (`interrupt_response`, the default) has already cancelled the response; the "
    "service answers `response_cancel_not_active`, which the plugin suppresses. A cancel "
    "without `response_id` cancels whatever response is active when it arrives.",
    "LiveKit: `generate_reply()` recognizes its response only by `response.metadata."
    "client_event_id` (1.8.9 has no other pairing). The emulator echoes `metadata`; whether "
    "Voice Live does is not documented (PROTOCOL.md). Where it is not echoed, each "
    "`generate_reply()` times out after 10 s while its response plays as the server's own.",
    "LiveKit: in the VAD race the greeting's `response.create` is refused as busy "
    "(`conversation_already_has_active_response`, naming its event id); LiveKit fails the "
    "`generate_reply()` ('failed to generate a reply') and never asks again, so no session "
    "was greeted; the server's own response played instead.",
    "LiveKit: `say(text)` needs a TTS model (the plugin does not set `supports_say` and does "
    "not expose Voice Live's `pre_generated_assistant_message`), so the spoken greeting is "
    "not available. `say(text, audio=...)` plays local audio, but with "
    "`mutable_chat_context=False` its text only enters LiveKit's local chat context, never "
    "the Voice Live conversation: the model does not know what was said.",
    "Otherwise LiveKit's client and the emulator agree: every event it sent (three "
    "`session.update`s at start, `response.create` with top-level `additional_instructions` "
    "and `response.metadata`, 100 ms `input_audio_buffer.append`s, `response.cancel`) was "
    "accepted, and every server event parsed. Voice Live's own `turn_detection.auto_truncate` "
    "(preview; a LiveKit user can pass it in `ServerVad`) is not measured: the emulator does "
    "not truncate by itself, since how the service decides what was heard is not documented.",
]

# Why we lose where we do (from profiling, see the report of the run that added this).
ANALYSIS = {
    "cpu_core_percent_per_session": (
        "py-spy at N = 50 (GIL samples, 25 s, our client). Before this run the microphone "
        "uplink was the largest item: one `input_audio_buffer.append` per 20 ms capture block "
        "(50 messages a second per session, each a base64 encode, the SDK's `json.dumps` with "
        "a fresh encoder, an aiohttp frame and a `send()` system call) plus one "
        "`call_soon_threadsafe` self-pipe write per block from the audio thread; together "
        "about 35 % of our CPU (0.32-0.35 % of a core per session, 0.60-0.69x LiveKit). The "
        "uplink is now adaptive (voicelive_proactive/microphone.py): 100 ms messages while the "
        "agent is silent, as LiveKit sends; while the agent is audible (+0.5 s) a block that "
        "may be the caller's voice goes out at once with what was gathered before it, so the "
        "barge-in latency is unchanged (stale audio 41.8 ms p50, as before); and audio-thread "
        "wakeups are shared by all sessions on a loop. That made 31 -> 15 messages a second "
        "per session here and 0.27-0.30 % of a core (about 0.50-0.55x LiveKit in paired runs). "
        "What is left, per GIL sample: the SDK's typed parsing of every server event in the "
        "app's `async for event in conn` loop, about 30 % (LiveKit pays the same parsing); "
        "the uplink, about 22 % (now mostly per byte: base64 and `json.dumps` of 64,000 "
        "characters a second per session, whatever the message size); the library's "
        "`handle()`, about 9 % (the engine, 6.7 %; audio deltas decoded and queued, 5 %); the "
        "harness's microphone thread, about 7 %. What it would take to be clearly under 0.5x: "
        "an uplink that skips the SDK's `json.dumps(default=...)` (a prebuilt JSON string "
        "straight to the WebSocket: base64 needs no escaping), which the SDK's public `send()` "
        "does not allow, and a cheaper engine per server event (the SDK model parse cannot be "
        "avoided in a drop-in `handle(event)`; `run()` could read the raw frames instead)."
    ),
    "greeting_ms_p50": (
        "LiveKit sends `response.create` right after `session.update`, without waiting for "
        "`session.updated`; we wait for the session to be ready (one round trip)."
    ),
}
