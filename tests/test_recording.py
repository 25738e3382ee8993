"""record_speech and ``voicelive-proactive record``: the service's own rendering of a text.

Through the real SDK against the emulator (and the CLI as a subprocess); failures through
FakeConnection, which says exactly what the service said.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

from voicelive_proactive.audio.formats import AudioFormat, decode_to_pcm16
from voicelive_proactive.emulator import Emulator
from voicelive_proactive.errors import ConfigurationError, EmptyGreetingError
from voicelive_proactive.recording import (
    Recording,
    RecordingError,
    check_wav_path,
    record_speech,
    words_path,
)
from voicelive_proactive.testing import FakeConnection
from voicelive_proactive.words import read_words_file

TEXT = "Hi, this is Contoso. How can I help you today?"
FORMATS = ["pcm16", "pcm16_16000hz", "pcm16_8000hz", "g711_ulaw", "g711_alaw"]


@pytest.fixture
async def conn() -> AsyncIterator[VoiceLiveConnection]:
    async with (
        Emulator(pace=0) as emu,
        connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), model="gpt-realtime"
        ) as connection,
    ):
        yield connection


def read_wav(path: Path) -> tuple[tuple[int, int, int], bytes]:
    with wave.open(str(path), "rb") as wav:
        shape = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
        return shape, wav.readframes(wav.getnframes())


def check_words(recording: Recording) -> None:
    words = recording.words.words
    assert [w.text for w in words] == TEXT.split()
    for word, later in itertools.pairwise(words):
        assert word.start_ms < word.end_ms <= later.start_ms
    assert words[-1].end_ms <= recording.duration_ms


@pytest.mark.parametrize("name", FORMATS)
async def test_the_service_s_rendering_in_every_format_becomes_a_wav_and_a_words_file(
    conn: VoiceLiveConnection, tmp_path: Path, name: str
) -> None:
    recording = await record_speech(conn, TEXT, output_format=name)
    fmt = AudioFormat.from_output(name)
    audio, got_format, words = recording  # it unpacks: (audio, format, words)
    assert got_format == fmt and words is recording.words
    assert len(audio) == len(recording.audio) > 0
    assert len(audio) % fmt.bytes_for_ms(100) == 0, "whole 100 ms chunks, as streamed"
    assert recording.words.text == TEXT and recording.words.format == name
    assert recording.words.duration_ms == recording.duration_ms == fmt.duration_ms(len(audio))
    check_words(recording)

    wav_path, json_path = recording.save(tmp_path / "hello.wav")
    assert json_path == tmp_path / "hello.words.json"
    shape, frames = read_wav(wav_path)
    assert shape == (fmt.sample_rate, 1, 2), "16-bit mono PCM at the format's own rate"
    assert frames == decode_to_pcm16(audio, fmt), "g711 decoded, PCM as streamed"
    assert len(frames) // 2 * 1000 // fmt.sample_rate == recording.duration_ms
    assert read_words_file(json_path) == recording.words


async def test_word_offsets_lie_on_the_words_in_the_audio(conn: VoiceLiveConnection) -> None:
    recording = await record_speech(conn, TEXT)
    samples = np.frombuffer(recording.pcm16, dtype="<i2").astype(np.float64)
    for word in recording.words.words:
        inside = samples[word.start_ms * 24 : word.end_ms * 24]
        assert np.sqrt(np.mean(inside**2)) > 300, f"{word.text!r} is audible where it is said"
    tail = samples[recording.words.words[-1].end_ms * 24 + 120 :]
    assert np.abs(tail).max(initial=0) < 200, "nothing is said after the last word"


async def test_the_session_is_asked_for_word_timestamps_and_a_verbatim_response() -> None:
    async with Emulator(pace=0) as emu:
        async with connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), model="gpt-realtime"
        ) as connection:
            await record_speech(connection, TEXT, voice="en-US-AvaNeural")
        update, create = emu.received[0]
    assert update["type"] == "session.update"
    assert update["session"]["output_audio_timestamp_types"] == ["word"]
    assert update["session"]["voice"] == "en-US-AvaNeural"
    assert create["type"] == "response.create" and create["event_id"]
    message = create["response"]["pre_generated_assistant_message"]
    assert message["content"] == [{"type": "text", "text": TEXT}]


async def test_bad_input_fails_before_anything_is_sent() -> None:
    fake = FakeConnection()
    with pytest.raises(EmptyGreetingError):
        await record_speech(fake, "   ")
    with pytest.raises(ConfigurationError, match="output format must be one of"):
        await record_speech(fake, TEXT, output_format="mp3")
    with pytest.raises(ConfigurationError, match="timeout"):
        await record_speech(fake, TEXT, timeout=0)
    assert fake.sent == []


def session_updated(sent: dict[str, Any], fmt: str = "pcm16") -> list[dict[str, Any]]:
    return [{"type": "session.updated", "session": {"id": "s", "output_audio_format": fmt}}]


async def test_a_refusal_names_the_api_version_it_needs() -> None:
    fake = FakeConnection()
    fake.reply_to("session.update", session_updated)
    fake.reply_error("response.create", "unknown_parameter", "Unknown parameter.")
    with pytest.raises(RecordingError, match=r"unknown_parameter.*2026-01-01-preview"):
        await record_speech(fake, TEXT)


async def test_an_old_api_version_on_the_emulator_is_refused_the_same_way() -> None:
    async with (
        Emulator(pace=0) as emu,
        connect(
            endpoint=emu.endpoint,
            credential=AzureKeyCredential(emu.api_key),
            model="gpt-realtime",
            api_version="2025-10-01",
        ) as connection,
    ):
        with pytest.raises(RecordingError, match="unknown_parameter"):
            await record_speech(connection, TEXT)


async def test_a_response_that_does_not_complete_is_an_error() -> None:
    fake = FakeConnection()
    fake.reply_to("session.update", session_updated)

    def cut_short(sent: dict[str, Any]) -> list[dict[str, Any]]:
        response = {"id": "r1", "object": "realtime.response", "output": []}
        details = {"type": "cancelled", "reason": "turn_detected"}
        return [
            {"type": "response.created", "response": {**response, "status": "in_progress"}},
            {
                "type": "response.done",
                "response": {**response, "status": "cancelled", "status_details": details},
            },
        ]

    fake.reply_to("response.create", cut_short)
    with pytest.raises(RecordingError, match=r"cancelled.*turn_detected"):
        await record_speech(fake, TEXT)


def without_timestamps(sent: dict[str, Any]) -> list[dict[str, Any]]:
    where = {"response_id": "r1", "item_id": "i1", "output_index": 0, "content_index": 0}
    response = {"id": "r1", "object": "realtime.response", "output": []}
    return [
        {"type": "response.created", "response": {**response, "status": "in_progress"}},
        {"type": "response.audio.delta", **where, "delta": "AAAAAA=="},
        {"type": "response.audio_transcript.done", **where, "transcript": TEXT},
        {"type": "response.done", "response": {**response, "status": "completed"}},
    ]


async def test_no_word_timestamps_is_an_error_unless_the_caller_accepts_it() -> None:
    fake = FakeConnection()
    fake.reply_to("session.update", session_updated, times=2)
    fake.reply_to("response.create", without_timestamps, times=2)
    with pytest.raises(RecordingError, match="no word timestamps"):
        await record_speech(fake, TEXT)
    recording = await record_speech(fake, TEXT, require_words=False)
    assert recording.words.words == () and recording.audio == bytes(4)


async def test_a_silent_or_closing_service_is_an_error_not_a_hang() -> None:
    fake = FakeConnection()
    fake.reply_to("session.update", session_updated)
    with pytest.raises(RecordingError, match=r"within 0\.2 s"):
        await record_speech(fake, TEXT, timeout=0.2)
    closing = FakeConnection()
    closing.reply_to("session.update", session_updated)
    closing.reply_to("response.create", lambda sent: [])
    closing.close()
    with pytest.raises(RecordingError, match="closed"):
        await record_speech(closing, TEXT)


async def test_a_format_the_service_did_not_take_is_an_error() -> None:
    fake = FakeConnection()
    fake.reply_to("session.update", lambda sent: session_updated(sent, "pcm16"))
    with pytest.raises(RecordingError, match="kept output_audio_format 'pcm16'"):
        await record_speech(fake, TEXT, output_format="g711_ulaw")


def test_the_words_file_goes_beside_the_wav(tmp_path: Path) -> None:
    assert words_path("hello.wav") == Path("hello.words.json")
    assert words_path("dir/Hello.WAV") == Path("dir/Hello.words.json")
    assert words_path("greeting") == Path("greeting.words.json")
    with pytest.raises(ConfigurationError, match="directory does not exist"):
        check_wav_path(tmp_path / "nowhere" / "x.wav")
    with pytest.raises(ConfigurationError, match="is a directory"):
        check_wav_path(tmp_path)
    check_wav_path(tmp_path / "x.wav")


# -- the command ------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_VOICELIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "voicelive_proactive.cli", "record", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_record_against_the_embedded_emulator_writes_both_files(tmp_path: Path) -> None:
    result = run(TEXT, "-o", "hello.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "embedded emulator" in result.stdout
    assert "wrote hello.wav" in result.stdout and "hello.words.json (10 words)" in result.stdout
    shape, frames = read_wav(tmp_path / "hello.wav")
    words = read_words_file(tmp_path / "hello.words.json")
    assert shape == (24_000, 1, 2)
    assert words.text == TEXT and [w.text for w in words.words] == TEXT.split()
    assert words.duration_ms == len(frames) // 48
    assert all(w.end_ms <= words.duration_ms for w in words.words)


def test_record_json_and_a_telephony_format(tmp_path: Path) -> None:
    result = run(TEXT, "-o", "call.wav", "--format", "g711_ulaw", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "recorded" and summary["sample_rate"] == 8_000
    assert summary["wav"] == "call.wav" and summary["words_file"] == "call.words.json"
    shape, frames = read_wav(tmp_path / "call.wav")
    assert shape == (8_000, 1, 2)
    assert (
        summary["duration_ms"]
        == len(frames) // 16
        == read_words_file(tmp_path / "call.words.json").duration_ms
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("   ", "-o", "x.wav"), "must not be empty"),
        ((TEXT, "-o", "missing/x.wav"), "directory does not exist"),
        ((TEXT, "-o", "x.wav", "--format", "mp3"), "invalid choice"),
        ((TEXT,), "-o/--out"),
    ],
)
def test_record_usage_and_configuration_errors_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert not list(tmp_path.iterdir()), "nothing is written"
