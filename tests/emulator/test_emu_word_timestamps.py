"""Word timestamps: where each spoken word lies in the response's audio, in every format.

The voice itself says where each word starts (eSpeak NG's word events, or the synthetic
voice's syllables), so the timestamps are checked against the audio: each word's stretch is
audible, the gaps between words are silent, and the audio up to a word's end is the audio
of the words up to it said on their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    OutputTextContentPart,
    ResponseCreateParams,
    ServerEventResponseAudioTimestampDelta,
    ServerEventResponseAudioTimestampDone,
)
from emulator_helpers import sdk, types_of, until

from voicelive_proactive.audio.formats import AudioFormat, decode_to_pcm16
from voicelive_proactive.emulator import Emulator, synthesize
from voicelive_proactive.emulator.alignment import AUDIBLE

TEXT = "Hi, this is Contoso. Your order is ready, thanks for waiting!"
FORMATS = ["pcm16", "pcm16_16000hz", "pcm16_8000hz", "g711_ulaw", "g711_alaw"]
GUARD_MS = 5  # a resampler's filter smears an edge by a few samples at most


def spoken(text: str = TEXT) -> ResponseCreateParams:
    return ResponseCreateParams(
        pre_generated_assistant_message=AssistantMessageItem(
            content=[OutputTextContentPart(text=text)]
        )
    )


async def say_with_timestamps(
    emu: Emulator, text: str = TEXT, fmt: str = "pcm16"
) -> tuple[list[Any], bytes, list[Any]]:
    """(timestamp deltas, the audio as sent, every event) of one pre-generated response."""
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"output_audio_format": fmt, "output_audio_timestamp_types": ["word"]}
        )
        await until(conn, "session.updated")
        await conn.response.create(response=spoken(text))
        events = await until(conn, "response.done")
    words = [e for e in events if e.type == "response.audio_timestamp.delta"]
    audio = b"".join(e.delta for e in events if e.type == "response.audio.delta")
    return words, audio, events


def ms_slice(pcm: bytes, rate: int, start_ms: float, end_ms: float) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    return samples[max(0, int(start_ms * rate / 1000)) : max(0, int(end_ms * rate / 1000))]


async def test_every_format_gets_the_same_typed_timestamps_interleaved_with_the_audio(
    emu: Emulator,
) -> None:
    timings: dict[str, list[tuple[str, int, int]]] = {}
    for name in FORMATS:
        fmt = AudioFormat.from_output(name)
        words, audio, events = await say_with_timestamps(emu, fmt=name)
        response_id, item_id = events[-1].response.id, events[-1].response.output[0].id
        audio_ms = fmt.duration_ms(len(audio))

        assert all(isinstance(w, ServerEventResponseAudioTimestampDelta) for w in words)
        assert [w.text for w in words] == TEXT.split(), "every word of the transcript, in order"
        for w in words:
            assert (w.response_id, w.item_id, w.output_index, w.content_index) == (
                response_id,
                item_id,
                0,
                0,
            )
            assert w.timestamp_type == "word" and w.audio_duration_ms > 0
        ends = [w.audio_offset_ms + w.audio_duration_ms for w in words]
        for end, later in zip(ends, words[1:], strict=False):
            assert end <= later.audio_offset_ms, "monotonic and never overlapping"
        assert words[0].audio_offset_ms >= 0 and ends[-1] <= audio_ms

        # Each word goes out right before the audio chunk it starts in.
        sent = 0
        for event in events:
            if event.type == "response.audio.delta":
                sent += len(event.delta)
            elif event.type == "response.audio_timestamp.delta":
                assert fmt.duration_ms(sent) == event.audio_offset_ms // 100 * 100
        names = types_of(events)
        done = events[names.index("response.audio_timestamp.done")]
        assert isinstance(done, ServerEventResponseAudioTimestampDone)
        assert (done.response_id, done.item_id) == (response_id, item_id)
        last_word = max(i for i, n in enumerate(names) if n == "response.audio_timestamp.delta")
        assert last_word < names.index("response.audio_timestamp.done")
        assert names.index("response.audio_timestamp.done") < names.index("response.audio.done")
        timings[name] = [(w.text, w.audio_offset_ms, w.audio_duration_ms) for w in words]
    # Milliseconds of the same audio: identical in every format (well within a sample).
    assert all(each == timings["pcm16"] for each in timings.values())


@pytest.mark.parametrize("name", FORMATS)
async def test_each_word_is_audible_where_it_is_said_to_be_and_silence_lies_between(
    emu: Emulator, name: str
) -> None:
    fmt = AudioFormat.from_output(name)
    words, audio, _ = await say_with_timestamps(emu, fmt=name)
    pcm, rate = decode_to_pcm16(audio, fmt), fmt.sample_rate
    starts = [w.audio_offset_ms for w in words]
    ends = [w.audio_offset_ms + w.audio_duration_ms for w in words]
    for word, start, end in zip(words, starts, ends, strict=True):
        inside = ms_slice(pcm, rate, start, end)
        assert np.sqrt(np.mean(inside.astype(np.float64) ** 2)) > 300, f"{word.text!r} is audible"
    gaps = [(0, starts[0]), *zip(ends, starts[1:], strict=False), (ends[-1], 10**9)]
    for gap_start, gap_end in gaps:
        if gap_end - gap_start > 2 * GUARD_MS:
            quiet = ms_slice(pcm, rate, gap_start + GUARD_MS, gap_end - GUARD_MS)
            assert np.abs(quiet).max(initial=0) <= 2 * AUDIBLE, (
                f"{name}: sound between {gap_start} and {gap_end} ms, outside every word"
            )


async def test_the_first_n_ms_up_to_a_clause_hold_exactly_its_words() -> None:
    """eSpeak NG: the words up to a clause's end, said alone, end where its last word does."""
    async with Emulator(pace=0, voice="auto") as emu:
        words, _, _ = await say_with_timestamps(emu)
    for index, word in enumerate(words):
        if not word.text.endswith((",", ".", "!")):
            continue  # inside a clause the voice lengthens whatever word comes last
        heard = " ".join(w.text for w in words[: index + 1])
        alone = np.frombuffer(synthesize(heard), dtype="<i2")
        voiced_ms = (np.flatnonzero(np.abs(alone.astype(np.int32)) > AUDIBLE)[-1] + 1) / 24
        end = word.audio_offset_ms + word.audio_duration_ms
        # eSpeak's timing wobbles by a few ms from one synthesis to the next.
        assert end == pytest.approx(voiced_ms, abs=30), f"{heard!r} alone lasts {voiced_ms} ms"


