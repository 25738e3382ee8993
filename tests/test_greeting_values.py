"""What a greeting does with the values it is given: blank context values, functions that
return a str, classes where an instance belongs, synchronous fallback chains, huge locales."""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive.greetings import check_fields, missing_fields
from voicelive_proactive.testing import FakeConnection

from .conftest import deliver

UPDATED = {"type": "session.updated", "session": {"id": "sess_1"}}
BLANK = [None, "", "   ", "\n\t", "\x00\u2028"]


def ctx(**values: object) -> vp.GreetingContext:
    return vp.GreetingContext(values, session_id="s1")


def spoken_on_the_wire(fake: FakeConnection) -> str:
    [create] = [e for e in fake.sent if e["type"] == "response.create"]
    text: str = create["response"]["pre_generated_assistant_message"]["content"][0]["text"]
    return text


class TestBlankValuesAreMissing:
    @pytest.mark.parametrize("value", BLANK)
    def test_the_fallback_speaks_instead(self, value: object) -> None:
        chain = vp.TemplateGreeting("Hi {name}, welcome back!") | vp.StaticGreeting("Hi, welcome!")
        greeting = chain.render(ctx(name=value))
        assert isinstance(greeting, vp.Greeting)
        assert greeting.text == "Hi, welcome!"

    @pytest.mark.parametrize("value", BLANK)
    def test_a_template_alone_fails_saying_why(self, value: object) -> None:
        with pytest.raises(vp.MissingContextFieldError, match="None, empty or only whitespace"):
            vp.TemplateGreeting("Hi {name}!").render(ctx(name=value))

    @pytest.mark.parametrize("value", BLANK)
    def test_llm_instructions_never_quote_a_blank_value(self, value: object) -> None:
        with pytest.raises(vp.MissingContextFieldError) as info:
            vp.LLMGreeting("Greet {name} warmly.").render(ctx(name=value))
        assert info.value.fields == {"name"}
        chain = vp.LLMGreeting("Greet {name} warmly.") | vp.LLMGreeting("Greet the caller.")
        assert chain.render(ctx(name=value)) == vp.Greeting.instructed("Greet the caller.")

    def test_a_localized_chain_falls_back_within_its_locale(self) -> None:
        strategy = vp.LocalizedGreeting(
            vp.TemplateGreeting("Hi {name}!") | "Hello!",
            {"de": vp.TemplateGreeting("Hallo {name}!") | "Hallo!"},
        )
        assert asyncio.run(_render(strategy, ctx(name=" ", locale="de-AT"))).text == "Hallo!"
        assert asyncio.run(_render(strategy, ctx(name="Ana", locale="de"))).text == "Hallo Ana!"
        # A blank locale is no locale: the default's chain.
        assert asyncio.run(_render(strategy, ctx(name=None, locale=" "))).text == "Hello!"

    @pytest.mark.parametrize("value", [0, False, "0", "  Ana  "])
    def test_real_values_are_still_said(self, value: object) -> None:
        greeting = vp.TemplateGreeting("Hi {name}!").render(ctx(name=value))
        assert greeting.text == f"Hi {str(value).strip()}!"

    def test_the_construction_check_agrees_with_rendering(self) -> None:
        template = vp.TemplateGreeting("Hi {name}!")
        assert missing_fields(template, {"name": None}) == {"name"}
        assert missing_fields(template, {"name": "  "}) == {"name"}
        assert missing_fields(template, {"name": "Ana"}) == frozenset()
        assert missing_fields(template | "Hi!", {"name": None}) == frozenset()
        assert missing_fields(template, frozenset({"name"})) == frozenset()  # names: as before
        with pytest.raises(vp.MissingContextFieldError, match="name is None, empty") as info:
            check_fields(template, {"name": None, "tier": "gold"})
        assert info.value.fields == {"name"}
        assert "the context has ['tier']" in str(info.value)
        check_fields(template | "Hi!", {"name": ""})

    async def test_a_session_speaks_the_fallback_for_a_none_value(self) -> None:
        fake = FakeConnection()
        greeting = vp.TemplateGreeting("Hi {name}, welcome back!") | "Hi, welcome!"
        proactive = vp.ProactiveSession(fake, greeting=greeting, context={"name": None}, audio=None)
        await deliver(proactive, fake, UPDATED)
        assert spoken_on_the_wire(fake) == "Hi, welcome!"

    async def test_a_blank_value_from_update_context_is_missing_too(self) -> None:
        fake = FakeConnection()
        greeting = vp.TemplateGreeting("Hi {name}!") | "Hi there!"
        proactive = vp.ProactiveSession(fake, greeting=greeting, context=None, audio=None)
        proactive.update_context(name="")
        await deliver(proactive, fake, UPDATED)
        assert spoken_on_the_wire(fake) == "Hi there!"


async def _render(strategy: vp.GreetingStrategy, context: vp.GreetingContext) -> vp.Greeting:
    result: Any = strategy.render(context)
    return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]


