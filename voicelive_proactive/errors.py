"""The library's exception hierarchy.

Every error a user can trigger is a subclass of :class:`ProactiveError`, and its message says
what to do about it. Configuration errors also subclass :class:`ValueError`, so code that
already catches ``ValueError`` around construction keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AudioUnavailableError",
    "ConfigFileError",
    "ConfigIssue",
    "ConfigValidationError",
    "ConfigurationError",
    "ControlCharacterError",
    "EmptyGreetingError",
    "GreetingConfigError",
    "GreetingFailedError",
    "GreetingNotSerializableError",
    "GreetingRenderError",
    "GreetingTooLongError",
    "InsecureEndpointError",
    "MissingContextFieldError",
    "ProactiveError",
    "SessionClosedError",
    "TemplateError",
]


class ProactiveError(Exception):
    """Base class of every error raised by voicelive-proactive."""


class ConfigurationError(ProactiveError, ValueError):
    """A value passed to the library cannot work; the message says what to change."""


class GreetingConfigError(ConfigurationError):
    """A greeting strategy was built with text it can never send."""


class EmptyGreetingError(GreetingConfigError):
    """The text is empty or only whitespace, or a list of choices is empty."""


class GreetingTooLongError(GreetingConfigError):
    """The text is longer than the documented maximum."""


class ControlCharacterError(GreetingConfigError):
    """The text holds a control character that would reach the wire or the TTS voice."""


class TemplateError(GreetingConfigError):
    """A template is malformed or uses more than plain ``{field}`` placeholders."""


class MissingContextFieldError(GreetingConfigError, KeyError):
    """A template needs a context field the session was not given."""

    def __init__(self, message: str, *, fields: frozenset[str]) -> None:
        super().__init__(message)
        self.fields = fields

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class GreetingRenderError(ProactiveError):
    """A strategy failed to produce a greeting at render time."""


class GreetingFailedError(ProactiveError):
    """The greeting could not be delivered (raised only when the app opts in)."""


class AudioUnavailableError(ProactiveError, RuntimeError):
    """The default sound device cannot be used (PortAudio or the device is missing)."""


class InsecureEndpointError(ConfigurationError):
    """A plain ``ws://``/``http://`` endpoint was given for a host that is not loopback."""


class SessionClosedError(ProactiveError, RuntimeError):
    """The session was closed (``aclose()``/``async with``); build a new one per connection."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a greeting configuration: where it is and what to fix."""

    path: str
    """Where, as dotted keys and list indexes: ``greeting.chain[1].choices``."""
    message: str
    """What is wrong and what to do instead."""
    error: Exception | None = None
    """The strategy's own error when its checks rejected the value (e.g. EmptyGreetingError)."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _rebuild(
    cls: type[BaseException], args: tuple[object, ...], state: dict[str, object]
) -> object:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class _KeywordState:
    """Pickling and copying for errors whose __init__ takes keyword-only data."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), getattr(self, "args", ()), dict(self.__dict__)))


class ConfigFileError(_KeywordState, GreetingConfigError):
    """A greeting configuration file cannot be read or parsed (``line``/``column`` when known)."""

    def __init__(
        self, message: str, *, path: str, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


class ConfigValidationError(_KeywordState, GreetingConfigError):
    """A greeting configuration is well-formed but not valid; ``issues`` lists every problem."""

    def __init__(
        self, message: str, *, issues: tuple[ConfigIssue, ...], source: str | None = None
    ) -> None:
        super().__init__(message)
        self.issues = issues
        self.source = source


class GreetingNotSerializableError(GreetingConfigError):
    """A strategy holds code or state (a callable, a subclass, an rng) configuration cannot hold."""