async def test_with_the_synthetic_voice_the_first_n_ms_are_exactly_the_words_timed_in_them() -> (
    None
):
    async with Emulator(pace=0, voice="synthetic") as emu:
        words, audio, _ = await say_with_timestamps(emu)
    for index, word in enumerate(words):
        heard = " ".join(w.text for w in words[: index + 1])
        alone = synthesize(heard, "synthetic")
        cut = (word.audio_offset_ms + word.audio_duration_ms) * 48
        # The audio up to the word's end is those words said alone, sample for sample
        # (give or take the last sample of rounding to whole ms)...
        assert audio[: cut - 2] == alone[: cut - 2], f"the first {cut // 48} ms are {heard!r}"
        # ...and those words said alone have nothing more to say after it.
        rest = np.frombuffer(alone[cut:], dtype="<i2").astype(np.int32)
        assert np.abs(rest).max(initial=0) <= AUDIBLE, f"{heard!r} goes on after {cut // 48} ms"


async def test_a_model_reply_is_timed_too(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"output_audio_timestamp_types": ["word"]})
        await until(conn, "session.updated")
        await conn.response.create()
        events = await until(conn, "response.done")
    transcript = next(e.transcript for e in events if e.type == "response.audio_transcript.done")
    words = [e.text for e in events if e.type == "response.audio_timestamp.delta"]
    assert words == transcript.split() and len(words) > 3


async def test_a_cut_off_response_times_only_what_was_sent_and_truncation_keeps_those_words(
    emu: Emulator,
) -> None:
    emu.faults.stall_audio_after_chunks = 16
    emu.faults.stall_audio_seconds = 30.0
    async with sdk(emu) as conn:
        await conn.session.update(session={"output_audio_timestamp_types": ["word"]})
        await until(conn, "session.updated")
        await conn.response.create(response=spoken())
        events = await until(conn, "response.audio.delta")
        while sum(e.type == "response.audio.delta" for e in events) < 16:
            events += await until(conn, "response.audio.delta")
        await conn.response.cancel()
        events += await until(conn, "response.done")
        item_id = events[-1].response.output[0].id
        words = [e for e in events if e.type == "response.audio_timestamp.delta"]
        assert [w.text for w in words] == TEXT.split()[: len(words)]
        assert all(w.audio_offset_ms < 1600 for w in words), "only words whose audio was sent"
        assert "response.audio_timestamp.done" in types_of(events)
        cut = words[3].audio_offset_ms + words[3].audio_duration_ms + 1
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=cut)
        await until(conn, "conversation.item.truncated")
        await conn.conversation.item.retrieve(item_id=item_id)
        retrieved = (await until(conn, "conversation.item.retrieved"))[-1]
    assert retrieved.item.content[0].transcript == "Hi, this is Contoso."