class TestFunctionsReturningStr:
    def test_a_str_is_spoken(self) -> None:
        strategy = vp.CallableGreeting(lambda c: f"Hi {c['name']}")
        assert strategy.render(ctx(name="Ana")) == vp.Greeting.spoken("Hi Ana")

    def test_an_async_function_returning_a_str_is_spoken(self) -> None:
        async def fetch(context: vp.GreetingContext) -> str:
            await asyncio.sleep(0)
            return "Hi from the CRM"

        pending = vp.CallableGreeting(fetch).render(ctx())
        assert inspect.isawaitable(pending)
        assert asyncio.run(_awaited(pending)) == vp.Greeting.spoken("Hi from the CRM")

    def test_an_empty_str_is_a_render_error_so_the_fallback_speaks(self) -> None:
        with pytest.raises(vp.GreetingRenderError, match="cannot be spoken"):
            vp.CallableGreeting(lambda c: " ").render(ctx())
        chain = vp.CallableGreeting(lambda c: "") | "Hello!"
        assert chain.render(ctx()) == vp.Greeting.spoken("Hello!")

    def test_other_return_types_are_still_render_errors(self) -> None:
        strategy = vp.CallableGreeting(lambda c: 42)  # type: ignore[arg-type,return-value]
        with pytest.raises(vp.GreetingRenderError, match="may also return a str"):
            asyncio.run(_render_only(strategy))

    def test_a_render_closed_unused_closes_the_functions_coroutine(self) -> None:
        # A session renders ahead and closes an async render it will not use; the function's
        # own coroutine must not then warn "never awaited" (an error under -W error).
        async def fetch(context: vp.GreetingContext) -> str:
            return "Hi"

        for strategy in (
            vp.CallableGreeting(fetch),
            vp.CallableGreeting(lambda c: fetch(c)),  # a sync function returning a coroutine
            vp.TemplateGreeting("Hi {name}") | fetch,  # a chain reaching an async alternative
        ):
            pending = strategy.render(ctx())
            assert inspect.iscoroutine(pending)
            pending.close()
            del pending
            gc.collect()

    async def test_a_session_speaks_a_str_from_a_greeting_function(self) -> None:
        fake = FakeConnection()
        proactive = vp.ProactiveSession(
            fake, greeting=lambda c: f"Hi {c['name']}", context={"name": "Lisa"}, audio=None
        )
        await deliver(proactive, fake, UPDATED)
        assert spoken_on_the_wire(fake) == "Hi Lisa"
        assert proactive.outcome.greeting == vp.Greeting.spoken("Hi Lisa")

    async def test_a_session_speaks_a_str_from_an_async_greeting_function(self) -> None:
        async def greet(context: vp.GreetingContext) -> str:
            await asyncio.sleep(0)
            return "Hi from far away"

        fake = FakeConnection()
        proactive = vp.ProactiveSession(fake, greeting=greet, audio=None)
        await deliver(proactive, fake, UPDATED)
        for _ in range(50):  # the render runs in a task
            if fake.sent:
                break
            await asyncio.sleep(0.01)
        assert spoken_on_the_wire(fake) == "Hi from far away"


async def _awaited(pending: Any) -> Any:
    return await pending


async def _render_only(strategy: vp.GreetingStrategy) -> vp.Greeting:
    from voicelive_proactive.greetings import render_greeting

    return await render_greeting(strategy, ctx())


class TestGreetingFunctionSignatures:
    def test_two_arguments_are_refused_saying_what_to_write(self) -> None:
        with pytest.raises(vp.GreetingConfigError, match="must take one argument") as info:
            vp.CallableGreeting(lambda context, extra: "Hi")  # type: ignore[arg-type,misc]
        assert "default value" in str(info.value) and "(context, extra)" in str(info.value)
        with pytest.raises(vp.GreetingConfigError, match="must take one argument"):
            vp.ProactiveSession(FakeConnection(), greeting=lambda: "Hi", audio=None)  # type: ignore[arg-type,misc]

    def test_one_argument_plus_defaults_partials_and_callable_objects_are_accepted(self) -> None:
        def greet(context: vp.GreetingContext, punctuation: str = "!") -> str:
            return f"Hi{punctuation}"

        def greet_in(language: str, context: vp.GreetingContext) -> str:
            return f"Hi ({language})"

        class Greeter:
            def __call__(self, context: vp.GreetingContext) -> str:
                return "Hi, object"

        def variadic(*args: Any, **kwargs: Any) -> str:
            return "Hi, anyone"

        assert vp.CallableGreeting(greet).render(ctx()).text == "Hi!"  # type: ignore[union-attr]
        partial = vp.CallableGreeting(functools.partial(greet_in, "en"))
        assert partial.render(ctx()).text == "Hi (en)"  # type: ignore[union-attr]
        assert vp.CallableGreeting(Greeter()).render(ctx()).text == "Hi, object"  # type: ignore[union-attr]
        assert vp.CallableGreeting(variadic).render(ctx()).text == "Hi, anyone"  # type: ignore[union-attr]


