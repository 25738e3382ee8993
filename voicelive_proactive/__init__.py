"""voicelive-proactive: make an Azure AI Voice Live agent speak first, exactly once.

The public API lives here; submodules are implementation detail unless documented.
"""

import logging as _logging

from ._version import __version__
from .audio import AudioFormat, AudioIO, NullAudioIO, SounddeviceAudioIO, WavAudioIO
from .config import dump_greeting, load_greeting
from .endpoint import check_endpoint
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
from .redis_guard import (  # imports redis only when a guard is built
    MAX_GUARD_KEY_CHARS,
    MAX_GUARD_TTL,
    GuardKeyError,
    GuardUnavailableError,
    RedisOnceGuard,
)
from .session import DEFAULT, DEFAULT_RENDER_TIMEOUT, ProactiveSession
from .speech import Speech, SpeechKind
from .words import WordTiming

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

# A library logs; the application decides where logs go (and silence is the default).
_logging.getLogger("voicelive_proactive").addHandler(_logging.NullHandler())
