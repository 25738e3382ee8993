"""LocalizedGreeting: a normal strategy that picks by context["locale"]."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive.testing import FakeConnection

from .conftest import deliver

UPDATED = {"type": "session.updated", "session": {"id": "sess_1"}}


def said(event: dict[str, Any]) -> str:
    return str(event["response"]["pre_generated_assistant_message"]["content"][0]["text"])


def error(event_id: str) -> dict[str, Any]:
    body = {"type": "invalid_request_error", "code": "x", "message": "no", "event_id": event_id}
    return {"type": "error", "error": body}


def ctx(**values: Any) -> vp.GreetingContext:
    return vp.GreetingContext(values)


LOCALIZED = vp.LocalizedGreeting(
    vp.StaticGreeting("Hello!"),
    {
        "de": vp.StaticGreeting("Hallo!"),
        "de-CH": vp.StaticGreeting("Grüezi!"),
        "zh-Hant": vp.StaticGreeting("你好!"),
    },
)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de-CH", "Grüezi!"),  # exact tag
        ("de-AT", "Hallo!"),  # the language part
        ("de", "Hallo!"),
        ("DE_ch", "Grüezi!"),  # case-insensitive, "_" reads as "-"
        ("de_CH.UTF-8", "Grüezi!"),  # POSIX locale names work too
        ("zh-Hant-TW", "你好!"),  # ever shorter prefixes (RFC 4647 lookup)
        ("zh-Hans", "Hello!"),  # no "zh" entry: the default
        ("fr-FR", "Hello!"),  # unknown
        ("", "Hello!"),
        (None, "Hello!"),  # not a string
        (42, "Hello!"),
    ],
)
def test_the_rule_exact_then_prefixes_then_default(locale: object, expected: str) -> None:
    result = LOCALIZED.render(ctx(locale=locale))
    assert isinstance(result, vp.Greeting)  # sync when the chosen strategy is sync
    assert result.text == expected


def test_missing_locale_uses_the_default() -> None:
    assert LOCALIZED.render(ctx()) == vp.Greeting.spoken("Hello!")


def test_a_region_entry_does_not_serve_other_regions() -> None:
    greeting = vp.LocalizedGreeting("Hello!", {"de-DE": "Hallo!"})  # str is spoken as is
    assert greeting.select("de-DE").render(ctx()) == vp.Greeting.spoken("Hallo!")
    assert greeting.select("de-AT") is greeting.default  # de-AT -> de -> default


def test_required_fields_are_the_defaults() -> None:
    greeting = vp.LocalizedGreeting(
        vp.TemplateGreeting("Hi {name}!"), {"de": vp.TemplateGreeting("Hallo {vorname}!")}
    )
    assert greeting.required_fields() == {"name"}
    with pytest.raises(vp.MissingContextFieldError, match="name"):
        vp.ProactiveSession(FakeConnection(), greeting=greeting, context={}, audio=None)
    vp.ProactiveSession(FakeConnection(), greeting=greeting, context={"name": "L"}, audio=None)


@pytest.mark.parametrize(
    "locales",
    [{"de DE": "Hallo"}, {"": "Hallo"}, {"de-": "Hallo"}, {"123": "Hallo"}, {1: "Hallo"}],
)
def test_bad_locale_tags_fail_at_construction(locales: dict[Any, str]) -> None:
    with pytest.raises(vp.GreetingConfigError, match="language tag"):
        vp.LocalizedGreeting("Hello", locales)


def test_two_spellings_of_one_locale_are_rejected() -> None:
    with pytest.raises(vp.GreetingConfigError, match="same locale"):
        vp.LocalizedGreeting("Hello", {"de-DE": "Hallo", "de_de": "Hallo!"})


def test_bad_strategies_in_the_table_fail_with_their_own_errors() -> None:
    with pytest.raises(vp.EmptyGreetingError):
        vp.LocalizedGreeting("Hello", {"de": " "})
    with pytest.raises(vp.GreetingConfigError, match="mapping"):
        vp.LocalizedGreeting("Hello", ["de"])  # type: ignore[arg-type]


def test_locales_is_a_read_only_view_of_the_table() -> None:
    assert list(LOCALIZED.locales) == ["de", "de-CH", "zh-Hant"]
    with pytest.raises(TypeError):
        LOCALIZED.locales["fr"] = vp.StaticGreeting("Salut")  # type: ignore[index]


async def test_in_a_session_the_context_locale_picks_the_line() -> None:
    for locale, expected in [("de-AT", "Hallo!"), (None, "Hello!")]:
        fake = FakeConnection()
        context = {} if locale is None else {"locale": locale}
        p = vp.ProactiveSession(fake, greeting=LOCALIZED, context=context, audio=None)
        await deliver(p, fake, UPDATED)
        assert [said(e) for e in fake.sent] == [expected]
        assert p.outcome.status is vp.GreetingStatus.PENDING  # sent, not answered yet
        assert p.outcome.greeting == vp.Greeting.spoken(expected)


async def test_works_inside_a_fallback_chain_both_ways() -> None:
    def broken(context: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("CRM down")

    chain = vp.CallableGreeting(broken) | LOCALIZED | vp.StaticGreeting("Last resort")
    fake = FakeConnection()
    p = vp.ProactiveSession(fake, greeting=chain, context={"locale": "de"}, audio=None)
    await deliver(p, fake, UPDATED)
    assert said(fake.sent[0]) == "Hallo!"
    # The service rejects it: the next strategy of the outer chain speaks.
    await deliver(p, fake, error(fake.sent[0]["event_id"]))
    assert said(fake.sent[1]) == "Last resort"


async def test_each_locale_keeps_its_own_fallback_order() -> None:
    greeting = vp.LocalizedGreeting(
        vp.TemplateGreeting("Hi {name}!") | vp.StaticGreeting("Hi!"),
        {"de": vp.StaticGreeting("Hallo!") | vp.StaticGreeting("Guten Tag!")},
    )
    # Like a plain chain, a fallback that needs nothing makes a missing field safe.
    fake = FakeConnection()
    p = vp.ProactiveSession(fake, greeting=greeting, context={}, audio=None)
    await deliver(p, fake, UPDATED)
    assert said(fake.sent[0]) == "Hi!"

    # A rejected greeting falls back within the chosen locale's chain.
    fake = FakeConnection()
    p = vp.ProactiveSession(fake, greeting=greeting, context={"locale": "de"}, audio=None)
    await deliver(p, fake, UPDATED)
    await deliver(p, fake, error(fake.sent[0]["event_id"]))
    assert [said(e) for e in fake.sent] == ["Hallo!", "Guten Tag!"]
    assert p.outcome.attempts == 2


async def test_a_shorter_locale_chain_fails_cleanly_when_exhausted() -> None:
    greeting = vp.LocalizedGreeting(
        vp.StaticGreeting("Hi!") | vp.StaticGreeting("Hello!"), {"de": "Hallo!"}
    )
    fake = FakeConnection()
    p = vp.ProactiveSession(fake, greeting=greeting, context={"locale": "de"}, audio=None)
    await deliver(p, fake, UPDATED)
    await deliver(p, fake, error(fake.sent[0]["event_id"]))
    assert [said(e) for e in fake.sent] == ["Hallo!"]
    assert p.outcome.status is vp.GreetingStatus.FAILED


def test_render_of_a_localized_chain_is_sync_and_tries_the_alternatives() -> None:
    greeting = vp.LocalizedGreeting(
        vp.TemplateGreeting("Hi {name}!") | "Hi!",
        {"de": vp.TemplateGreeting("Hallo {name}!") | vp.StaticGreeting("Hallo!")},
    )
    assert not inspect.iscoroutinefunction(type(greeting).render)
    assert greeting.render(ctx(locale="de")) == vp.Greeting.spoken("Hallo!")
    assert greeting.render(ctx(name="Ana")) == vp.Greeting.spoken("Hi Ana!")


async def test_render_continues_asynchronously_after_an_async_alternative() -> None:
    async def slow(context: vp.GreetingContext) -> vp.Greeting:
        raise LookupError("not a VIP")

    async def vip(context: vp.GreetingContext) -> vp.Greeting:
        return vp.Greeting.spoken("Welcome, VIP!")

    def broken(context: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("CRM down")

    greeting = vp.LocalizedGreeting(
        vp.CallableGreeting(broken) | vp.CallableGreeting(slow) | "Hi!",
        {"de": vp.CallableGreeting(vip) | "Hallo!"},
    )
    pending = greeting.render(ctx())
    assert inspect.isawaitable(pending)
    assert await pending == vp.Greeting.spoken("Hi!")
    german = greeting.render(ctx(locale="de"))
    assert inspect.isawaitable(german)
    assert await german == vp.Greeting.spoken("Welcome, VIP!")


async def test_a_chain_where_everything_fails_says_why() -> None:
    def broken(context: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("CRM down")

    async def also_broken(context: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("still down")

    sync_chain = vp.LocalizedGreeting(vp.TemplateGreeting("Hi {name}") | broken, {})
    with pytest.raises(vp.GreetingRenderError, match=r"name.*CRM down"):
        sync_chain.render(ctx())
    async_chain = vp.LocalizedGreeting(
        vp.CallableGreeting(broken) | vp.CallableGreeting(also_broken), {}
    )
    pending = async_chain.render(ctx())
    assert inspect.isawaitable(pending)
    with pytest.raises(vp.GreetingRenderError, match="CRM down; still down"):
        await pending
    wrong = vp.LocalizedGreeting(vp.CallableGreeting(lambda c: 42) | broken, {})  # type: ignore[arg-type,return-value]
    with pytest.raises(vp.GreetingRenderError, match="returned int"):
        wrong.render(ctx())


def test_repr_names_the_default_and_the_table() -> None:
    assert repr(vp.LocalizedGreeting("Hi", {"de": "Hallo"})) == (
        "LocalizedGreeting(StaticGreeting('Hi'), {'de': StaticGreeting('Hallo')})"
    )
