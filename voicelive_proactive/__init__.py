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
    TemplateError,
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
from .outcome import GreetingMetrics, GreetingOutcome, GreetingStatus
from .session import DEFAULT, ProactiveSession

__all__ = [
    "DEFAULT",
    "MAX_CONTEXT_VALUE_CHARS",
    "MAX_GREETING_CHARS",
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
    "GuardLike",
    "GuardResult",
    "InsecureEndpointError",
    "LLMGreeting",
    "LocalizedGreeting",
    "MissingContextFieldError",
    "NullAudioIO",
    "OnceGuard",
    "ProactiveError",
    "ProactiveSession",
    "RandomGreeting",
    "SounddeviceAudioIO",
    "StaticGreeting",
    "StrategyLike",
    "TemplateError",
    "TemplateGreeting",
    "WavAudioIO",
    "__version__",
    "check_endpoint",
    "dump_greeting",
    "load_greeting",
]

# A library logs; the application decides where logs go (and silence is the default).
_logging.getLogger("voicelive_proactive").addHandler(_logging.NullHandler())
