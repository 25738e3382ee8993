"""Audio formats: g711 and PCM rates in, every output format out, durations in real ms."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    OutputTextContentPart,
    ResponseCreateParams,
)
from emulator_helpers import pcm_of, sdk, types_of, until

from voicelive_proactive.audio.formats import (
    AudioFormat,
    decode_to_pcm16,
    encode_from_pcm16,
    resample_pcm16,
)
from voicelive_proactive.emulator import Emulator, synthesize

TEXT = "Formats should not change what is said."
OUTPUTS = {
    "pcm16": AudioFormat("pcm16", 24_000),
    "pcm16_16000hz": AudioFormat("pcm16", 16_000),
    "pcm16_8000hz": AudioFormat("pcm16", 8_000),
    "g711_ulaw": AudioFormat("g711_ulaw", 8_000),
    "g711_alaw": AudioFormat("g711_alaw", 8_000),
    "pcm16_22050hz": AudioFormat("pcm16", 22_050),
    "pcm16_44100hz": AudioFormat("pcm16", 44_100),
    "pcm16_48000hz": AudioFormat("pcm16", 48_000),
}


def spoken(text: str = TEXT) -> ResponseCreateParams:
    return ResponseCreateParams(
        pre_generated_assistant_message=AssistantMessageItem(
            content=[OutputTextContentPart(text=text)]
        )
    )


def tone(fmt: AudioFormat, ms: int, amplitude: float = 8000.0) -> bytes:
    t = np.arange(fmt.sample_rate * ms // 1000) / fmt.sample_rate
    pcm = (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    return encode_from_pcm16(pcm, fmt)


def silence(fmt: AudioFormat, ms: int) -> bytes:
    return encode_from_pcm16(bytes(fmt.sample_rate * ms // 1000 * 2), fmt)


def correlation(a: bytes, b: bytes) -> float:
    x = np.frombuffer(a, dtype="<i2").astype(np.float64)
    y = np.frombuffer(b, dtype="<i2").astype(np.float64)
    size = min(x.size, y.size)
    return float(np.corrcoef(x[:size], y[:size])[0, 1])


@pytest.mark.parametrize("name", list(OUTPUTS))
async def test_every_output_format_speaks_the_same_audio_in_100_ms_chunks(
    emu: Emulator, name: str
) -> None:
    fmt = OUTPUTS[name]
    async with sdk(emu) as conn:
        await conn.session.update(session={"output_audio_format": name})
        updated = (await until(conn, "session.updated"))[-1]
        await conn.response.create(response=spoken())
        events = await until(conn, "response.done")
    assert updated.session.output_audio_format == name
    chunks = [e.delta for e in events if e.type == "response.audio.delta"]
    assert {len(chunk) for chunk in chunks} == {fmt.bytes_for_ms(100)}
    audio = b"".join(chunks)
    reference = synthesize(TEXT)
    # same length in ms whatever the format: each chunk is 100 ms
    assert len(audio) / fmt.bytes_per_second == pytest.approx(len(reference) / 48_000, abs=0.1)
    # and the same sound: decoded and brought back to 24 kHz it matches the original voice
    decoded = resample_pcm16(decode_to_pcm16(audio, fmt), fmt.sample_rate, 24_000)
    threshold = 0.8 if fmt.sample_rate < 16_000 else 0.95
    assert correlation(decoded, reference) > threshold
    assert events[-1].response.output_audio_format == name


async def test_a_response_can_ask_for_its_own_output_format(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        params = spoken().as_dict()
        await conn.response.create(response={**params, "output_audio_format": "g711_alaw"})
        alaw = await until(conn, "response.done")
        await conn.response.create(response=spoken())
        default = await until(conn, "response.done")
    assert {len(e.delta) for e in alaw if e.type == "response.audio.delta"} == {800}
    assert {len(e.delta) for e in default if e.type == "response.audio.delta"} == {4800}


async def test_truncation_is_in_ms_of_the_real_format(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"output_audio_format": "g711_ulaw"})
        await until(conn, "session.updated")
        await conn.response.create(response=spoken())
        events = await until(conn, "response.done")
        audio_ms = len(pcm_of(events)) // 8  # 8 bytes a ms
        item_id = events[-1].response.output[0].id
        await conn.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=audio_ms + 1, event_id="evt_past"
        )
        error = (await until(conn, "error"))[-1]
        await conn.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=audio_ms
        )
        truncated = (await until(conn, "conversation.item.truncated"))[-1]
    assert audio_ms > 1000
    assert error.error.param == "audio_end_ms" and str(audio_ms) in error.error.message
    assert truncated.audio_end_ms == audio_ms


@pytest.mark.parametrize(
    ("session", "fmt"),
    [
        ({}, AudioFormat("pcm16", 24_000)),
        ({"input_audio_sampling_rate": 8_000}, AudioFormat("pcm16", 8_000)),
        ({"input_audio_sampling_rate": 16_000}, AudioFormat("pcm16", 16_000)),
        ({"input_audio_sampling_rate": 44_100}, AudioFormat("pcm16", 44_100)),
        ({"input_audio_format": "g711_ulaw"}, AudioFormat("g711_ulaw", 8_000)),
        ({"input_audio_format": "g711_alaw"}, AudioFormat("g711_alaw", 8_000)),
    ],
    ids=["24k", "8k", "16k", "44k", "ulaw", "alaw"],
)
async def test_the_vad_times_turns_in_ms_in_every_input_format(
    emu: Emulator, session: dict[str, Any], fmt: AudioFormat
) -> None:
    audio = silence(fmt, 1000) + tone(fmt, 400) + silence(fmt, 700)
    async with sdk(emu) as conn:
        await conn.session.update(
            session={**session, "turn_detection": {"type": "server_vad", "create_response": False}}
        )
        updated = (await until(conn, "session.updated"))[-1]
        step = fmt.bytes_for_ms(100)
        for start in range(0, len(audio), step):
            await conn.input_audio_buffer.append(
                audio=base64.b64encode(audio[start : start + step]).decode()
            )
        events = await until(conn, "conversation.item.created")
    assert updated.session.input_audio_sampling_rate == fmt.sample_rate
    started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e.type == "input_audio_buffer.speech_stopped")
    assert started.audio_start_ms == 700  # 1,000 ms minus the 300 ms prefix padding
    assert 1_850 <= stopped.audio_end_ms <= 1_950


async def test_g711_reports_8_khz_and_pcm_gets_its_own_rate_back(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"input_audio_sampling_rate": 16_000})
        first = (await until(conn, "session.updated"))[-1]
        await conn.session.update(session={"input_audio_format": "g711_ulaw"})
        g711 = (await until(conn, "session.updated"))[-1]
        await conn.session.update(session={"input_audio_format": "pcm16"})
        back = (await until(conn, "session.updated"))[-1]
    assert first.session.input_audio_sampling_rate == 16_000
    assert (g711.session.input_audio_format, g711.session.input_audio_sampling_rate) == (
        "g711_ulaw",
        8_000,
    )
    assert back.session.input_audio_sampling_rate == 16_000


async def test_the_commit_minimum_is_100_ms_of_the_real_format(emu: Emulator) -> None:
    fmt = AudioFormat("g711_alaw", 8_000)
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"input_audio_format": "g711_alaw", "turn_detection": None}
        )
        await until(conn, "session.updated")
        await conn.input_audio_buffer.append(audio=base64.b64encode(silence(fmt, 90)).decode())
        await conn.input_audio_buffer.commit(event_id="evt_short")
        error = (await until(conn, "error"))[-1]
        await conn.input_audio_buffer.append(audio=base64.b64encode(silence(fmt, 20)).decode())
        await conn.input_audio_buffer.commit()
        committed = await until(conn, "conversation.item.created")
    assert error.error.code == "input_audio_buffer_commit_empty"
    assert "90.00ms" in error.error.message
    assert "input_audio_buffer.committed" in types_of(committed)


@pytest.mark.parametrize("encoding", ["g711_ulaw", "g711_alaw"])
async def test_pcm_zeros_on_a_g711_session_end_the_turn(emu: Emulator, encoding: str) -> None:
    # Zero bytes are a constant offset in either law, not sound: the turn ends and is answered.
    fmt = AudioFormat(encoding, 8_000)  # type: ignore[arg-type]
    async with sdk(emu) as conn:
        await conn.session.update(session={"input_audio_format": encoding})
        await until(conn, "session.updated")
        audio = tone(fmt, 500) + bytes(16_000)
        await conn.input_audio_buffer.append(audio=base64.b64encode(audio).decode())
        events = await until(conn, "response.done")
    assert "input_audio_buffer.speech_stopped" in types_of(events)
    assert len(pcm_of(events)) > 0
