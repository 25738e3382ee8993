"""A real PortAudio output device with no sound card: ALSA's ``file`` PCM.

Write :func:`asoundrc` to ``$HOME/.asoundrc`` of a process *before* it imports
``sounddevice`` (PortAudio reads the ALSA configuration once, at initialisation). That
process's default device then plays into ``playback_file`` and captures silence-like data
from ALSA's ``null`` PCM, so ``SounddeviceAudioIO`` can be tested for real, sample for sample.

The ``file`` PCM does not run in real time: it accepts audio as fast as it is produced. Use
``/dev/null`` when only the code path matters, or a FIFO read at 48,000 bytes a second when
timing matters (our own device tests and benchmarks do this).
"""

from __future__ import annotations

import os

__all__ = ["asoundrc"]


def asoundrc(playback_file: str | os.PathLike[str]) -> str:
    """The text of an ``.asoundrc`` whose default device plays into ``playback_file``."""
    path = os.fspath(playback_file)
    if '"' in path or "\n" in path:
        raise ValueError(f"{path!r} cannot be quoted in an ALSA configuration file.")
    return f"""\
pcm.!default {{
    type asym
    playback.pcm {{
        type file
        slave.pcm "null"
        file "{path}"
        format "raw"
    }}
    capture.pcm {{
        type null
    }}
}}
"""
