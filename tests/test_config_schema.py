"""The published JSON Schema: current, valid, and agreeing with load_greeting."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import voicelive_proactive as vp
from voicelive_proactive.config import SCHEMA_PATH, greeting_json_schema, schema_text
from voicelive_proactive.config._files import tomllib  # tomli on Python 3.10

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_schema_is_current() -> None:
    shipped = resources.files("voicelive_proactive").joinpath("greeting.schema.json")
    assert shipped.read_text(encoding="utf-8") == schema_text(), (
        "greeting.schema.json is stale; regenerate it with "
        "`voicelive-proactive schema > voicelive_proactive/greeting.schema.json`"
    )
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def validator() -> jsonschema.Draft202012Validator:
    schema = greeting_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_example_file_follows_the_schema() -> None:
    text = (ROOT / "examples" / "greeting.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema ../voicelive_proactive/greeting.schema.json")
    assert (ROOT / "examples" / "../voicelive_proactive/greeting.schema.json").exists()
    validator().validate(tomllib.loads(text))


VALID: list[dict[str, Any]] = [
    {"greeting": {"type": "static", "text": "Hi"}},
    {"$schema": "./greeting.schema.json", "greeting": {"type": "llm", "instructions": "Greet."}},
    {"greeting": {"type": "random", "choices": ["a"], "seed": 3}},
    {
        "greeting": {
            "type": "fallback",
            "chain": [{"type": "template", "text": "Hi {name}"}],
            "locales": {"de_AT": {"type": "static", "text": "Servus"}},
        }
    },
]

# Shapes an editor can flag as you type (the content rules are the strategies' own).
INVALID: list[dict[str, Any]] = [
    {},
    {"greeting": {"type": "rnd", "choices": ["a"]}},
    {"greeting": {"type": "static"}},
    {"greeting": {"type": "static", "text": "Hi", "txt": "typo"}},
    {"greeting": {"type": "random", "choices": "Hello"}},
    {"greeting": {"type": "random", "choices": []}},
    {"greeting": {"type": "fallback", "chain": []}},
    {"greeting": {"type": "static", "text": ""}},
    {
        "greeting": {
            "type": "static",
            "text": "Hi",
            "locales": {"de DE": {"type": "static", "text": "x"}},
        }
    },
    {"greeting": {"type": "static", "text": "Hi"}, "extra": 1},
]


@pytest.mark.parametrize("document", VALID)
def test_valid_documents_pass_both(document: dict[str, Any]) -> None:
    validator().validate(document)
    vp.load_greeting(document)


@pytest.mark.parametrize("document", INVALID)
def test_invalid_shapes_fail_both(document: dict[str, Any]) -> None:
    assert list(validator().iter_errors(document))
    with pytest.raises(vp.ConfigValidationError):
        vp.load_greeting(document)


def test_every_kind_and_its_keys_are_described() -> None:
    schema = greeting_json_schema()
    kinds = {
        definition["properties"]["type"]["const"]: definition
        for definition in schema["$defs"].values()
    }
    assert set(kinds) == {"static", "template", "random", "llm", "fallback"}
    for definition in kinds.values():
        assert definition["description"]
        assert definition["additionalProperties"] is False
        for name, prop in definition["properties"].items():
            assert name == "type" or prop.get("description"), name


def test_the_schema_is_plain_json() -> None:
    assert json.loads(schema_text()) == greeting_json_schema()
