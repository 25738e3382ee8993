"""Streaming conversion between the negotiated formats and the PCM16 a device or file uses.

Backends play and record PCM16 at one fixed rate (a sound card stream, a WAV file) while the
service may speak g711 or PCM16 at 8 or 16 kHz. :class:`OutputConverter` turns queued bytes
into the backend's PCM16 chunk by chunk, and says how many queued bytes each output chunk
stands for, so that played and skipped counters stay in the queued format.
:class:`InputConverter` goes the other way for the microphone.
"""

from __future__ import annotations

from voicelive_proactive.audio.formats import (
    AudioFormat,
    Resampler,
    decode_to_pcm16,
    encode_from_pcm16,
)
from voicelive_proactive.errors import ConfigurationError

__all__ = ["InputConverter", "OutputConverter", "Transcoder", "check_formats"]


def check_formats(output: object, input: object) -> tuple[AudioFormat, AudioFormat]:
    """Check the arguments of ``configure_formats``; return them typed."""
    return _check_format("output", output), _check_format("input", input)


def _check_format(name: str, value: object) -> AudioFormat:
    if not isinstance(value, AudioFormat):
        raise ConfigurationError(
            f"{name} must be an AudioFormat (e.g. AudioFormat.from_output('g711_ulaw')), "
            f"not {value!r}"
        )
    return value


class OutputConverter:
    """Turns audio queued in ``source`` into PCM16 at ``rate``, keeping state across chunks.

    :meth:`convert` returns the PCM16 ready so far and the *credit*: how many source bytes
    that PCM16 accounts for. The resampler holds back its filter delay, so credit lags the
    input until :meth:`flush`, which releases the rest; :meth:`reset` drops it (barge-in).
    The credits of a stream add up exactly to the source bytes put in.
    """

    def __init__(self, source: AudioFormat, rate: int) -> None:
        self.source = source
        self.rate = rate
        self._resampler = Resampler(source.sample_rate, rate)
        self._carry = b""  # half a PCM16 sample, waiting for its other half
        self._in_samples = 0  # source samples given to the resampler since its last flush
        self._out_samples = 0  # output samples it has produced since then
        self._credited = 0  # source samples credited since then

    @property
    def passthrough(self) -> bool:
        """True when ``source`` already is PCM16 at ``rate``: bytes pass unchanged."""
        return self.source.encoding == "pcm16" and self._resampler.passthrough

    @property
    def ratio(self) -> float:
        """Output bytes per source byte."""
        return 2 * self.rate / self.source.bytes_per_second

    @property
    def held_bytes(self) -> int:
        """Source bytes put in and not credited yet (the filter delay and a half sample)."""
        size = self.source.bytes_per_sample
        return (self._in_samples - self._credited) * size + len(self._carry)

    def convert(self, data: bytes | bytearray | memoryview) -> tuple[bytes, int]:
        """Convert the next chunk; return ``(pcm16, source bytes credited)``."""
        if self.source.encoding == "pcm16" and (self._carry or len(data) & 1):
            joined = self._carry + bytes(data)  # rare: keep samples whole
            cut = len(joined) & ~1
            self._carry, data = joined[cut:], joined[:cut]
        pcm = decode_to_pcm16(data, self.source)
        samples = len(pcm) // 2
        if self._resampler.passthrough:
            return pcm, samples * self.source.bytes_per_sample
        out = self._resampler.process(pcm)
        self._in_samples += samples
        self._out_samples += len(out) // 2
        return out, self._credit(final=False)

    def flush(self) -> tuple[bytes, int]:
        """Release what the filter holds; return ``(pcm16, remaining credit)``.

        Use it when the audio queued so far is complete (the end of a response); a half
        sample stays carried, since it cannot be played.
        """
        if self._resampler.passthrough or self._in_samples == 0:
            return b"", 0
        out = self._resampler.flush()
        credit = self._credit(final=True)
        self._in_samples = self._out_samples = self._credited = 0
        return out, credit

    def reset(self) -> int:
        """Drop what is held (barge-in); return how many source bytes that was."""
        dropped = self.held_bytes
        self._resampler.reset()
        self._carry = b""
        self._in_samples = self._out_samples = self._credited = 0
        return dropped

    def _credit(self, *, final: bool) -> int:
        if final:
            done = self._in_samples
        else:  # the source samples the output so far stands for
            done = min(self._in_samples, self._out_samples * self.source.sample_rate // self.rate)
        credit, self._credited = done - self._credited, done
        return credit * self.source.bytes_per_sample


class InputConverter:
    """Turns PCM16 captured at ``rate`` into ``target``, keeping state across blocks."""

    def __init__(self, rate: int, target: AudioFormat) -> None:
        self.rate = rate
        self.target = target
        self._resampler = Resampler(rate, target.sample_rate)

    @property
    def passthrough(self) -> bool:
        """True when ``target`` is PCM16 at ``rate``: blocks pass unchanged."""
        return self.target.encoding == "pcm16" and self._resampler.passthrough

    def convert(self, pcm: bytes | bytearray | memoryview) -> bytes:
        """The next block in ``target`` (may be empty while the filter fills)."""
        return encode_from_pcm16(self._resampler.process(pcm), self.target)

    def flush(self) -> bytes:
        """The end of the stream: what the filter still holds, in ``target``."""
        return encode_from_pcm16(self._resampler.flush(), self.target)


class Transcoder:
    """Converts a stream from one format to another (g711 and PCM16 at any rate), chunk by
    chunk; equal formats pass bytes through untouched. For bridges such as telephony."""

    def __init__(self, source: AudioFormat, target: AudioFormat) -> None:
        self.source = source
        self.target = target
        self._decoder = OutputConverter(source, target.sample_rate)

    @property
    def passthrough(self) -> bool:
        """True when the formats are equal: bytes go through as they are."""
        return self.source == self.target

    def convert(self, data: bytes | bytearray | memoryview) -> bytes:
        """The next chunk in ``target`` (may be short while the resampler fills)."""
        if self.passthrough:
            return bytes(data)
        pcm, _ = self._decoder.convert(data)
        return encode_from_pcm16(pcm, self.target)

    def flush(self) -> bytes:
        """The end of the stream so far: what the resampler still holds, in ``target``."""
        pcm, _ = self._decoder.flush()
        return encode_from_pcm16(pcm, self.target)

    def reset(self) -> None:
        """Forget what is held (barge-in)."""
        self._decoder.reset()
