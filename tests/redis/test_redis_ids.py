"""Keys made of real call ids (base64 with ``=`` padding, as ACS's serverCallId) and URLs that
carry the password as ``?password=``: both against a real redis-server."""

from __future__ import annotations

import asyncio
import base64
import logging
import traceback
import uuid
from collections.abc import Callable

import pytest

import voicelive_proactive as vp

from .conftest import RedisServer

PASSWORD = "hunter2-qu3ry"
NO_HANG = 20.0  # only proves the call returns; the guard's own timeout is far shorter
Factory = Callable[..., RedisServer]


def padded(raw: bytes, encode: Callable[[bytes], bytes] = base64.b64encode) -> str:
    """``raw`` in base64, made long enough (a byte count not divisible by 3) to need "="."""
    while len(raw) % 3 == 0:
        raw += b"&"
    return encode(raw).decode()


# The shape of an ACS serverCallId: a URL, base64-encoded, padded with "=".
SERVER_CALL_ID = padded(
    b"https://api.flightproxy.skype.com/api/v2/cp/conv-uswe-01.conv.skype.com/conv/"
    + uuid.uuid4().hex.encode()
    + b"?i=4&e=63"
)


def base64_ids() -> list[str]:
    ids = [
        base64.b64encode(uuid.uuid4().bytes).decode(),  # 16 bytes: "=="
        base64.b64encode(uuid.uuid4().bytes + b"\x01").decode(),  # 17 bytes: "="
        padded(b"\xfb\xff" + uuid.uuid4().bytes, base64.urlsafe_b64encode),  # "-" and "_"
    ]
    assert all(i.endswith("=") for i in ids)
    return ids


async def test_a_padded_base64_call_id_is_a_key(redis_server: RedisServer) -> None:
    for call_id in [SERVER_CALL_ID, *base64_ids()]:
        assert call_id.endswith("=")
        key = f"greeted:{call_id}"
        first = vp.RedisOnceGuard.from_url(redis_server.url, key=key, ttl=60)
        second = vp.RedisOnceGuard.from_url(redis_server.url, key=key, ttl=60)
        async with first, second:
            assert await asyncio.wait_for(first.try_acquire(), NO_HANG) is vp.GuardResult.ACQUIRED
            assert await asyncio.wait_for(second.try_acquire(), NO_HANG) is vp.GuardResult.TAKEN
        client = redis_server.client()
        async with client:
            assert await client.exists(key) == 1  # stored under exactly that key
            await client.delete(key)


@pytest.mark.parametrize(
    "key",
    [
        "greeted:call=",  # f"greeted:call={call_id}" with an empty id
        "greeted:id=",
        "call_id=",
        "greeted:callId=",
        "greeted:session-",
        "greeted:CustomerSession-",
        "=",
    ],
)
def test_an_empty_value_before_the_padding_is_still_refused(key: str) -> None:
    with pytest.raises(vp.GuardKeyError, match="empty part"):
        vp.RedisOnceGuard.from_url("redis://127.0.0.1:6379/0", key=key, ttl=60)


async def test_a_query_password_is_used_and_never_shown(
    redis_factory: Factory, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_factory(password=PASSWORD)
    url = f"redis://127.0.0.1:{server.port}/0?password={PASSWORD}"
    async with vp.RedisOnceGuard.from_url(url, key=key, ttl=60) as guard:
        assert await asyncio.wait_for(guard.try_acquire(), NO_HANG) is vp.GuardResult.ACQUIRED
        assert PASSWORD not in repr(guard)
    wrong = f"redis://127.0.0.1:{server.port}/0?password=wrong-{PASSWORD}"
    async with vp.RedisOnceGuard.from_url(wrong, key=key, ttl=60, on_error="skip") as guard:
        with caplog.at_level(logging.WARNING, logger="voicelive_proactive"):
            assert await asyncio.wait_for(guard.try_acquire(), NO_HANG) is (
                vp.GuardResult.UNAVAILABLE
            )
    assert caplog.records and PASSWORD not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/0?password={pw}",  # wrong scheme
        "redis://127.0.0.1:6379/0?db=x&password={pw}",  # redis-py cannot read db=x
        "redis://127.0.0.1:6379/0?ssl_password={pw}&db=x",
        "redis://127.0.0.1:notaport/0?Password={pw}",
        "redis://[::1/0?password={pw}",  # unparsable
    ],
)
def test_an_unusable_url_never_shows_a_query_password(url: str) -> None:
    with pytest.raises(vp.ConfigurationError) as caught:
        vp.RedisOnceGuard.from_url(url.format(pw=PASSWORD), key="greeted:1", ttl=60)
    assert "redis://" in str(caught.value)  # says what a URL looks like
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))
