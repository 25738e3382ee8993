"""The greeting configuration as pydantic models, each building its real strategy.

Validation *is* construction: every node builds its strategy (``StaticGreeting``,
``FallbackGreeting``...) in an after-validator, so a file and code reject exactly the same
inputs, by the strategies' own checks. Their errors are re-raised as :class:`RuleError`,
naming the key they are about, and turned into paths by ``_issues``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from voicelive_proactive.errors import GreetingConfigError
from voicelive_proactive.greetings import (
    LOCALE_TAG_PATTERN,
    MAX_GREETING_CHARS,
    FallbackGreeting,
    GreetingStrategy,
    LLMGreeting,
    LocalizedGreeting,
    RandomGreeting,
    StaticGreeting,
    TemplateGreeting,
    check_locale_tag,
)

__all__ = ["KINDS", "GreetingDocument", "RuleError", "StrategyConfig"]


class RuleError(ValueError):
    """A strategy rejected a value; ``key`` is the configuration key it is about (None: the
    error is already located at that key)."""

    def __init__(self, key: str | None, error: GreetingConfigError) -> None:
        super().__init__(str(error))
        self.key = key
        self.error = error


# Schema-only hints for editors (never used to validate: the strategies do that).
_TEXT_HINT: dict[str, Any] = {"minLength": 1, "maxLength": MAX_GREETING_CHARS}


def _check_tag(tag: str) -> str:
    try:
        return check_locale_tag(tag)
    except GreetingConfigError as exc:
        raise RuleError(None, exc) from exc


# A key of a locales table, checked on its own: a bad tag is reported with every other problem.
_LocaleTag = Annotated[StrictStr, AfterValidator(_check_tag)]


def _locales() -> Any:
    # Declared last in each kind, so errors and the schema read in the order files are written.
    return Field(
        default_factory=dict,
        description=(
            "Per-locale replacements, picked by context['locale']: the exact tag, then "
            "shorter prefixes (de-AT, then de), then this strategy."
        ),
        json_schema_extra={"propertyNames": {"pattern": f"^{LOCALE_TAG_PATTERN}$"}},
    )


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    if TYPE_CHECKING:  # each kind declares it last (see _locales)
        locales: dict[_LocaleTag, StrategyConfig]
    # The key the strategy's own checks are about, for error paths.
    checked_key: ClassVar[str]

    _strategy: GreetingStrategy | None = PrivateAttr(default=None)

    def _build(self) -> GreetingStrategy:
        raise NotImplementedError

    @classmethod
    def _check(cls, value: Any) -> object:
        """Build what the strategy can from ``checked_key`` alone, running its own checks."""
        raise NotImplementedError

    @field_validator("text", "choices", "instructions", "chain", check_fields=False)
    @classmethod
    def _check_own_key(cls, value: Any, info: ValidationInfo) -> Any:
        # The strategy's checks on its own key run as soon as that key is valid. The node's
        # after-validator runs only once *every* key is valid, so a file with a bad template
        # and a misspelled key elsewhere would otherwise report only the misspelling.
        if info.field_name == cls.checked_key:
            try:
                cls._check(value)
            except GreetingConfigError as exc:
                raise RuleError(None, exc) from exc
        return value

    @model_validator(mode="after")
    def _build_strategy(self) -> _Node:
        try:
            strategy = self._build()
        except GreetingConfigError as exc:
            raise RuleError(self.checked_key, exc) from exc
        if "locales" in self.model_fields_set:
            table = {tag: node.strategy for tag, node in self.locales.items()}
            try:
                strategy = LocalizedGreeting(strategy, table)
            except GreetingConfigError as exc:
                raise RuleError("locales", exc) from exc
        self._strategy = strategy
        return self

    @property
    def strategy(self) -> GreetingStrategy:
        """The strategy this node describes (built during validation)."""
        assert self._strategy is not None, "only validated nodes have a strategy"
        return self._strategy


class StaticConfig(_Node):
    """Always speaks the same line, word for word."""

    model_config = ConfigDict(title="static greeting")
    checked_key = "text"
    type: Literal["static"]
    text: StrictStr = Field(description="The line to speak.", json_schema_extra=_TEXT_HINT)

    locales: dict[_LocaleTag, StrategyConfig] = _locales()

    def _build(self) -> GreetingStrategy:
        return StaticGreeting(self.text)

    @classmethod
    def _check(cls, value: Any) -> object:
        return StaticGreeting(value)


class TemplateConfig(_Node):
    """Speaks a line filled from the context: "Hi {name}!"."""

    model_config = ConfigDict(title="template greeting")
    checked_key = "text"
    type: Literal["template"]
    text: StrictStr = Field(
        description="The line, with plain {field} placeholders filled from the context; "
        "write literal braces as {{ and }}.",
        json_schema_extra=_TEXT_HINT,
    )

    locales: dict[_LocaleTag, StrategyConfig] = _locales()

    def _build(self) -> GreetingStrategy:
        return TemplateGreeting(self.text)

    @classmethod
    def _check(cls, value: Any) -> object:
        return TemplateGreeting(value)


class RandomConfig(_Node):
    """Speaks one of several lines, picked at random."""

    model_config = ConfigDict(title="random greeting")
    checked_key = "choices"
    type: Literal["random"]
    choices: list[StrictStr] = Field(
        description="The lines to pick from.",
        json_schema_extra={"minItems": 1, "items": {"type": "string", **_TEXT_HINT}},
    )
    seed: StrictInt | None = Field(
        default=None, description="Makes the picks repeatable (mostly for tests)."
    )

    locales: dict[_LocaleTag, StrategyConfig] = _locales()

    def _build(self) -> GreetingStrategy:
        return RandomGreeting(self.choices, seed=self.seed)

    @classmethod
    def _check(cls, value: Any) -> object:
        return RandomGreeting(value)


class LLMConfig(_Node):
    """Asks the model to write the greeting."""

    model_config = ConfigDict(title="llm greeting")
    checked_key = "instructions"
    type: Literal["llm"]
    instructions: StrictStr = Field(
        description="What the model should say; {field} placeholders get quoted context values.",
        json_schema_extra=_TEXT_HINT,
    )

    locales: dict[_LocaleTag, StrategyConfig] = _locales()

    def _build(self) -> GreetingStrategy:
        return LLMGreeting(self.instructions)

    @classmethod
    def _check(cls, value: Any) -> object:
        return LLMGreeting(value)


class FallbackConfig(_Node):
    """Tries strategies in order; the first that renders and is accepted wins."""

    model_config = ConfigDict(title="fallback chain")
    checked_key = "chain"
    type: Literal["fallback"]
    chain: list[StrategyConfig] = Field(
        description="The strategies, first choice first.", json_schema_extra={"minItems": 1}
    )

    locales: dict[_LocaleTag, StrategyConfig] = _locales()

    def _build(self) -> GreetingStrategy:
        return FallbackGreeting(*(node.strategy for node in self.chain))

    @classmethod
    def _check(cls, value: Any) -> object:
        return FallbackGreeting(*(node.strategy for node in value))


StrategyConfig = Annotated[
    StaticConfig | TemplateConfig | RandomConfig | LLMConfig | FallbackConfig,
    Field(discriminator="type"),
]

KINDS: dict[str, type[_Node]] = {  # every strategy kind, by its "type" tag
    "static": StaticConfig,
    "template": TemplateConfig,
    "random": RandomConfig,
    "llm": LLMConfig,
    "fallback": FallbackConfig,
}


class GreetingDocument(BaseModel):
    """A greeting configuration file: one ``greeting`` table."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, title="voicelive-proactive greeting"
    )

    schema_: StrictStr | None = Field(
        default=None, alias="$schema", description="The JSON Schema this file follows."
    )
    greeting: StrategyConfig = Field(description="What the agent says first.")


_MODELS: tuple[type[BaseModel], ...] = (*KINDS.values(), GreetingDocument)
for _model in _MODELS:
    _model.model_rebuild()  # resolve the recursive StrategyConfig references
