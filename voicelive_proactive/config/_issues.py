"""Turn pydantic's validation errors into :class:`ConfigIssue` s: a path and what to fix."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from voicelive_proactive.config._models import KINDS, RuleError
from voicelive_proactive.errors import ConfigIssue

__all__ = ["issues_from", "kind_name"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KIND_LIST = ", ".join(KINDS)
# How TOML and JSON users call the values they wrote.
_KIND_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    tuple: "an array",
    dict: "a table",
    type(None): "null",
}


def kind_name(value: object) -> str:
    """``"a table"``, ``"an integer"``...: the value's kind as a config author knows it."""
    for kind, name in _KIND_NAMES.items():
        if type(value) is kind:
            return name
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def _walk(data: Any, loc: Sequence[int | str]) -> tuple[str, Any, Any]:
    """Follow ``loc`` through the input: the readable path, the node reached, its parent.

    Pydantic puts the discriminator's tag into ``loc`` right after each place that holds a
    strategy (``greeting``, a ``chain`` entry, a ``locales`` entry); those tags are skipped.
    """
    path, node, parent = "", data, None
    role, tag_pending = "document", False
    for item in loc:
        if tag_pending and isinstance(node, Mapping) and item == str(node.get("type")):
            tag_pending = False
            continue
        tag_pending = False
        if item == "[key]":  # pydantic's marker for "the key itself", not a value
            continue
        parent = node
        if isinstance(item, int) and not isinstance(node, Mapping):
            path += f"[{item}]"
            node = node[item] if isinstance(node, Sequence) and 0 <= item < len(node) else None
        else:
            path += ("." if path else "") + _key(str(item))
            node = node.get(item) if isinstance(node, Mapping) else None
        if (role, item) == ("document", "greeting") or role in ("chain", "locales"):
            role, tag_pending = "strategy", True
        elif role == "strategy" and item in ("chain", "locales"):
            role = str(item)
        else:
            role = "value"
    return path or "(document)", node, parent


def _message(error: ErrorDetails, node: Any, parent: Any) -> tuple[str, Exception | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    where = parent.get("type") if isinstance(parent, Mapping) else None
    what = f"a {where} greeting" if isinstance(where, str) and where in KINDS else "this table"
    name = error["loc"][-1] if error["loc"] else ""
    if kind == "value_error" and isinstance(ctx.get("error"), RuleError):
        rule: RuleError = ctx["error"]
        return str(rule.error), rule.error
    if kind == "union_tag_invalid":
        tag = node.get("type") if isinstance(node, Mapping) else ctx.get("tag")
        if not isinstance(tag, str):
            return f"type must be a string, one of {_KIND_LIST}; not {kind_name(tag)}.", None
        return f"unknown type {tag!r}; use one of {_KIND_LIST}.", None
    if kind == "union_tag_not_found":
        return f"has no type; add type = one of {_KIND_LIST}.", None
    if kind == "missing":
        return f"{what} needs {name!r}; add it.", None
    if kind == "extra_forbidden":
        allowed = _allowed_keys(parent)
        close = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{what} has no key {name!r}; {hint}its keys are {', '.join(allowed)}.", None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table (a JSON object), not {kind_name(error['input'])}.", None
    expected = {"string_type": "a string", "int_type": "an integer", "list_type": "an array"}
    if kind == "string_type" and error["loc"][-1:] == ("[key]",):
        return f"keys must be strings, not {kind_name(error['input'])}.", None
    if kind in expected:
        return f"must be {expected[kind]}, not {kind_name(error['input'])}.", None
    return f"{error['msg']}.", None


def _allowed_keys(node: Any) -> list[str]:
    if isinstance(node, Mapping) and node.get("type") in KINDS:
        return list(KINDS[node["type"]].model_fields)
    return ["$schema", "greeting"]


def issues_from(error: ValidationError, data: Any) -> tuple[ConfigIssue, ...]:
    """One issue per pydantic error, located in ``data`` (the input that failed)."""
    issues = []
    for detail in error.errors():
        path, node, parent = _walk(data, detail["loc"])
        message, cause = _message(detail, node, parent)
        rule = (detail.get("ctx") or {}).get("error")
        if isinstance(rule, RuleError) and rule.key is not None:
            path += "." + rule.key
        issues.append(ConfigIssue(path, message, cause))
    return tuple(issues)
