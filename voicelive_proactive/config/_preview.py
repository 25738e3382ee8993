"""What a strategy would say for a context, alternative by alternative (``check`` prints it)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from voicelive_proactive.greetings import (
    FallbackGreeting,
    GreetingContext,
    GreetingStrategy,
    LocalizedGreeting,
    RandomGreeting,
    _LocalizedAlternative,
    render_greeting,
)

__all__ = ["Line", "context_fields", "locale_tags", "matched_tag", "preview", "walk"]


@dataclass(frozen=True)
class Line:
    """One alternative of the chain, as it would greet."""

    kind: str
    mode: str
    text: str | None = None
    choices: tuple[str, ...] | None = None
    error: str | None = None


def walk(strategy: GreetingStrategy) -> Iterator[GreetingStrategy]:
    """Every strategy in the tree, each once, outermost first, in the order written."""
    seen: set[int] = set()
    todo = deque([strategy])
    while todo:
        current = todo.popleft()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, _LocalizedAlternative):
            todo.append(current.parent)
        elif isinstance(current, LocalizedGreeting):
            todo.extend([current.default, *current.locales.values()])
        elif isinstance(current, FallbackGreeting):
            todo.extend(current.alternatives())


def context_fields(strategy: GreetingStrategy) -> frozenset[str]:
    """Every context field any alternative of any locale uses."""
    fields: set[str] = set()
    for node in walk(strategy):
        if not isinstance(node, (LocalizedGreeting, FallbackGreeting, _LocalizedAlternative)):
            fields |= node.required_fields()
    return frozenset(fields)


def locale_tags(strategy: GreetingStrategy) -> list[str]:
    """Every locale tag in the tree, in the order written (the outermost table first)."""
    tags: dict[str, None] = {}
    for node in walk(strategy):
        if isinstance(node, LocalizedGreeting):
            tags.update(dict.fromkeys(node.locales))
    return list(tags)


def matched_tag(strategy: GreetingStrategy, locale: str) -> str | None:
    """The entry of the outermost locale table that ``locale`` picks (None: the default)."""
    for node in walk(strategy):
        if isinstance(node, LocalizedGreeting):
            chosen = node.select(locale)
            return next((tag for tag, s in node.locales.items() if s is chosen), None)
    return None


def _concrete(
    strategy: GreetingStrategy | None, context: GreetingContext
) -> GreetingStrategy | None:
    """The leaf a (possibly localized) alternative stands for in ``context``."""
    while strategy is not None:
        if isinstance(strategy, _LocalizedAlternative):
            strategy = strategy.resolve(context)
        elif isinstance(strategy, LocalizedGreeting):
            strategy = strategy.select(context.get("locale"))
        else:
            alternatives = strategy.alternatives()
            if len(alternatives) != 1 or alternatives[0] is strategy:
                return strategy
            strategy = alternatives[0]
    return None


def _kind(strategy: GreetingStrategy) -> str:
    name = type(strategy).__name__
    return name.removesuffix("Greeting").lower() if name.endswith("Greeting") else name


def preview(strategy: GreetingStrategy, context: GreetingContext) -> list[Line]:
    """Each alternative the session would try for ``context``, rendered."""
    lines = []
    for alternative in strategy.alternatives():
        leaf = _concrete(alternative, context)
        if leaf is None:
            continue  # this locale's chain is shorter than the default's
        if type(leaf) is RandomGreeting:
            lines.append(Line("random", "spoken", choices=leaf.choices))
            continue
        try:
            greeting = asyncio.run(render_greeting(leaf, context))
        except Exception as exc:
            lines.append(Line(_kind(leaf), "-", error=str(exc)))
        else:
            lines.append(Line(_kind(leaf), greeting.mode.value, text=greeting.text))
    return lines
