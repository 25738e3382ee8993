"""Function tools: checking them, deciding to call one, and the call's arguments.

The stand-in model's rules, deterministic and documented in docs/emulator.md:

* ``tool_choice: "none"`` never calls; ``"required"`` always calls (the best-matching tool,
  else the first); ``{"type": "function", "name": N}`` always calls ``N``.
* ``"auto"`` calls a tool when the latest user or system message names it (``get_weather``
  or ``get weather``); after a user turn, also when the turn asks for its topic (the name's
  last word once a leading verb such as ``get`` is dropped: ``weather``, ``time``), or when
  the instructions name the tool in a sentence that says always/each/every/must/need to.
  Right after a ``function_call_output`` it answers from the output instead, and once it
  has called a tool for a turn it does not call again before that turn's output arrives.
* Arguments are a minimal instance of the tool's JSON schema: required properties, plus
  optional ones the text clearly gives (an enum value it mentions). Strings take obvious
  values from the text: a place for location-like properties (``in Beijing``), a quoted phrase,
  an enum value; numbers take the first number in range.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .checks import Problem

__all__ = [
    "ToolCall",
    "arguments_for",
    "choose_tool",
    "function_tools",
    "output_reply",
    "tool_choice_problem",
    "tools_problem",
]

_VERBS: Final = frozenset(
    {"get", "fetch", "lookup", "look", "find", "check", "search", "query", "retrieve", "read"}
)
_INSIST: Final = re.compile(
    r"\b(always|each|every|must|need to|needs to|have to|has to|required to)\b", re.I
)
_SENTENCES: Final = re.compile(r"[^.!?\n]+")
_PLACE: Final = re.compile(
    r"\b(?:in|at|for|near|from|to|of)\s+"
    r"((?:[A-Z][\w'-]*|[\u4e00-\u9fff]+)(?:\s+[A-Z][\w'-]*)*(?:,\s*[A-Z]{2}\b)?)"
)
_QUOTED: Final = re.compile(r"""["“']([^"”'\n]{1,200})["”']""")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_PLACE_WORDS: Final = (
    "location",
    "city",
    "place",
    "country",
    "region",
    "address",
    "destination",
    "origin",
    "town",
    "state",
)
_MAX_DEPTH: Final = 8


@dataclass(frozen=True, slots=True)
class ToolCall:
    """What the model decided to call."""

    name: str
    arguments: str


def function_tools(tools: object) -> list[Mapping[str, Any]]:
    """The function tools of a (checked) ``tools`` list."""
    if not isinstance(tools, list):
        return []
    return [tool for tool in tools if isinstance(tool, Mapping) and tool.get("type") == "function"]


def tools_problem(tools: object, param: str) -> Problem | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        return Problem("invalid_type", f"'{param}' must be a list of tools.", param)
    names: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"{param}[{index}]"
        if not isinstance(tool, Mapping):
            return Problem("invalid_type", f"'{where}' must be an object.", where)
        kind = tool.get("type")
        if kind == "mcp":
            label, url = tool.get("server_label"), tool.get("server_url")
            if not (isinstance(label, str) and label and isinstance(url, str) and url):
                return Problem(
                    "missing_required_parameter",
                    f"'{where}' needs 'server_label' and 'server_url'.",
                    f"{where}.server_label",
                )
            continue
        if kind != "function":
            return Problem(
                "invalid_value",
                f"Invalid value: {kind!r}. Supported values are: 'function' and 'mcp'.",
                f"{where}.type",
            )
        name = tool.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            return Problem(
                "invalid_value",
                f"'{where}.name' must be 1-64 letters, digits, '_' or '-'; got {name!r}.",
                f"{where}.name",
            )
        if name in names:
            return Problem(
                "invalid_value", f"Duplicate function name {name!r} in '{param}'.", f"{where}.name"
            )
        names.add(name)
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, Mapping):
            return Problem(
                "invalid_type",
                f"'{where}.parameters' must be a JSON schema object.",
                f"{where}.parameters",
            )
    return None


def tool_choice_problem(choice: object, param: str) -> Problem | None:
    if choice is None or choice in ("auto", "none", "required"):
        return None
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        if isinstance(_chosen_name(choice), str):
            return None
        return Problem(
            "missing_required_parameter", f"'{param}.name' is required.", f"{param}.name"
        )
    return Problem(
        "invalid_value",
        f"Invalid value: {choice!r}. Supported values are: 'auto', 'none', 'required', or "
        "{'type': 'function', 'name': ...}.",
        param,
    )


def _chosen_name(choice: Mapping[str, Any]) -> object:
    # SDK 1.3.1 sends {"type": "function", "name": N}; the docstring shows {"function": {"name"}}.
    function = choice.get("function")
    if isinstance(function, Mapping):
        return function.get("name")
    return choice.get("name")


def named_choice(choice: object) -> str | None:
    """The function a ``tool_choice`` names, if it names one."""
    if isinstance(choice, Mapping):
        name = _chosen_name(choice)
        return name if isinstance(name, str) else None
    return None


def choose_tool(
    tools: Sequence[Mapping[str, Any]],
    choice: object,
    *,
    turn_role: str | None,
    turn_text: str | None,
    instructions: Iterable[str],
) -> Mapping[str, Any] | None:
    """The tool to call now, or None to speak.

    ``turn_role`` is the latest turn's: ``"user"``, ``"system"``, ``"tool"`` (a function
    call's output) or None (nothing yet).
    """
    if not tools or choice == "none":
        return None
    named = named_choice(choice)
    if named is not None:
        return next((tool for tool in tools if tool.get("name") == named), None)
    text = turn_text or ""
    picked: Mapping[str, Any] | None = None
    if turn_role in ("user", "system"):
        picked = next((tool for tool in tools if _names(tool, text)), None)
    if picked is None and turn_role == "user":
        picked = next((tool for tool in tools if _asks_for(tool, text)), None)
        if picked is None:
            rules = [rule for rule in instructions if rule]
            picked = next(
                (tool for tool in tools if any(_insists_on(tool, rule) for rule in rules)), None
            )
    if picked is None and choice == "required":
        picked = tools[0]
    return picked


def _names(tool: Mapping[str, Any], text: str) -> bool:
    name = str(tool.get("name") or "")
    spaced = name.replace("_", " ").replace("-", " ")
    return bool(name) and any(
        re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.I) for form in {name, spaced}
    )


def _topic(tool: Mapping[str, Any]) -> str | None:
    words = [
        word for word in re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", str(tool.get("name"))) if word
    ]
    if words and words[0].lower() in _VERBS:
        words = words[1:]
    return words[-1].lower() if words else None


def _asks_for(tool: Mapping[str, Any], text: str) -> bool:
    topic = _topic(tool)
    return bool(topic) and re.search(rf"\b{re.escape(topic or '')}s?\b", text, re.I) is not None


def _insists_on(tool: Mapping[str, Any], instructions: str) -> bool:
    return any(
        _names(tool, sentence) and _INSIST.search(sentence)
        for sentence in _SENTENCES.findall(instructions)
    )


# -- arguments -------------------------------------------------------------------------------


def arguments_for(tool: Mapping[str, Any], text: str | None) -> str:
    """The call's ``arguments``: a JSON object valid against the tool's ``parameters``."""
    schema = tool.get("parameters")
    value = _instance(schema, text or "", name="", depth=0) if isinstance(schema, Mapping) else {}
    if not isinstance(value, dict):
        value = {}
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _instance(schema: Mapping[str, Any], text: str, *, name: str, depth: int) -> Any:
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return _mentioned(enum, text) if _mentioned(enum, text) is not None else enum[0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and isinstance(options[0], Mapping):
            return _instance(options[0], text, name=name, depth=depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((each for each in kind if each != "null"), "null")
    if kind is None and isinstance(schema.get("properties"), Mapping):
        kind = "object"
    if kind == "object":
        return _object(schema, text, depth)
    if kind == "array":
        return _array(schema, text, name=name, depth=depth)
    if kind in ("integer", "number"):
        return _number(schema, text, integer=kind == "integer")
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string(schema, text, name=name)


def _object(schema: Mapping[str, Any], text: str, depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or depth >= _MAX_DEPTH:
        return {}
    required = schema.get("required")
    wanted = (
        {key for key in required if isinstance(key, str)} if isinstance(required, list) else set()
    )
    result: dict[str, Any] = {}
    for key, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        if key in wanted:
            result[key] = _instance(sub, text, name=key, depth=depth + 1)
        elif isinstance(sub.get("enum"), list) and _mentioned(sub["enum"], text) is not None:
            result[key] = _mentioned(sub["enum"], text)  # the text clearly gives it
    return result


def _array(schema: Mapping[str, Any], text: str, *, name: str, depth: int) -> list[Any]:
    count = schema.get("minItems")
    count = count if isinstance(count, int) and 0 < count <= 16 else 0
    items = schema.get("items")
    if not isinstance(items, Mapping) or depth >= _MAX_DEPTH:
        return [None] * count if count else []
    return [_instance(items, text, name=name, depth=depth + 1) for _ in range(count)]


def _number(schema: Mapping[str, Any], text: str, *, integer: bool) -> int | float:
    low = _bound(schema, "minimum", "exclusiveMinimum", integer, up=True)
    high = _bound(schema, "maximum", "exclusiveMaximum", integer, up=False)
    for found in _NUMBER.findall(text):
        value = float(found)
        fits = (low is None or value >= low) and (high is None or value <= high)
        if fits and (not integer or value.is_integer()):
            return int(value) if integer else value
    value = low if low is not None else (0 if high is None or high >= 0 else high)
    return int(value) if integer else float(value)


def _bound(
    schema: Mapping[str, Any], inclusive: str, exclusive: str, integer: bool, *, up: bool
) -> float | None:
    step = 1 if integer else 1e-9
    value = schema.get(inclusive)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    value = schema.get(exclusive)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) + (step if up else -step)
    return None


def _string(schema: Mapping[str, Any], text: str, *, name: str) -> str:
    hint = f"{name} {schema.get('description') or ''}".lower()
    value = ""
    if any(word in hint for word in _PLACE_WORDS):
        value = _place(text) or ""
    if not value:
        quoted = _QUOTED.search(text)
        value = quoted.group(1) if quoted else ""
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and high >= 0:
        value = value[:high]
    if isinstance(low, int) and len(value) < low:
        value += "x" * (low - len(value))
    return value


def _place(text: str) -> str | None:
    for match in _PLACE.finditer(text):
        place = match.group(1).strip()
        if place not in ("I", "A", "The"):
            return place
    return None


def _mentioned(options: Sequence[Any], text: str) -> Any:
    for option in options:
        if (
            isinstance(option, str)
            and option
            and re.search(rf"\b{re.escape(option)}\b", text, re.I)
        ):
            return option
    return None


# -- answering from a tool's output ----------------------------------------------------------


def output_reply(tool_name: str | None, call_arguments: str | None, output: str) -> str:
    """What the model says once a tool has answered: the facts of its output.

    ``get_weather`` + ``{"location": "Seattle"}`` + ``{"condition": "sunny", "temp_c": 25}``
    gives ``Here is the weather for Seattle: condition sunny, temp c 25.``
    """
    topic = _topic({"name": tool_name}) if tool_name else None
    words = [w for w in re.split(r"[_\-\s]+", tool_name or "") if w]
    if words and words[0].lower() in _VERBS:
        words = words[1:]
    subject = _first_string(call_arguments)
    facts = _facts(output, exclude=subject)
    head = f"Here is the {' '.join(words).lower() or topic or 'result'}"
    if subject:
        head += f" for {subject}"
    return f"{head}: {facts}." if facts else f"{head}."


def _first_string(arguments: str | None) -> str | None:
    try:
        parsed = json.loads(arguments) if arguments else None
    except ValueError:
        return None
    if isinstance(parsed, dict):
        return next((v for v in parsed.values() if isinstance(v, str) and v.strip()), None)
    return None


def _facts(output: str, *, exclude: str | None) -> str:
    try:
        parsed = json.loads(output)
    except ValueError:
        parsed = output
    if isinstance(parsed, dict):
        pairs = [
            f"{str(key).replace('_', ' ')} {_scalar(value)}"
            for key, value in parsed.items()
            if _scalar(value) is not None and _scalar(value) != exclude
        ]
        return ", ".join(pairs)[:400]
    text = _scalar(parsed)
    if text is None:
        text = json.dumps(parsed, ensure_ascii=False)
    return text.strip().rstrip(".")[:400]


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None
