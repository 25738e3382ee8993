"""Function tools: when the stand-in model calls one, the call's events, and the answer."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from azure.ai.voicelive.models import (
    FunctionCallOutputItem,
    FunctionTool,
    InputTextContentPart,
    RequestSession,
    ResponseFunctionCallItem,
    SystemMessageItem,
    ToolChoiceFunctionSelection,
    UserMessageItem,
)
from emulator_helpers import pcm_of, sdk, types_of, until
from hypothesis import given, settings
from hypothesis import strategies as st

from voicelive_proactive.emulator import Emulator
from voicelive_proactive.emulator.tools import arguments_for, choose_tool, output_reply

WEATHER = FunctionTool(
    name="get_weather",
    description="Get the weather for a given location.",
    parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city, e.g. Seattle"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
)
TIME = FunctionTool(
    name="get_current_time",
    description="Get the current time",
    parameters={"type": "object", "properties": {"timezone": {"type": "string"}}, "required": []},
)
CALL_EVENTS = [
    "response.created",
    "response.output_item.added",
    "conversation.item.created",
]
CALL_END = ["response.function_call_arguments.done", "response.output_item.done", "response.done"]


async def say(conn: Any, text: str, role: str = "user") -> None:
    part = [InputTextContentPart(text=text)]
    item = UserMessageItem(content=part) if role == "user" else SystemMessageItem(content=part)
    await conn.conversation.item.create(item=item)


async def test_a_question_about_the_topic_calls_the_tool_with_schema_valid_arguments(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[WEATHER, TIME]))
        await say(conn, "What's the weather like in Beijing today?")
        await conn.response.create()
        events = await until(conn, "response.done")
    names = types_of(events)
    start = names.index("response.created")
    assert names[start : start + 3] == CALL_EVENTS
    assert names[-3:] == CALL_END
    assert set(names[start + 3 : -3]) == {"response.function_call_arguments.delta"}
    assert not any(name.startswith(("response.audio", "response.content_part")) for name in names)
    added = events[start + 1].item
    assert isinstance(added, ResponseFunctionCallItem)
    assert (added.name, added.arguments, added.status) == ("get_weather", "", "in_progress")
    created = events[start + 2].item
    assert created.id == added.id and created.call_id == added.call_id
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
    done = events[-3]
    assert all(e.call_id == added.call_id and e.item_id == added.id for e in [*deltas, done])
    assert "".join(e.delta for e in deltas) == done.arguments == '{"location":"Beijing"}'
    assert done.name == "get_weather"
    jsonschema.validate(json.loads(done.arguments), WEATHER.parameters)
    final = events[-1].response
    assert final.status == "completed"
    assert final.output[0].type == "function_call"
    assert (final.output[0].status, final.output[0].arguments) == ("completed", done.arguments)
    assert final.usage.output_token_details.audio_tokens == 0


async def test_the_tool_output_is_spoken_in_the_next_response(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[WEATHER]))
        await say(conn, "How is the weather in Seattle?")
        await conn.response.create()
        call = (await until(conn, "response.done"))[-1].response.output[0]
        output = json.dumps({"location": "Seattle", "condition": "sunny", "temp_c": 25})
        await conn.conversation.item.create(
            previous_item_id=call.id,
            item=FunctionCallOutputItem(call_id=call.call_id, output=output),
        )
        await conn.response.create()
        answer = await until(conn, "response.done")
    item = answer[-1].response.output[0]
    assert item.type == "message" and item.id != call.id
    transcript = item.content[0].transcript
    assert transcript == "Here is the weather for Seattle: condition sunny, temp c 25."
    assert len(pcm_of(answer)) > 0
    kinds = [each["type"] for each in emu.connections[0].conversation]
    assert kinds == ["message", "function_call", "function_call_output", "message"]


async def test_tool_choice_none_speaks_even_when_asked(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[WEATHER], tool_choice="none"))
        await say(conn, "What's the weather in Oslo?")
        await conn.response.create()
        events = await until(conn, "response.done")
    assert events[-1].response.output[0].type == "message"
    assert "response.function_call_arguments.delta" not in types_of(events)


async def test_tool_choice_required_calls_a_tool_for_any_turn(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session=RequestSession(tools=[WEATHER, TIME], tool_choice="required")
        )
        await say(conn, "Hello there.")
        await conn.response.create()
        first = (await until(conn, "response.done"))[-1]
        await say(conn, "And what time is it in UTC?")
        await conn.response.create()
        second = (await until(conn, "response.done"))[-1]
    assert first.response.output[0].name == "get_weather"  # nothing matches: the first tool
    assert second.response.output[0].name == "get_current_time"


async def test_a_named_tool_choice_wins_and_a_response_can_override_the_session(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session=RequestSession(
                tools=[WEATHER, TIME],
                tool_choice=ToolChoiceFunctionSelection(name="get_current_time"),
            )
        )
        await say(conn, "What's the weather like in Beijing?")
        await conn.response.create()
        named = (await until(conn, "response.done"))[-1].response.output[0]
        await conn.response.create(response={"tool_choice": "none"})
        spoken = (await until(conn, "response.done"))[-1].response.output[0]
        await conn.response.create(response={"tools": [], "tool_choice": "auto"})
        toolless = (await until(conn, "response.done"))[-1].response.output[0]
    assert (named.name, json.loads(named.arguments)) == ("get_current_time", {})
    assert spoken.type == toolless.type == "message"


async def test_a_system_message_naming_the_tool_calls_it_but_a_greeting_does_not(
    emu: Emulator,
) -> None:
    user_tool = FunctionTool(
        name="get_user",
        parameters={
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "required": ["id"],
        },
    )
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[user_tool, WEATHER]))
        await say(conn, "Greet the user warmly.", role="system")
        await conn.response.create()
        greeting = (await until(conn, "response.done"))[-1].response.output[0]
        await say(conn, "Call get_weather for Paris.", role="system")
        await conn.response.create()
        call = (await until(conn, "response.done"))[-1].response.output[0]
    assert greeting.type == "message"
    assert (call.name, call.arguments) == ("get_weather", '{"location":"Paris"}')


async def test_instructions_that_insist_make_every_user_turn_call_the_tool(emu: Emulator) -> None:
    assess = FunctionTool(name="assess_pronunciation", description="Assess pronunciation")
    instructions = (
        "You are a teacher. For each user input speech, you need to call the "
        "assess_pronunciation function, and then give feedback."
    )
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(instructions=instructions, tools=[assess]))
        await say(conn, "I like to read books in the park.")
        await conn.response.create()
        call = (await until(conn, "response.done"))[-1].response.output[0]
    assert (call.name, call.arguments) == ("assess_pronunciation", "{}")


async def test_max_output_tokens_cuts_the_arguments(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[WEATHER]))
        await say(conn, "What's the weather in San Francisco, CA, in fahrenheit?")
        await conn.response.create(response={"max_output_tokens": 3})
        events = await until(conn, "response.done")
    done = events[-1].response
    assert done.status == "incomplete"
    assert done.status_details.reason == "max_output_tokens"
    assert done.output[0].status == "incomplete"
    arguments = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert len(arguments.arguments) <= 12
    assert done.usage.output_tokens <= 3


# -- the rules on their own -------------------------------------------------------------------


def tool(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "function", "name": name, "parameters": schema}


@pytest.mark.parametrize(
    ("role", "text", "choice", "expected"),
    [
        ("user", "What's the weather in Oslo?", "auto", "get_weather"),
        ("user", "what TIME is it?", "auto", "get_time"),
        ("user", "please run get_time now", "auto", "get_time"),
        ("user", "Tell me a joke.", "auto", None),
        ("user", "Tell me a joke.", "required", "get_weather"),
        ("user", "What's the weather?", "none", None),
        ("system", "Mention the weather when greeting.", "auto", None),
        ("system", "Use get weather first.", "auto", "get_weather"),
        ("tool", '{"weather": "sunny"}', "auto", None),
        (None, None, "auto", None),
        ("user", "anything", {"type": "function", "name": "get_time"}, "get_time"),
        ("user", "anything", {"type": "function", "function": {"name": "get_time"}}, "get_time"),
        ("user", "anything", {"type": "function", "name": "missing"}, None),
    ],
)
def test_choose_tool_rules(
    role: str | None, text: str | None, choice: Any, expected: str | None
) -> None:
    tools = [tool("get_weather"), tool("get_time")]
    chosen = choose_tool(tools, choice, turn_role=role, turn_text=text, instructions=[])
    assert (chosen["name"] if chosen else None) == expected


@pytest.mark.parametrize(
    ("schema", "text", "expected"),
    [
        (None, "", {}),
        (WEATHER.parameters, "weather in New York please", {"location": "New York"}),
        (WEATHER.parameters, "weather in Lyon in Celsius", {"location": "Lyon", "unit": "celsius"}),
        (WEATHER.parameters, "weather please", {"location": ""}),
        (
            {
                "type": "object",
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": 5},
                    "flag": {"type": "boolean"},
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                    "mode": {"enum": ["fast", "slow"]},
                    "note": {"type": ["string", "null"], "minLength": 3},
                    "nested": {
                        "type": "object",
                        "properties": {"x": {"type": "number", "exclusiveMinimum": 0}},
                        "required": ["x"],
                    },
                },
                "required": ["count", "flag", "tags", "mode", "note", "nested"],
            },
            "give me 9 or maybe 4 items, slow",
            {
                "count": 4,
                "flag": False,
                "tags": ["", ""],
                "mode": "slow",
                "note": "xxx",
                "nested": {"x": 9.0},
            },
        ),
        (
            {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
            'search "blue whales"',
            {"q": "blue whales"},
        ),
    ],
)
def test_arguments_are_minimal_and_valid(
    schema: dict[str, Any] | None, text: str, expected: dict[str, Any]
) -> None:
    arguments = json.loads(arguments_for(tool("f", schema), text))
    assert arguments == expected
    if schema is not None:
        jsonschema.validate(arguments, schema)


_SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "minLength": 2, "maxLength": 5},
        {"type": "integer", "minimum": -3, "maximum": 7},
        {"type": "number", "exclusiveMinimum": 1.5},
        {"type": "boolean"},
        {"type": "null"},
        {"enum": ["a", "b", 3]},
        {"const": "fixed"},
        {"type": ["integer", "null"]},
    ]
)
_SCHEMAS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.builds(
            lambda items, count: {"type": "array", "items": items, "minItems": count},
            children,
            st.integers(0, 3),
        ),
        st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), children, max_size=4).map(
            lambda props: {"type": "object", "properties": props, "required": sorted(props)}
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _SCHEMAS, max_size=5),
    st.text(max_size=60),
)
def test_generated_arguments_always_validate(properties: dict[str, Any], text: str) -> None:
    schema = {"type": "object", "properties": properties, "required": sorted(properties)}
    arguments = json.loads(arguments_for(tool("f", schema), text))
    jsonschema.validate(arguments, schema)


def test_output_reply_reads_out_the_facts() -> None:
    reply = output_reply(
        "get_weather",
        '{"location":"Beijing"}',
        '{"location":"Beijing","weather":"sunny","temp_c":25}',
    )
    assert reply == "Here is the weather for Beijing: weather sunny, temp c 25."
    assert output_reply("lookup_order", None, "Shipped yesterday.") == (
        "Here is the order: Shipped yesterday."
    )
    assert output_reply(None, None, "[1, 2]") == "Here is the result: [1, 2]."


async def test_auto_does_not_call_again_before_the_output_arrives(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session=RequestSession(tools=[WEATHER]))
        await say(conn, "What's the weather in Oslo?")
        await conn.response.create()
        call = (await until(conn, "response.done"))[-1].response.output[0]
        await conn.response.create()  # no function_call_output yet
        spoken = await until(conn, "response.done")
        await conn.response.create(response={"tool_choice": "required"})
        forced = (await until(conn, "response.done"))[-1].response.output[0]
    assert call.type == "function_call"
    assert spoken[-1].response.output[0].type == "message"
    assert len(pcm_of(spoken)) > 0
    assert forced.type == "function_call"