class TestClassesWhereAnInstanceBelongs:
    @pytest.mark.parametrize("cls", [vp.StaticGreeting, vp.TemplateGreeting, vp.LLMGreeting])
    def test_a_strategy_class_is_refused_naming_the_fix(self, cls: type) -> None:
        with pytest.raises(vp.GreetingConfigError, match=rf"{cls.__name__} is a class.*\(\.\.\.\)"):
            vp.ProactiveSession(FakeConnection(), greeting=cls, audio=None)
        with pytest.raises(vp.GreetingConfigError, match="is a class"):
            vp.StaticGreeting("Hi!") | cls
        with pytest.raises(vp.GreetingConfigError, match="is a class"):
            vp.CallableGreeting(cls)

    def test_the_greeting_class_and_other_classes_are_refused(self) -> None:
        with pytest.raises(vp.GreetingConfigError, match=r"Greeting\.spoken"):
            vp.greetings.as_strategy(vp.Greeting)  # type: ignore[arg-type]
        with pytest.raises(vp.GreetingConfigError, match="dict is a class"):
            vp.greetings.as_strategy(dict)  # type: ignore[arg-type]
        with pytest.raises(vp.GreetingConfigError, match="StaticGreeting is a class"):
            vp.IdleNudge(after=5, strategy=vp.StaticGreeting)  # type: ignore[arg-type]
        with pytest.raises(vp.GreetingConfigError, match="StaticGreeting is a class"):
            vp.LocalizedGreeting("Hi!", {"de": vp.StaticGreeting})  # type: ignore[dict-item]


class TestFallbackRendersSynchronously:
    def test_a_chain_of_sync_strategies_returns_a_greeting(self) -> None:
        chain = vp.TemplateGreeting("Hi {name}!") | vp.StaticGreeting("Hi!")
        assert chain.render(ctx(name="Ana")).text == "Hi Ana!"  # type: ignore[union-attr]
        assert chain.render(ctx()).text == "Hi!"  # type: ignore[union-attr]

    def test_every_alternative_failing_raises_at_once(self) -> None:
        chain = vp.TemplateGreeting("Hi {name}") | vp.TemplateGreeting("Yo {nick}")
        with pytest.raises(vp.GreetingRenderError, match=r"name.*nick"):
            chain.render(ctx())

    def test_an_async_alternative_makes_it_awaitable_only_when_reached(self) -> None:
        async def slow(context: vp.GreetingContext) -> vp.Greeting:
            await asyncio.sleep(0)
            return vp.Greeting.spoken("from the CRM")

        chain = vp.TemplateGreeting("Hi {name}!") | slow | "Hello!"
        assert chain.render(ctx(name="Ana")) == vp.Greeting.spoken("Hi Ana!")
        pending = chain.render(ctx())
        assert inspect.isawaitable(pending)
        assert asyncio.run(_awaited(pending)) == vp.Greeting.spoken("from the CRM")


class TestHugeLocales:
    def test_lookup_reads_a_huge_locale_once(self) -> None:
        # 144 KB of subtags: each prefix used to be built and hashed (quadratic: seconds,
        # minutes at 1.8 MB). Count what the table is asked about instead of timing it.
        strategy = vp.LocalizedGreeting("Hello!", {"de": "Hallo!", "de-AT": "Servus!"})
        asked: list[int] = []

        class Counting(dict[str, vp.GreetingStrategy]):
            def __contains__(self, key: object) -> bool:
                asked.append(len(str(key)))
                return super().__contains__(key)

        strategy._by_key = Counting(strategy._by_key)
        huge = "de-" + "ab-" * 48_000
        assert strategy.select(huge) is strategy.locales["de"]
        assert strategy.select("de-AT-" + "x" * 150_000) is strategy.locales["de-AT"]
        assert strategy.select("DE_at") is strategy.locales["de-AT"]
        assert sum(asked) < 100, asked[:5]

    def test_a_huge_locale_renders_the_right_greeting(self) -> None:
        strategy = vp.LocalizedGreeting("Hello!", {"de": "Hallo!"})
        assert strategy.render(ctx(locale="de-" + "a1-" * 600_000)) == vp.Greeting.spoken("Hallo!")
        assert strategy.render(ctx(locale="x" * 1_000_000)) == vp.Greeting.spoken("Hello!")

    def test_errors_never_repeat_a_huge_locale(self) -> None:
        strategy = vp.LocalizedGreeting(vp.StaticGreeting("a") | "b", {"de": "Hallo!"})
        second = strategy.alternatives()[1]
        with pytest.raises(vp.GreetingRenderError, match="no alternative number 2") as info:
            second.render(ctx(locale="de-" + "x" * 100_000))
        assert len(str(info.value)) < 200
