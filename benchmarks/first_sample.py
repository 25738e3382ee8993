"""The first second: how long after the connection opens the first greeting sample reaches
the ``AudioIO``, for each kind of greeting, side by side in one run.

Real sessions: the SDK over loopback into the emulator (its own process, ``pace=1``, audio
in real time like the service). Each trial opens a connection, sends the app's
``session.update`` and starts ``vp.ProactiveSession(...).run()`` with a speaker that stamps
the first audio it is handed. The window starts when ``connect()`` returns (the WebSocket is
open) and ends at that stamp. Kinds, rotated trial by trial so drift hits each alike:

* ``prerecorded``: ``vp.PrerecordedGreeting(text, audio=pcm)``: its audio is queued when the
  session starts, with no round trip (the goal: within 20 ms);
* ``spoken``: ``vp.StaticGreeting``: the text, spoken by the service's voice
  (``pre_generated_assistant_message``) after ``session.updated``;
* ``instructed``: ``vp.LLMGreeting``: a system item and ``response.create``; the model words
  it.

The emulator's voice and model are fast stand-ins: against Azure the two service-rendered
kinds add the real service's synthesis and model latency, and the prerecorded one does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

KINDS = ("prerecorded", "spoken", "instructed")
TEXT = "Hi, this is Contoso. How can I help you today?"
PACE = 1.0
GOAL_MS = 20.0


def _greeting(kind: str, pcm: bytes) -> Any:
    import voicelive_proactive as vp

    if kind == "prerecorded":
        return vp.PrerecordedGreeting(TEXT, audio=pcm)
    if kind == "spoken":
        return vp.StaticGreeting(TEXT)
    return vp.LLMGreeting("Greet the caller warmly in one short sentence.")


async def _trial(endpoint: str, api_key: str, kind: str, pcm: bytes) -> dict[str, Any]:
    from azure.ai.voicelive.aio import connect
    from azure.core.credentials import AzureKeyCredential

    import voicelive_proactive as vp
    from voicelive_proactive.testing import MemoryAudioIO

    first: list[int] = []
    heard = asyncio.Event()

    class Stamped(MemoryAudioIO):
        def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
            if not first and pcm:
                first.append(time.perf_counter_ns())
                heard.set()
            super().queue_audio(pcm, generation=generation)

    speaker = Stamped()
    started = time.perf_counter_ns()
    async with connect(
        endpoint=endpoint, credential=AzureKeyCredential(api_key), model="gpt-realtime"
    ) as conn:
        opened = time.perf_counter_ns()
        await conn.session.update(session={"modalities": ["text", "audio"]})
        async with vp.ProactiveSession(conn, greeting=_greeting(kind, pcm), audio=speaker) as p:
            runner = asyncio.create_task(p.run())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(heard.wait(), 10)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    out: dict[str, Any] = {"kind": kind, "handshake_ms": (opened - started) / 1e6}
    if first:
        out["first_sample_ms"] = (first[0] - opened) / 1e6
    return out


async def _child(params: dict[str, Any]) -> None:
    from benchmarks.emulator_proc import EmulatorProcess
    from voicelive_proactive.emulator import synthesize

    pcm = synthesize(TEXT, voice="synthetic")
    emulator = EmulatorProcess(pace=PACE, voice="synthetic")
    try:
        for i in range(params["warmup"] + params["trials"]):
            order = KINDS[i % len(KINDS) :] + KINDS[: i % len(KINDS)]
            for kind in order:
                result = await _trial(emulator.endpoint, emulator.api_key, kind, pcm)
                if i >= params["warmup"]:
                    result["trial"] = i - params["warmup"]
                    print(json.dumps(result), flush=True)
    finally:
        emulator.close()


def run(quick: bool = False) -> dict[str, Any]:
    import subprocess

    from benchmarks._stats import summary
    from benchmarks.alsa import REPO

    params = {"trials": 5 if quick else 30, "warmup": 1}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.first_sample", "child", json.dumps(params)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    trials = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = {}
    for kind in KINDS:
        mine = [
            t["first_sample_ms"] for t in trials if t["kind"] == kind and "first_sample_ms" in t
        ]
        result[kind] = {
            "first_sample_ms": summary(mine, digits=2) if mine else None,
            "missing": sum(1 for t in trials if t["kind"] == kind and "first_sample_ms" not in t),
        }
    pre = result["prerecorded"]["first_sample_ms"]
    spoken = result["spoken"]["first_sample_ms"]
    if pre and spoken:
        result["prerecorded_ms_p50"] = pre["median"]
        result["spoken_ms_p50"] = spoken["median"]
        result["ratio_prerecorded_vs_spoken"] = round(pre["median"] / spoken["median"], 4)
        result["goal_met"] = pre["median"] <= GOAL_MS
    handshakes = [t["handshake_ms"] for t in trials]
    result["handshake_ms"] = summary(handshakes, digits=2)
    result["trials"] = trials
    result["setup"] = {
        "trials_per_kind": params["trials"],
        "emulator_pace": PACE,
        "window": "connect() returned → first greeting audio handed to the AudioIO",
        "speaker": "MemoryAudioIO, stamping its first queue_audio",
    }
    return result


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
