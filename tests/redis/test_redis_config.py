"""Bad keys, TTLs, timeouts and clients fail at construction with typed errors that say what
to pass instead. None of these need a running server (no command is sent)."""

from __future__ import annotations

import subprocess
import sys
import traceback
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

import voicelive_proactive as vp


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=1)  # never used: construction sends nothing
    yield client
    await client.aclose()


def build(client: aioredis.Redis, **kwargs: Any) -> vp.RedisOnceGuard:
    return vp.RedisOnceGuard(client, **{"key": "greeted:call-42", "ttl": 60, **kwargs})


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("greeted:None", "'None'"),
        ("None", "'None'"),
        ("greeted:None:tenant-1", "'None'"),
        ("greeted-None", "'None'"),
        ("greeted:null", "'null'"),
        ("greeted:undefined", "'undefined'"),
        ("greeted:", "empty part"),
        ("greeted/", "empty part"),
        ("greeted-", "empty part"),
        ("greeted_", "empty part"),
        (":42", "empty part"),
        ("greeted::42", "empty part"),
        ("greeted: 42", "whitespace"),
        ("greeted:42\n", "whitespace"),
        ("greeted:\t42", "whitespace"),
        ("greeted:4\x002", "control character"),
        ("greeted:42\x1b[0m", "control character"),
        ("greeted:\u200b42", "control character"),  # zero-width space: invisible in logs
        ("greeted:" + "x" * vp.MAX_GUARD_KEY_CHARS, "characters"),
    ],
)
def test_bad_keys_are_refused_with_advice(client: aioredis.Redis, key: str, says: str) -> None:
    with pytest.raises(vp.GuardKeyError) as caught:
        build(client, key=key)
    message = str(caught.value)
    assert says in message
    assert 'key=f"greeted:{call_id}"' in message  # what to pass instead
    assert isinstance(caught.value, vp.ConfigurationError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("key", [None, 42, b"greeted:42", ["greeted", 42]])
def test_a_key_must_be_a_str(client: aioredis.Redis, key: object) -> None:
    with pytest.raises(vp.GuardKeyError, match="must be a str"):
        build(client, key=key)


@pytest.mark.parametrize(
    "key",
    [
        "greeted:42",
        "greeted:3f2b8c1e-8a4b-4c51-9a7e-2f0f5e5b9f10",
        "greeted:+15551234567",
        "tenant/acme:call:CA1234567890abcdef",
        "greeted:Nonetheless",
        "greeted:call.None2",
        "greeted:ümlaut-名前",
        "g" * vp.MAX_GUARD_KEY_CHARS,
    ],
)
def test_real_keys_are_accepted(client: aioredis.Redis, key: str) -> None:
    assert build(client, key=key).key == key


@pytest.mark.parametrize(
    ("ttl", "says"),
    [
        (0, "positive"),
        (-5, "positive"),
        (timedelta(0), "positive"),
        (timedelta(seconds=-1), "positive"),
        (True, "int number of seconds"),
        (3600.0, "int number of seconds"),
        ("3600", "int number of seconds"),
        (None, "int number of seconds"),
        (86_400_000, "not milliseconds"),  # a day in ms, passed as seconds
        (timedelta(days=367), "not milliseconds"),
    ],
)
def test_bad_ttls(client: aioredis.Redis, ttl: object, says: str) -> None:
    with pytest.raises(vp.ConfigurationError, match=says):
        build(client, ttl=ttl)


def test_good_ttls(client: aioredis.Redis) -> None:
    assert build(client, ttl=1).ttl == timedelta(seconds=1)
    assert build(client, ttl=timedelta(hours=24)).ttl == timedelta(hours=24)
    assert build(client, ttl=vp.MAX_GUARD_TTL).ttl == vp.MAX_GUARD_TTL
    assert build(client, ttl=timedelta(microseconds=1)).ttl == timedelta(milliseconds=1)


@pytest.mark.parametrize("timeout", [0, -1, 0.0, 31, float("nan"), float("inf"), True, "1"])
def test_bad_timeouts(client: aioredis.Redis, timeout: object) -> None:
    with pytest.raises(vp.ConfigurationError, match="timeout must be"):
        build(client, timeout=timeout)


def test_timeout_default_and_custom(client: aioredis.Redis) -> None:
    assert build(client).timeout == 0.5
    assert build(client, timeout=2).timeout == 2.0


@pytest.mark.parametrize("on_error", ["raise", "GREET", None, True])
def test_bad_on_error(client: aioredis.Redis, on_error: object) -> None:
    with pytest.raises(vp.ConfigurationError, match=r"on_error must be one of \('greet', 'skip'\)"):
        build(client, on_error=on_error)


def test_on_error_defaults_to_greet(client: aioredis.Redis) -> None:
    assert build(client).on_error == "greet"
    assert build(client, on_error="skip").on_error == "skip"


@pytest.mark.parametrize("owner", ["", " ", "a\nb", "x" * 257, 7])
def test_bad_owner(client: aioredis.Redis, owner: object) -> None:
    with pytest.raises(vp.ConfigurationError, match="owner must be"):
        build(client, owner=owner)


def test_a_blocking_client_is_refused() -> None:
    sync_client = redis.Redis(port=1)
    try:
        with pytest.raises(vp.ConfigurationError, match=r"asyncio client.*redis\.asyncio\.Redis"):
            vp.RedisOnceGuard(sync_client, key="greeted:1", ttl=60)  # type: ignore[arg-type]
    finally:
        sync_client.close()


@pytest.mark.parametrize("not_a_client", [None, "redis://127.0.0.1", object()])
def test_a_non_client_is_refused(not_a_client: object) -> None:
    with pytest.raises(vp.ConfigurationError, match="from_url"):
        vp.RedisOnceGuard(not_a_client, key="greeted:1", ttl=60)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://:hunter2@127.0.0.1:6379/0",
        "127.0.0.1:6379",
        "redis://:hunter2@127.0.0.1:notaport/0",
        "redis://:hunter2@127.0.0.1:6379/0?db=x",
    ],
)
def test_bad_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(vp.ConfigurationError) as caught:
        vp.RedisOnceGuard.from_url(url, key="greeted:1", ttl=60)
    assert "redis://" in str(caught.value)  # says what a URL looks like
    assert "hunter2" not in "".join(traceback.format_exception(caught.value))


def test_from_url_checks_the_key_before_building_a_client() -> None:
    with pytest.raises(vp.GuardKeyError):
        vp.RedisOnceGuard.from_url("redis://127.0.0.1:6379/0", key="greeted:None", ttl=60)


def test_importing_the_library_never_needs_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import voicelive_proactive as vp\n"
        "try:\n"
        "    vp.RedisOnceGuard.from_url('redis://127.0.0.1:6379/0', key='greeted:1', ttl=60)\n"
        "except vp.ConfigurationError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ERR" in out.stdout
    assert "voicelive-proactive[redis]" in out.stdout
