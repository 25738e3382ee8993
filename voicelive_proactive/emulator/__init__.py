"""A local Voice Live service that the real ``azure-ai-voicelive`` SDK can connect to.

``async with Emulator() as emu:`` then connect with ``endpoint=emu.endpoint`` and
``AzureKeyCredential(emu.api_key)``. See docs/emulator.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Loaded on first use, so that a light submodule (``options``, which the command-line parser
# reads) does not pull in aiohttp and numpy.
_LAZY = {
    "DEFAULT_MAX_FRAME_BYTES": ".server",
    "DEFAULT_PACE": ".server",
    "EmulatedConnection": ".connection",
    "Emulator": ".server",
    "EmulatorState": ".server",
    "Faults": ".faults",
    "VoiceUnavailableError": ".voice",
    "serve": ".standalone",
    "synthesize": ".voice",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
