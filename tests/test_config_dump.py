"""dump_greeting: strategies built in code become configuration, and load back the same."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import voicelive_proactive as vp


def outcomes(strategy: vp.GreetingStrategy, context: vp.GreetingContext) -> list[object]:
    """What each alternative the session would try renders to (or which error it raises)."""
    results: list[object] = []
    for alternative in strategy.alternatives():
        try:
            result = alternative.render(context)
        except Exception as exc:
            results.append(type(exc))
        else:
            assert isinstance(result, vp.Greeting)
            results.append(result)
    return results


CONTEXTS = [
    vp.GreetingContext({}),
    vp.GreetingContext({"name": "Lisa"}),
    vp.GreetingContext({"name": "Lisa", "locale": "de-AT"}),
    vp.GreetingContext({"locale": "fr"}),
    vp.GreetingContext({"name": "Ana", "locale": "zh-Hant-TW"}),
]


def assert_equivalent(original: vp.GreetingStrategy, loaded: vp.GreetingStrategy) -> None:
    assert vp.dump_greeting(loaded) == vp.dump_greeting(original)
    assert loaded.required_fields() == original.required_fields()
    assert len(loaded.alternatives()) == len(original.alternatives())
    for context in CONTEXTS:
        assert outcomes(loaded, context) == outcomes(original, context)


def test_the_brief_example_dumps_to_the_file_form() -> None:
    strategy = vp.LocalizedGreeting(
        vp.TemplateGreeting("Hi {name}, welcome back!")
        | vp.RandomGreeting(["Hello!", "Hi there!"]),
        {"de-DE": vp.StaticGreeting("Hallo, willkommen zurück!")},
    )
    assert vp.dump_greeting(strategy) == {
        "greeting": {
            "type": "fallback",
            "chain": [
                {"type": "template", "text": "Hi {name}, welcome back!"},
                {"type": "random", "choices": ["Hello!", "Hi there!"]},
            ],
            "locales": {"de-DE": {"type": "static", "text": "Hallo, willkommen zurück!"}},
        }
    }


@pytest.mark.parametrize(
    "strategy",
    [
        vp.StaticGreeting("Hi!"),
        vp.TemplateGreeting("Hi {name}, {{literal}}!"),
        vp.LLMGreeting("Greet {name}.\nBe brief."),
        vp.RandomGreeting(["a", "b", "c"], seed=11),
        vp.StaticGreeting("Hi") | vp.LLMGreeting("Greet.") | "Hello",
        vp.FallbackGreeting(vp.StaticGreeting("only")),
        vp.LocalizedGreeting("Hi", {}),
        vp.LocalizedGreeting("Hi", {"de": "Hallo"}) | vp.StaticGreeting("Last"),
        vp.StaticGreeting("First")
        | vp.LocalizedGreeting("Hi" | vp.StaticGreeting("Yo"), {"de": "Hallo"}),
        # A localized default keeps its own table apart from the outer one.
        vp.LocalizedGreeting(vp.LocalizedGreeting("Hi", {"de-AT": "Servus"}), {"de": "Hallo"}),
    ],
    ids=repr,
)
def test_round_trip(strategy: vp.GreetingStrategy, tmp_path: Path) -> None:
    data = vp.dump_greeting(strategy)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    assert_equivalent(strategy, vp.load_greeting(path))


def test_unseeded_random_round_trips_its_lines() -> None:
    data = vp.dump_greeting(vp.RandomGreeting(["a", "b"]))
    assert data == {"greeting": {"type": "random", "choices": ["a", "b"]}}
    loaded = vp.load_greeting(data)
    assert isinstance(loaded, vp.RandomGreeting)
    assert loaded.choices == ("a", "b") and loaded.seed is None


def test_nested_localized_default_keeps_its_lookup_order() -> None:
    inner = vp.LocalizedGreeting("Hi", {"de-AT": "Servus"})
    outer = vp.LocalizedGreeting(inner, {"de": "Hallo"})
    loaded = vp.load_greeting(vp.dump_greeting(outer))
    context = vp.GreetingContext({"locale": "de-AT"})
    assert outer.render(context) == vp.Greeting.spoken("Hallo")  # the outer table wins
    assert outcomes(loaded, context) == [vp.Greeting.spoken("Hallo")]


def test_a_plain_string_is_a_static_greeting() -> None:
    assert vp.dump_greeting("Hi!") == {"greeting": {"type": "static", "text": "Hi!"}}


class Seasonal(vp.StaticGreeting):
    """A subclass may override render(): code, not configuration."""


def greet(context: vp.GreetingContext) -> vp.Greeting:
    return vp.Greeting.spoken("hi")


class Custom(vp.GreetingStrategy):
    def render(self, context: vp.GreetingContext) -> vp.Greeting:
        return vp.Greeting.spoken("hi")


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (vp.CallableGreeting(greet), "wraps a function"),
        (greet, "wraps a function"),
        (Custom(), "Custom is a custom strategy class"),
        (Seasonal("Hi"), "Seasonal is a custom strategy class"),
        (vp.StaticGreeting("Hi") | Custom(), "Custom is a custom strategy class"),
        (vp.LocalizedGreeting("Hi", {"de": Custom()}), "custom strategy class"),
        (vp.RandomGreeting(["a"], rng=random.Random(1)), "seed=... instead of rng="),
    ],
)
def test_code_and_private_state_cannot_be_dumped(strategy: Any, message: str) -> None:
    with pytest.raises(vp.GreetingNotSerializableError, match=message) as info:
        vp.dump_greeting(strategy)
    assert isinstance(info.value, ValueError)


def test_part_of_a_localized_chain_cannot_be_dumped_alone() -> None:
    localized = vp.LocalizedGreeting("Hi" | vp.StaticGreeting("Yo"), {"de": "Hallo"})
    first, second = localized.alternatives()
    with pytest.raises(vp.GreetingNotSerializableError, match="LocalizedGreeting"):
        vp.dump_greeting(first)
    with pytest.raises(vp.GreetingNotSerializableError, match="only some steps"):
        vp.dump_greeting(vp.FallbackGreeting(second))


def test_seed_and_rng_are_exclusive() -> None:
    with pytest.raises(vp.GreetingConfigError, match="not both"):
        vp.RandomGreeting(["a"], seed=1, rng=random.Random(1))
    with pytest.raises(vp.GreetingConfigError, match="int"):
        vp.RandomGreeting(["a"], seed="1")  # type: ignore[arg-type]


# ------------------------------------------------------------ property: any tree round-trips

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="{}"),
    min_size=1,
    max_size=30,
).filter(str.strip)
FIELD = st.sampled_from(["name", "city", "tier"])
TAGS = st.sampled_from(["de", "de-AT", "fr", "zh-Hant", "en-GB"])


def leaves() -> st.SearchStrategy[vp.GreetingStrategy]:
    template = st.builds(lambda a, f, b: vp.TemplateGreeting(f"{a}{{{f}}}{b}"), TEXT, FIELD, TEXT)
    llm = st.builds(lambda a, f: vp.LLMGreeting(f"{a} {{{f}}}"), TEXT, FIELD)
    rand = st.builds(
        lambda c, s: vp.RandomGreeting(c, seed=s),
        st.lists(TEXT, min_size=1, max_size=4),
        st.integers(),  # seeded, so both sides pick the same lines
    )
    return st.one_of(st.builds(vp.StaticGreeting, TEXT), template, llm, rand)


def trees() -> st.SearchStrategy[vp.GreetingStrategy]:
    def extend(
        children: st.SearchStrategy[vp.GreetingStrategy],
    ) -> st.SearchStrategy[vp.GreetingStrategy]:
        chain = st.lists(children, min_size=1, max_size=3).map(lambda c: vp.FallbackGreeting(*c))
        localized = st.builds(
            vp.LocalizedGreeting, children, st.dictionaries(TAGS, children, max_size=3)
        )
        return chain | localized

    return st.recursive(leaves(), extend, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(trees())
def test_any_built_in_tree_round_trips(strategy: vp.GreetingStrategy) -> None:
    data = vp.dump_greeting(strategy)
    assert json.loads(json.dumps(data)) == data  # plain data, ready for a file
    loaded = vp.load_greeting(data)
    assert_equivalent(strategy, loaded)
    assert vp.dump_greeting(loaded) == data
