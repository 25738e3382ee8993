"""SounddeviceAudioIO without PortAudio: importing works, constructing says what to do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voicelive_proactive.audio import SounddeviceAudioIO
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError

ALTERNATIVES = ("audio=None", "NullAudioIO()", "WavAudioIO(")


def test_missing_portaudio_library_names_libportaudio2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What sounddevice itself raises when libportaudio.so.2 cannot be found.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AudioUnavailableError) as info:
        SounddeviceAudioIO()
    message = str(info.value)
    assert "apt-get install libportaudio2" in message
    assert "PortAudio library not found" in message
    assert all(alt in message for alt in ALTERNATIVES)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value.__cause__, OSError)


def test_missing_sounddevice_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # makes `import sounddevice` fail
    with pytest.raises(AudioUnavailableError) as info:
        SounddeviceAudioIO()
    message = str(info.value)
    assert "pip install sounddevice" in message and "libportaudio2" in message
    assert all(alt in message for alt in ALTERNATIVES)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"device": 1.5}, "device must be"),
        ({"device": True}, "device must be"),
        ({"capture_device": b"hw:0"}, "capture_device must be"),
        ({"block_ms": 0}, "block_ms"),
        ({"block_ms": 20.0}, "block_ms"),
        ({"playback_block_ms": 1}, "playback_block_ms must be an int from 2 to 200"),
        ({"playback_block_ms": 201}, "playback_block_ms"),
        ({"playback_block_ms": True}, "playback_block_ms"),
        ({"latency": -0.1}, "latency"),
        ({"latency": "lowest"}, "latency"),
    ],
)
def test_bad_arguments_fail_before_touching_portaudio(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], match: str
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # would raise AudioUnavailableError
    with pytest.raises(ConfigurationError, match=match):
        SounddeviceAudioIO(**kwargs)  # type: ignore[arg-type]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_importing_the_library_never_imports_sounddevice() -> None:
    proc = run_python(
        """
        import sys
        import voicelive_proactive, voicelive_proactive.audio, voicelive_proactive.testing
        from voicelive_proactive.audio import SounddeviceAudioIO
        assert "sounddevice" not in sys.modules, "imported eagerly"
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_library_works_without_sounddevice_at_all() -> None:
    proc = run_python(
        """
        import sys
        sys.modules["sounddevice"] = None  # as if neither it nor PortAudio were installed
        import voicelive_proactive as vp
        from voicelive_proactive.audio import AudioIO, NullAudioIO, SounddeviceAudioIO
        null = NullAudioIO()
        null.queue_audio(b"\\0\\0")
        assert isinstance(null, AudioIO) and null.played_bytes == 2
        try:
            SounddeviceAudioIO()
        except vp.AudioUnavailableError as exc:
            print("unavailable:", exc)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("unavailable:") and "libportaudio2" in proc.stdout
