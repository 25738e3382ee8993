"""voicelive-proactive: make an Azure AI Voice Live agent speak first, exactly once.

The public API lives here; submodules are implementation detail unless documented.
"""

from __future__ import annotations

import logging as _logging
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .audio import AudioFormat, AudioIO
from .errors import (
    AudioUnavailableError,
    ConfigFileError,
    ConfigIssue,
    ConfigurationError,
    ConfigValidationError,
    ControlCharacterError,
    EmptyGreetingError,
    GreetingConfigError,
    GreetingFailedError,
    GreetingNotSerializableError,
    GreetingRenderError,
    GreetingTooLongError,
    InsecureEndpointError,
    MissingContextFieldError,
    ProactiveError,
    SessionClosedError,
    TemplateError,
)
from .events import (
    FunctionCallRequested,
    NudgeFired,
    NudgesExhausted,
    ProactiveEvent,
    SpeechFailed,
    SpeechFinished,
    SpeechInterrupted,
    SpeechQueued,
    SpeechSkipped,
    SpeechStarted,
)
from .greetings import (
    MAX_CONTEXT_VALUE_CHARS,
    MAX_GREETING_CHARS,
    CallableGreeting,
    FallbackGreeting,
    Greeting,
    GreetingContext,
    GreetingMode,
    GreetingStrategy,
    LLMGreeting,
    LocalizedGreeting,
    RandomGreeting,
    StaticGreeting,
    StrategyLike,
    TemplateGreeting,
)
from .guard import GuardLike, GuardResult, OnceGuard
from .health import SessionHealth
from .hello import AfterHello
from .interruptions import InterruptionPolicy
from .nudge import IdleNudge
from .outcome import FunctionCall, GreetingMetrics, GreetingOutcome, GreetingStatus
from .prerecorded import PrerecordedGreeting
from .session import DEFAULT, DEFAULT_RENDER_TIMEOUT, ProactiveSession
from .speech import Speech, SpeechKind
from .words import WordTiming

if TYPE_CHECKING:
    from .audio.device import SounddeviceAudioIO
    from .audio.files import NullAudioIO, WavAudioIO
    from .config import dump_greeting, load_greeting
    from .endpoint import check_endpoint
    from .redis_guard import (
        MAX_GUARD_KEY_CHARS,
        MAX_GUARD_TTL,
        GuardKeyError,
        GuardUnavailableError,
        RedisOnceGuard,
    )

__all__ = [
    "DEFAULT",
    "DEFAULT_RENDER_TIMEOUT",
    "MAX_CONTEXT_VALUE_CHARS",
    "MAX_GREETING_CHARS",
    "MAX_GUARD_KEY_CHARS",
    "MAX_GUARD_TTL",
    "AfterHello",
    "AudioFormat",
    "AudioIO",
    "AudioUnavailableError",
    "CallableGreeting",
    "ConfigFileError",
    "ConfigIssue",
    "ConfigValidationError",
    "ConfigurationError",
    "ControlCharacterError",
    "EmptyGreetingError",
    "FallbackGreeting",
    "FunctionCall",
    "FunctionCallRequested",
    "Greeting",
    "GreetingConfigError",
    "GreetingContext",
    "GreetingFailedError",
    "GreetingMetrics",
    "GreetingMode",
    "GreetingNotSerializableError",
    "GreetingOutcome",
    "GreetingRenderError",
    "GreetingStatus",
    "GreetingStrategy",
    "GreetingTooLongError",
    "GuardKeyError",
    "GuardLike",
    "GuardResult",
    "GuardUnavailableError",
    "IdleNudge",
    "InsecureEndpointError",
    "InterruptionPolicy",
    "LLMGreeting",
    "LocalizedGreeting",
    "MissingContextFieldError",
    "NudgeFired",
    "NudgesExhausted",
    "NullAudioIO",
    "OnceGuard",
    "PrerecordedGreeting",
    "ProactiveError",
    "ProactiveEvent",
    "ProactiveSession",
    "RandomGreeting",
    "RedisOnceGuard",
    "SessionClosedError",
    "SessionHealth",
    "SounddeviceAudioIO",
    "Speech",
    "SpeechFailed",
    "SpeechFinished",
    "SpeechInterrupted",
    "SpeechKind",
    "SpeechQueued",
    "SpeechSkipped",
    "SpeechStarted",
    "StaticGreeting",
    "StrategyLike",
    "TemplateError",
    "TemplateGreeting",
    "WavAudioIO",
    "WordTiming",
    "__version__",
    "check_endpoint",
    "dump_greeting",
    "load_greeting",
]

# Loaded on first use: the sound device and file backends pull in numpy (audio conversion),
# configuration files pull in pydantic, and the Redis guard its own machinery (redis itself
# only when a guard is built). `import voicelive_proactive` needs none of them.
_LAZY = {
    "MAX_GUARD_KEY_CHARS": ".redis_guard",
    "MAX_GUARD_TTL": ".redis_guard",
    "GuardKeyError": ".redis_guard",
    "GuardUnavailableError": ".redis_guard",
    "NullAudioIO": ".audio.files",
    "RedisOnceGuard": ".redis_guard",
    "SounddeviceAudioIO": ".audio.device",
    "WavAudioIO": ".audio.files",
    "check_endpoint": ".endpoint",
    "dump_greeting": ".config",
    "load_greeting": ".config",
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


# A library logs; the application decides where logs go (and silence is the default).
_logging.getLogger("voicelive_proactive").addHandler(_logging.NullHandler())
