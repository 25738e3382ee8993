"""The stand-in "model": a deterministic reply from the latest instruction or turn.

It is not a language model and does not pretend to be one. It covers what the library's tests
and demo need: asked to greet, it greets (by name when the instructions give one); given a
user turn, it acknowledges it; asked to ``say "..."``, it says exactly that; given tools, it
calls one by the rules of :mod:`.tools`, and once the tool has answered it reads out the
answer. It knows what it said: the latest assistant message (its own reply, or one the
client put in the conversation) is what it repeats when asked "what did you say?", and once
it has spoken it does not open the conversation with a greeting again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .conversation import item_text
from .tools import ToolCall, arguments_for, choose_tool, function_tools, output_reply

__all__ = ["Context", "ToolCall", "decide", "estimate_tokens", "reply_text"]

_GREET = re.compile(r"\b(greet\w*|welcome\w*|say hello|introduce yourself|hello|hi)\b", re.I)
_WELCOME_BACK = re.compile(r"\bwelcome\s+back\b", re.I)
_SAY = re.compile(r"""\bsay\s+(?:exactly\s*)?:?\s*(?:"([^"\n]{1,500})"|“([^”\n]{1,500})”)""", re.I)
_NAME = re.compile(
    r"""\bname\s+is\s*:?\s*(?:"([^"\n]{1,64})"|'([^'\n]{1,64})'|([A-Z][\w'-]{0,63}))"""
    r"""|\b(?:called|named)\s+(?:"([^"\n]{1,64})"|([A-Z][\w'-]{0,63}))"""
)
_REPEAT = re.compile(
    r"\b(what did you (just )?say|what was that|say (that|it) again|repeat (that|it))\b", re.I
)
_MAX_ECHO_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class Context:
    """What the model sees when a response starts."""

    items: Sequence[Mapping[str, Any]] = ()
    session_instructions: str | None = None
    response_instructions: str | None = None
    additional_instructions: str | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: object = "auto"
    heard: Mapping[str, str] | None = None
    """What the emulator recognized in user audio items, by item id."""


@dataclass(frozen=True, slots=True)
class _Turn:
    role: str | None = None  # "system", "user", "tool" (a function_call_output), or None
    text: str | None = None
    call_name: str | None = None
    call_arguments: str | None = None
    answered_with_call: bool = False
    """A function call already followed this turn (its output has not come back)."""


def decide(context: Context) -> str | ToolCall:
    """What the assistant does next: say a text, or call a tool."""
    turn = _latest_turn(context.items, context.heard)
    tools = function_tools(list(context.tools))
    directives = _directives(context, turn)
    forced = context.tool_choice == "required" or isinstance(context.tool_choice, Mapping)
    # Once it has called a tool for a turn, "auto" waits for the output instead of calling
    # again (a client that asks for another response before answering gets words).
    if forced or not (turn.answered_with_call or any(_SAY.search(text) for text in directives)):
        tool = choose_tool(
            tools,
            context.tool_choice,
            turn_role=turn.role,
            turn_text=turn.text,
            instructions=[
                text
                for text in (
                    context.additional_instructions,
                    context.response_instructions,
                    context.session_instructions,
                )
                if text
            ],
        )
        if tool is not None:
            return ToolCall(str(tool["name"]), arguments_for(tool, turn.text))
    if turn.role == "tool" and not any(_SAY.search(text) for text in directives):
        return output_reply(turn.call_name, turn.call_arguments, turn.text or "")
    return _speak(context, turn, directives, _last_said(context.items))


def reply_text(
    items: Iterable[Mapping[str, Any]],
    *,
    session_instructions: str | None = None,
    response_instructions: str | None = None,
    additional_instructions: str | None = None,
) -> str:
    """What the assistant says next when it has no tools."""
    decided = decide(
        Context(
            items=list(items),
            session_instructions=session_instructions,
            response_instructions=response_instructions,
            additional_instructions=additional_instructions,
        )
    )
    return decided if isinstance(decided, str) else decided.name


def _latest_turn(items: Iterable[Mapping[str, Any]], heard: Mapping[str, str] | None) -> _Turn:
    turn = _Turn()
    calls: dict[str, tuple[str | None, str | None]] = {}
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            calls[str(item.get("call_id"))] = (item.get("name"), item.get("arguments"))
            if turn.role in ("user", "system"):
                turn = _Turn(turn.role, turn.text, answered_with_call=True)
        elif kind == "function_call_output":
            name, arguments = calls.get(str(item.get("call_id")), (None, None))
            output = item.get("output")
            turn = _Turn("tool", output if isinstance(output, str) else "", name, arguments)
        elif kind == "message" and item.get("role") in ("system", "user"):
            text = item_text(dict(item))
            if text is None and heard is not None:
                text = heard.get(str(item.get("id")))
            turn = _Turn(str(item.get("role")), text)
    return turn


def _last_said(items: Iterable[Mapping[str, Any]]) -> str | None:
    """The words of the latest assistant message in the conversation."""
    said = None
    for item in items:
        if item.get("type") == "message" and item.get("role") == "assistant":
            said = item_text(dict(item)) or said
    return said


def _directives(context: Context, turn: _Turn) -> list[str]:
    # The closest instruction wins: per-response ones, then the latest system item.
    directives = [context.additional_instructions, context.response_instructions]
    if turn.role == "system":
        directives.append(turn.text)
    if turn.role is None:
        directives.append(context.session_instructions)
    return [text for text in directives if text]


def _speak(context: Context, turn: _Turn, present: list[str], said: str | None) -> str:
    for text in present:
        wanted = _SAY.search(text)
        if wanted:
            return next(group for group in wanted.groups() if group)
    name = _find_name([*present, context.session_instructions or ""])
    greet = any(_GREET.search(text) for text in present)
    if turn.role == "user" and not greet:
        if turn.text is None:
            return "I heard you. Could you tell me a little more?"
        if said is not None and _REPEAT.search(turn.text):
            return f'I said: "{said}"'
        echo = turn.text if len(turn.text) <= _MAX_ECHO_CHARS else turn.text[:197] + "..."
        return f'You said: "{echo}". How can I help with that?'
    if any(_WELCOME_BACK.search(text) for text in present):
        return f"Welcome back{', ' + name if name else ''}! How can I help you today?"
    if turn.role is None and said is not None and not greet:
        return "Is there anything else I can help you with?"  # it has spoken already
    # An empty conversation is the opening turn: a model greets there.
    if turn.role is None or greet:
        hello = f"Hello {name}!" if name else "Hello!"
        return f"{hello} I'm your assistant. How can I help you today?"
    return "Understood. How can I help you today?"


def _find_name(texts: Iterable[str]) -> str | None:
    for text in texts:
        match = _NAME.search(text)
        if match:
            name = next(group for group in match.groups() if group).strip()
            if name:
                return name
    return None


def estimate_tokens(text: str | None) -> int:
    """About four tokens per three words, like an English tokenizer."""
    return 0 if not text else (len(text.split()) * 4 + 2) // 3
