"""A local Voice Live service that the real ``azure-ai-voicelive`` SDK can connect to.

``async with Emulator() as emu:`` then connect with ``endpoint=emu.endpoint`` and
``AzureKeyCredential(emu.api_key)``. See docs/emulator.md.
"""

from .connection import EmulatedConnection
from .faults import Faults
from .server import DEFAULT_MAX_FRAME_BYTES, DEFAULT_PACE, Emulator, EmulatorState
from .standalone import serve
from .voice import VoiceUnavailableError, synthesize

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_PACE",
    "EmulatedConnection",
    "Emulator",
    "EmulatorState",
    "Faults",
    "VoiceUnavailableError",
    "serve",
    "synthesize",
]
