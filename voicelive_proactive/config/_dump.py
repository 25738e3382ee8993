"""Write strategies built in code back to the configuration form ``load_greeting`` reads."""

from __future__ import annotations

from typing import Any

from voicelive_proactive.errors import GreetingNotSerializableError
from voicelive_proactive.greetings import (
    CallableGreeting,
    FallbackGreeting,
    GreetingStrategy,
    LLMGreeting,
    LocalizedGreeting,
    RandomGreeting,
    StaticGreeting,
    TemplateGreeting,
    _LocalizedAlternative,
)

__all__ = ["strategy_node"]


def strategy_node(strategy: GreetingStrategy) -> dict[str, Any]:
    """The configuration table for ``strategy`` (the value of ``greeting``)."""
    kind = type(strategy)
    # Exact types only: a subclass may override render(), and code cannot be written down.
    if kind is StaticGreeting:
        assert isinstance(strategy, StaticGreeting)
        return {"type": "static", "text": strategy.text}
    if kind is TemplateGreeting:
        assert isinstance(strategy, TemplateGreeting)
        return {"type": "template", "text": strategy.template}
    if kind is LLMGreeting:
        assert isinstance(strategy, LLMGreeting)
        return {"type": "llm", "instructions": strategy.instructions}
    if kind is RandomGreeting:
        assert isinstance(strategy, RandomGreeting)
        return _random_node(strategy)
    if kind is FallbackGreeting:
        return {"type": "fallback", "chain": _chain(strategy.alternatives())}
    if kind is LocalizedGreeting:
        assert isinstance(strategy, LocalizedGreeting)
        return _localized_node(strategy)
    if kind is CallableGreeting:
        raise GreetingNotSerializableError(
            f"{strategy!r} wraps a function, and code cannot be written to configuration; "
            "use a built-in strategy there, or keep this one in code."
        )
    if isinstance(strategy, _LocalizedAlternative):
        raise GreetingNotSerializableError(
            f"{strategy!r} is one step of a LocalizedGreeting; dump the LocalizedGreeting."
        )
    raise GreetingNotSerializableError(
        f"{kind.__qualname__} is a custom strategy class; its behaviour is code, which "
        "configuration cannot hold. Dump only the built-in strategies (static, template, "
        "random, llm, fallback, LocalizedGreeting), or keep this one in code."
    )


def _random_node(strategy: RandomGreeting) -> dict[str, Any]:
    if strategy._own_rng:
        raise GreetingNotSerializableError(
            f"{strategy!r} uses a random.Random of your own, whose state cannot be written "
            "to configuration; build it with seed=... instead of rng=... to dump it."
        )
    node: dict[str, Any] = {"type": "random", "choices": list(strategy.choices)}
    if strategy.seed is not None:
        node["seed"] = strategy.seed
    return node


def _localized_node(strategy: LocalizedGreeting) -> dict[str, Any]:
    node = strategy_node(strategy.default)
    if "locales" in node:
        # The default is localized itself: a one-entry chain behaves the same and keeps the
        # two locale tables apart (merging them would change which one wins).
        node = {"type": "fallback", "chain": [node]}
    node["locales"] = {tag: strategy_node(s) for tag, s in strategy.locales.items()}
    return node


def _chain(alternatives: tuple[GreetingStrategy, ...]) -> list[dict[str, Any]]:
    """A flattened chain, with each LocalizedGreeting's steps folded back into it."""
    chain: list[dict[str, Any]] = []
    index = 0
    while index < len(alternatives):
        current = alternatives[index]
        if isinstance(current, _LocalizedAlternative):
            parent = current.parent
            steps = parent.alternatives()
            if alternatives[index : index + len(steps)] != steps:
                raise GreetingNotSerializableError(
                    f"The chain holds only some steps of {parent!r}; dump whole strategies."
                )
            chain.append(strategy_node(parent))
            index += len(steps)
        else:
            chain.append(strategy_node(current))
            index += 1
    return chain
