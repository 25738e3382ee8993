"""Hearing and input audio transcription: the emulator recognizes speech it synthesized."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.models import (
    AudioInputTranscriptionOptions,
    FunctionTool,
    RequestSession,
    ServerEventConversationItemInputAudioTranscriptionCompleted,
    ServerVad,
)
from emulator_helpers import sdk, types_of, until

from voicelive_proactive.audio.formats import (
    AudioFormat,
    decode_to_pcm16,
    encode_from_pcm16,
    resample_pcm16,
)
from voicelive_proactive.emulator import Emulator, synthesize
from voicelive_proactive.emulator.hearing import REGISTRY, UtteranceRegistry, envelope

LAKE = "What's the largest lake in the world?"
WEATHER = "What's the weather like in Beijing today?"
TRANSCRIBED = "conversation.item.input_audio_transcription"


@pytest.fixture(autouse=True)
def fresh_registry(tmp_path: Path) -> Iterator[Path]:
    """Each test starts from what it synthesizes itself, shared through its own directory."""
    previous = REGISTRY.directory
    REGISTRY.clear()
    REGISTRY.use_directory(tmp_path)
    yield tmp_path
    REGISTRY.use_directory(previous)
    REGISTRY.clear()


PCM24 = AudioFormat("pcm16", 24_000)


def recording(text: str, fmt: AudioFormat = PCM24, gain: float = 1.0) -> bytes:
    """``text`` spoken (by the emulator's own voice), as a client would send it in ``fmt``."""
    pcm = synthesize(text)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    silence = bytes(24_000 * 2 // 2)  # 0.5 s before and 1 s after: the VAD closes the turn
    pcm = resample_pcm16(silence + pcm + silence * 2, 24_000, fmt.sample_rate)
    return encode_from_pcm16(pcm, fmt)


async def send_audio(conn: Any, data: bytes, fmt: AudioFormat, chunk_ms: int = 100) -> None:
    size = fmt.bytes_for_ms(chunk_ms)
    for start in range(0, len(data), size):
        await conn.input_audio_buffer.append(
            audio=base64.b64encode(data[start : start + size]).decode()
        )


def transcription(model: str = "whisper-1") -> RequestSession:
    return RequestSession(input_audio_transcription=AudioInputTranscriptionOptions(model=model))


async def test_a_spoken_question_is_transcribed_in_the_service_order(emu: Emulator) -> None:
    fmt = AudioFormat("pcm16", 24_000)
    async with sdk(emu) as conn:
        await conn.session.update(session=transcription("whisper-1"))
        await until(conn, "session.updated")
        await send_audio(conn, recording(LAKE), fmt)
        events = await until(conn, "response.done")
        item_id = next(e for e in events if e.type == "input_audio_buffer.committed").item_id
        await conn.conversation.item.retrieve(item_id=item_id)
        retrieved = (await until(conn, "conversation.item.retrieved"))[-1]
    names = types_of(events)
    committed = names.index("input_audio_buffer.committed")
    assert names[committed : committed + 4] == [
        "input_audio_buffer.committed",
        "conversation.item.created",
        f"{TRANSCRIBED}.delta",
        f"{TRANSCRIBED}.completed",
    ]
    created = events[committed + 1]
    assert created.item.content[0].transcript is None  # filled in once transcribed
    delta, completed = events[committed + 2], events[committed + 3]
    assert isinstance(completed, ServerEventConversationItemInputAudioTranscriptionCompleted)
    assert delta.delta == completed.transcript == LAKE  # whisper-1: one delta
    assert (completed.item_id, completed.content_index) == (item_id, 0)
    assert retrieved.item.content[0].transcript == LAKE
    reply = events[-1].response.output[0].content[0].transcript
    assert reply == f'You said: "{LAKE}". How can I help with that?'


async def test_other_models_stream_the_transcript_word_by_word(emu: Emulator) -> None:
    fmt = AudioFormat("pcm16", 24_000)
    async with sdk(emu) as conn:
        await conn.session.update(session=transcription("gpt-4o-transcribe"))
        await until(conn, "session.updated")
        await send_audio(conn, recording(LAKE), fmt)
        events = await until(conn, f"{TRANSCRIBED}.completed")
    deltas = [e.delta for e in events if e.type == f"{TRANSCRIBED}.delta"]
    assert len(deltas) == len(LAKE.split()) and "".join(deltas) == LAKE


@pytest.mark.parametrize(
    ("session", "fmt"),
    [
        ({"input_audio_sampling_rate": 8_000}, AudioFormat("pcm16", 8_000)),
        ({"input_audio_sampling_rate": 16_000}, AudioFormat("pcm16", 16_000)),
        ({"input_audio_sampling_rate": 44_100}, AudioFormat("pcm16", 44_100)),
        ({"input_audio_format": "g711_ulaw"}, AudioFormat("g711_ulaw", 8_000)),
        ({"input_audio_format": "g711_alaw"}, AudioFormat("g711_alaw", 8_000)),
    ],
    ids=["8k", "16k", "44k", "ulaw", "alaw"],
)
async def test_recognition_survives_the_clients_format(
    emu: Emulator, session: dict[str, Any], fmt: AudioFormat
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={**session, "input_audio_transcription": {"model": "azure-speech"}}
        )
        await until(conn, "session.updated")
        await send_audio(conn, recording(WEATHER, fmt, gain=0.3), fmt)
        completed = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert completed.transcript == WEATHER


async def test_audio_it_never_synthesized_completes_with_an_empty_transcript(
    emu: Emulator,
) -> None:
    rng = np.random.default_rng(3)
    babble = (rng.normal(0, 6000, 24_000) * np.hanning(24_000)).astype("<i2").tobytes()
    async with sdk(emu) as conn:
        await conn.session.update(session=transcription())
        await until(conn, "session.updated")
        await send_audio(conn, bytes(9600) + babble + bytes(48_000), AudioFormat("pcm16", 24_000))
        events = await until(conn, "response.done")
    completed = next(e for e in events if e.type == f"{TRANSCRIBED}.completed")
    assert completed.transcript == ""
    assert f"{TRANSCRIBED}.delta" not in types_of(events)
    reply = events[-1].response.output[0].content[0].transcript
    assert reply == "I heard you. Could you tell me a little more?"


async def test_without_transcription_there_are_no_events_but_the_model_still_hears(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await send_audio(conn, recording(LAKE), AudioFormat("pcm16", 24_000))
        events = await until(conn, "response.done")
    assert not any(name.startswith(TRANSCRIBED) for name in types_of(events))
    user_item = next(e for e in events if e.type == "conversation.item.created").item
    assert user_item.content[0].transcript is None
    assert LAKE in events[-1].response.output[0].content[0].transcript


async def test_a_spoken_weather_question_calls_the_tool_with_the_city(emu: Emulator) -> None:
    tool = FunctionTool(
        name="get_weather",
        description="Get the weather for a given location.",
        parameters={
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    )
    async with sdk(emu) as conn:
        await conn.session.update(
            session=RequestSession(
                tools=[tool],
                tool_choice="auto",
                turn_detection=ServerVad(silence_duration_ms=200),
            )
        )
        await until(conn, "session.updated")
        await send_audio(conn, recording(WEATHER), AudioFormat("pcm16", 24_000))
        done = (await until(conn, "response.function_call_arguments.done"))[-1]
    assert (done.name, done.arguments) == ("get_weather", '{"location":"Beijing"}')


async def test_a_transcriber_hook_hears_the_pcm_at_the_input_rate() -> None:
    calls: list[tuple[int, int]] = []

    def transcriber(pcm: bytes, rate: int) -> str | None:
        calls.append((len(pcm), rate))
        return "Book a table for two." if len(calls) == 1 else None

    async with Emulator(pace=0, transcriber=transcriber) as emu, sdk(emu) as conn:
        await conn.session.update(
            session={"input_audio_sampling_rate": 16_000, **transcription().as_dict()}
        )
        await until(conn, "session.updated")
        fmt = AudioFormat("pcm16", 16_000)
        await send_audio(conn, recording(LAKE, fmt), fmt)
        first = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
        await until(conn, "response.done")
        await send_audio(conn, recording(LAKE, fmt), fmt)  # the hook declines: the registry
        second = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert first.transcript == "Book a table for two."
    assert second.transcript == LAKE
    length, rate = calls[0]
    assert rate == 16_000
    assert 2.0 < length / 2 / rate < 5.0  # the committed turn, not the whole session


async def test_a_failing_transcriber_gives_a_failed_event() -> None:
    def transcriber(pcm: bytes, rate: int) -> str | None:
        raise RuntimeError("model offline")

    async with Emulator(pace=0, transcriber=transcriber) as emu, sdk(emu) as conn:
        await conn.session.update(session=transcription())
        await until(conn, "session.updated")
        await send_audio(conn, recording(LAKE), AudioFormat("pcm16", 24_000))
        events = await until(conn, "response.done")
    failed = next(e for e in events if e.type == f"{TRANSCRIBED}.failed")
    assert "model offline" in failed.error.message
    assert failed.error.type == "transcription_error"
    assert f"{TRANSCRIBED}.completed" not in types_of(events)
    assert events[-1].response.output[0].content[0].transcript.startswith("I heard you")


async def test_phrases_teach_an_emulator_what_it_never_heard_of() -> None:
    audio = recording(WEATHER)  # as if made on another machine: forget it
    REGISTRY.clear()
    REGISTRY.use_directory(None)
    fmt = AudioFormat("pcm16", 24_000)
    async with Emulator(pace=0) as plain, sdk(plain) as conn:
        await conn.session.update(session=transcription())
        await until(conn, "session.updated")
        await send_audio(conn, audio, fmt)
        unknown = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    async with Emulator(pace=0, phrases=[WEATHER]) as taught, sdk(taught) as conn:
        await conn.session.update(session=transcription())
        await until(conn, "session.updated")
        await send_audio(conn, audio, fmt)
        known = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert unknown.transcript == ""
    assert known.transcript == WEATHER


async def test_a_session_phrase_list_teaches_it_too(emu: Emulator) -> None:
    audio = recording(LAKE)
    REGISTRY.clear()
    REGISTRY.use_directory(None)
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"input_audio_transcription": {"model": "azure-speech", "phrase_list": [LAKE]}}
        )
        await until(conn, "session.updated")
        await send_audio(conn, audio, AudioFormat("pcm16", 24_000))
        completed = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert completed.transcript == LAKE


async def test_its_own_replies_played_back_are_recognized(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": None, **transcription().as_dict()})
        await until(conn, "session.updated")
        await conn.response.create()
        events = await until(conn, "response.done")
        said = events[-1].response.output[0].content[0].transcript
        pcm = b"".join(e.delta for e in events if e.type == "response.audio.delta")
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm).decode())
        await conn.input_audio_buffer.commit()
        completed = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert completed.transcript == said


# -- the matcher on its own --------------------------------------------------------------------


TEXTS = [
    LAKE,
    WEATHER,
    "I like to read books in the park on sunny days.",
    "My brother plays the guitar every evening.",
    "Hello! I'm your assistant. How can I help you today?",
    "Tell me a joke about penguins.",
]


def test_the_matcher_tells_registered_sentences_apart_under_client_changes() -> None:
    spoken = {text: synthesize(text) for text in TEXTS}
    for text, pcm in spoken.items():
        for rate, encoding in ((8_000, "g711_ulaw"), (8_000, "g711_alaw"), (44_100, "pcm16")):
            fmt = AudioFormat(encoding, rate)  # type: ignore[arg-type]
            sent = encode_from_pcm16(resample_pcm16(pcm, 24_000, rate), fmt)
            heard = decode_to_pcm16(sent, fmt)
            assert REGISTRY.recognize(envelope(heard, rate)) == text
        faster = resample_pcm16(pcm, 24_000, 19_200)  # played at 24 kHz: 25 % faster
        assert REGISTRY.recognize(envelope(faster, 24_000)) == text
        assert REGISTRY.recognize(envelope(edited(pcm), 24_000)) == text


def edited(pcm: bytes) -> bytes:
    """What a test harness might do to a clip: cut to its loud part, level it, squeeze it."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: samples.size // 480 * 480].reshape(-1, 480)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = np.flatnonzero(rms >= rms.max() / 10)  # within 20 dB of the loudest 20 ms
    cut = samples[loud[0] * 480 : (loud[-1] + 1) * 480]
    levelled = np.clip(cut * (3000 / np.sqrt(np.mean(cut**2))), -32768, 32767)
    squeezed = resample_pcm16(levelled.astype("<i2").tobytes(), 30_000, 24_000)  # 20 % shorter
    return bytes(4800) + squeezed + bytes(9600)


def test_unregistered_speech_and_noise_are_not_recognized() -> None:
    REGISTRY.use_directory(None)
    for text in TEXTS[:3]:
        synthesize(text)
    other = synthesize("Completely different words for this one.")
    REGISTRY.clear()
    for text in TEXTS[:3]:
        synthesize(text)
    assert REGISTRY.recognize(envelope(other, 24_000)) is None
    noise = np.random.default_rng(0).normal(0, 3000, 48_000).astype("<i2").tobytes()
    assert REGISTRY.recognize(envelope(noise, 24_000)) is None
    assert REGISTRY.recognize(envelope(bytes(48_000), 24_000)) is None


def test_registry_is_bounded() -> None:
    registry = UtteranceRegistry(capacity=2)
    pcm = synthesize(LAKE)
    for index in range(5):
        registry.add(f"text {index}", pcm, 24_000)
    assert len(registry) == 2
    assert registry.recognize(envelope(pcm, 24_000)) is None  # two texts, same sound: ambiguous
    assert ("text 4", "") in registry and ("text 2", "") not in registry


async def test_speech_synthesized_by_another_process_is_recognized(
    emu: Emulator, fresh_registry: Path
) -> None:
    env = {**os.environ, "VOICELIVE_EMULATOR_UTTERANCES": str(fresh_registry)}
    script = (
        "import sys; from voicelive_proactive.emulator import synthesize; "
        f"sys.stdout.buffer.write(synthesize({WEATHER!r}))"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=env, stdout=asyncio.subprocess.PIPE
    )
    pcm, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0
    assert REGISTRY.recognize(envelope(pcm, 24_000)) is not None  # learnt from the directory
    REGISTRY.clear()
    REGISTRY.use_directory(fresh_registry)  # a fresh reader, like another emulator process
    async with sdk(emu) as conn:
        await conn.session.update(session=transcription())
        await until(conn, "session.updated")
        quiet = bytes(24_000)
        await send_audio(conn, quiet + pcm + quiet * 2, PCM24)
        completed = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert completed.transcript == WEATHER


def test_broken_shared_files_are_ignored(fresh_registry: Path) -> None:
    (fresh_registry / "a.json").write_text("{not json")
    (fresh_registry / "b.json").write_text('{"text": 3, "voice": "x", "contour": []}')
    (fresh_registry / "c.json").write_text("[1, 2]")
    pcm = synthesize(LAKE)
    REGISTRY.clear()
    REGISTRY.use_directory(fresh_registry)
    assert REGISTRY.recognize(envelope(pcm, 24_000)) == LAKE


def test_an_empty_environment_variable_turns_sharing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicelive_proactive.emulator.utterance_store import default_directory

    monkeypatch.setenv("VOICELIVE_EMULATOR_UTTERANCES", "")
    assert default_directory() is None
    monkeypatch.setenv("VOICELIVE_EMULATOR_UTTERANCES", "/some/where")
    assert default_directory() == Path("/some/where")
    monkeypatch.delenv("VOICELIVE_EMULATOR_UTTERANCES")
    directory = default_directory()
    assert directory is not None and directory.name == "utterances-v2"


async def test_a_wav_file_sent_header_and_all_is_recognized(emu: Emulator) -> None:
    # The SDK's own tests append whole WAV files: the 44-byte header is a click of noise.
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(resample_pcm16(synthesize(LAKE), 24_000, 16_000))
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"input_audio_sampling_rate": 16_000, **transcription().as_dict()}
        )
        await until(conn, "session.updated")
        await send_audio(conn, out.getvalue() + bytes(32_000), AudioFormat("pcm16", 16_000))
        completed = (await until(conn, f"{TRANSCRIBED}.completed"))[-1]
    assert completed.transcript == LAKE


async def test_remove_filler_words_drops_a_turn_that_is_only_a_filler(emu: Emulator) -> None:
    fmt = PCM24
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"type": "azure_semantic_vad", "remove_filler_words": True}}
        )
        await until(conn, "session.updated")
        await send_audio(conn, recording("Um"), fmt)  # recognized: a filler, not a turn
        await send_audio(conn, recording(LAKE), fmt)
        events = await until(conn, "response.done")
    names = types_of(events)
    assert names.count("input_audio_buffer.speech_started") == 1
    assert names.count("input_audio_buffer.committed") == 1
    started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    assert started.audio_start_ms > 1_500  # the second clip's turn, not the filler's
    assert LAKE in events[-1].response.output[0].content[0].transcript


async def test_remove_filler_words_keeps_short_sounds_it_cannot_recognize(emu: Emulator) -> None:
    t = np.arange(24_000 * 3 // 10) / 24_000
    beep = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    async with sdk(emu) as conn:
        await conn.session.update(
            session={
                "turn_detection": {
                    "type": "server_vad",
                    "remove_filler_words": True,
                    "create_response": False,
                }
            }
        )
        await until(conn, "session.updated")
        await send_audio(conn, bytes(24_000) + beep + bytes(48_000), PCM24)
        events = await until(conn, "conversation.item.created")
    names = types_of(events)
    # held back until the turn ended, then announced with its true start
    assert names[-4:] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
    ]
    assert events[-4].audio_start_ms == 200  # 0.5 s of silence less the 300 ms padding


async def test_remove_filler_words_still_lets_long_speech_barge_in(emu: Emulator) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "remove_filler_words": True}}
        )
        await until(conn, "session.updated")
        await conn.response.create(response={"modalities": ["text", "audio"]})
        await until(conn, "response.audio.delta")
        speech = recording("I like to read books in the park on sunny days.")
        await send_audio(conn, speech[: len(speech) // 2], PCM24)  # still talking
        events = await until(conn, "response.done")
    names = types_of(events)
    assert "input_audio_buffer.speech_started" in names
    assert "input_audio_buffer.speech_stopped" not in names
    assert events[-1].response.status_details.reason == "turn_detected"


def test_the_shared_directory_is_bounded(tmp_path: Path) -> None:
    from voicelive_proactive.emulator.utterance_store import UtteranceStore

    store = UtteranceStore(tmp_path)
    for index in range(12):
        store.write(f"text {index}", "auto", [[0.0, -1.0]])
    store.prune(keep=4, above=10)
    assert len(list(tmp_path.glob("*.json"))) == 4
    reader = UtteranceStore(tmp_path)
    assert {text for text, _, _ in reader.read_new()} <= {f"text {i}" for i in range(12)}
