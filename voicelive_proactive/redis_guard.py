"""``RedisOnceGuard``: greet once per conversation, across workers and reconnects.

A phone call outlives its WebSocket: when the socket drops and the caller is reconnected to
another worker, that worker must not greet again. The guard keeps the "already greeted" fact
in Redis under a key the app chooses (``greeted:{call_id}``), set with one atomic
``SET key value NX EX ttl``.

This module imports ``redis`` only when a guard is built, so importing the library never
needs it (``pip install 'voicelive-proactive[redis]'``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import os
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, get_args
from urllib.parse import urlsplit

from .errors import ConfigurationError, ProactiveError
from .guard import GuardResult

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

__all__ = [
    "DEFAULT_REDIS_TIMEOUT",
    "MAX_GUARD_KEY_CHARS",
    "MAX_GUARD_TTL",
    "GuardKeyError",
    "GuardUnavailableError",
    "OnError",
    "RedisOnceGuard",
]

log = logging.getLogger("voicelive_proactive")

OnError = Literal["greet", "skip"]
"""What the guard answers when Redis fails: greet anyway, or skip the greeting."""

#: Seconds a Redis round trip may take before the guard gives up (loopback: ~0.1 ms).
DEFAULT_REDIS_TIMEOUT: Final = 0.5
_MAX_TIMEOUT: Final = 30.0
#: The longest key accepted; real conversation keys are a prefix and an id.
MAX_GUARD_KEY_CHARS: Final = 512
#: The longest TTL accepted: a conversation, not a lifetime (and ms passed as s stand out).
MAX_GUARD_TTL: Final = timedelta(days=366)
_OWNER_MAX_CHARS: Final = 256
_SCHEMES: Final = ("redis", "rediss", "unix")

# What an f-string renders for a missing id: f"greeted:{None}", JSON null, JS undefined.
_MISSING_ID = re.compile(r"(?<![A-Za-z0-9])(None|null|undefined)(?![A-Za-z0-9])")
# A key that ends on a separator lost the value that should follow it (f"greeted:{''}"),
# and one that starts on a separator lost its prefix.
_TRAILING: Final = ":/|#=-_."
_LEADING: Final = ":/|#="
# The parts of a key: an id is what follows the last of these (base64 has "/" in it).
_KEY_SEPARATORS = re.compile(r"[:|#]")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# Query parameters that carry a secret (redis-py reads ?password=...): masked in messages.
_SECRET_QUERY = re.compile(r"(?i)((?:^|[&;])[^=&;]*(?:password|secret|token)[^=&;]*=)[^&;]*")


class GuardKeyError(ConfigurationError):
    """The guard's key cannot name one conversation; the message says what to pass."""


class GuardUnavailableError(ProactiveError):
    """Redis did not answer a guard's :meth:`~RedisOnceGuard.reset` (down, slow or refused)."""


_T = TypeVar("_T")


class RedisOnceGuard:
    """Says yes once per conversation, across processes, machines and reconnects.

    ``try_acquire()`` sets ``key`` in Redis with one ``SET key value NX EX ttl``: the caller
    that set it gets :attr:`GuardResult.ACQUIRED` and greets; every other caller, on any
    worker, gets :attr:`GuardResult.TAKEN` (and the session speaks its ``resume_greeting``,
    if it has one) until the key expires or :meth:`reset` deletes it.

    Args:
        client: A ``redis.asyncio.Redis`` (or ``RedisCluster``) the app owns; the guard never
            closes it. Use :meth:`from_url` to let the guard build and own one.
        key: Names the conversation, e.g. ``f"greeted:{call_id}"``: a call or conversation
            id the app controls, never a socket or session id (those change on reconnect).
        ttl: How long the conversation counts as greeted: ``int`` seconds or a
            ``timedelta``. Make it longer than the longest call.
        on_error: When Redis fails or times out: ``"greet"`` (the default) answers
            ``ACQUIRED``, because dead air at the start of a call is worse than a greeting
            heard twice after a rare failover; ``"skip"`` answers ``UNAVAILABLE``.
        timeout: Seconds the whole acquisition may take (default 0.5) before ``on_error``
            applies; the guard never hangs the greeting on a slow Redis.
        owner: Who is greeting, stored in the value for debugging (default ``host:pid``).
    """

    def __init__(
        self,
        client: Redis | RedisCluster,
        *,
        key: str,
        ttl: int | timedelta,
        on_error: OnError = "greet",
        timeout: float = DEFAULT_REDIS_TIMEOUT,
        owner: str | None = None,
    ) -> None:
        self._key = check_guard_key(key)
        self._ttl = _check_ttl(ttl)
        self._on_error = _check_on_error(on_error)
        self._timeout = _check_timeout(timeout)
        self._owner = _check_owner(owner)
        _check_client(client)
        self._client = client
        self._owns_client = False
        self._closed = False
        self._password = _password_of(client)
        # Until this monotonic time, this guard object knows it already said yes: if Redis
        # fails then, "taken" is a fact, not a guess.
        self._granted_until: float | None = None
        self._token: str | None = None  # the token of this guard's own yes

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key: str,
        ttl: int | timedelta,
        on_error: OnError = "greet",
        timeout: float = DEFAULT_REDIS_TIMEOUT,
        owner: str | None = None,
        **client_options: Any,
    ) -> RedisOnceGuard:
        """Build a guard with its own client for ``url`` (``redis://``, ``rediss://``,
        ``unix://``); :meth:`aclose` closes it.

        The client's socket and connect timeouts are set to ``timeout``, and it retries a
        broken connection once, at once (a pooled socket Redis closed during a failover).
        ``client_options`` go to ``redis.asyncio.Redis.from_url`` and override these.
        """
        # Check everything before building a client, so a bad argument leaks nothing.
        key = check_guard_key(key)
        ttl_ms = _check_ttl(ttl)
        _check_on_error(on_error)
        timeout = _check_timeout(timeout)
        _check_owner(owner)
        safe_url = _check_url(url)
        aioredis = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 1),
            **client_options,
        }
        try:
            client = aioredis.Redis.from_url(url, **options)
        except (ValueError, TypeError) as exc:
            # Re-raised without the original: its message may quote the URL.
            raise ConfigurationError(
                f"Cannot use the Redis URL {safe_url} ({type(exc).__name__}); expected "
                "redis://[user:password@]host[:port][/db], rediss://... or unix:///path."
            ) from None
        guard = cls(
            client,
            key=key,
            ttl=timedelta(milliseconds=ttl_ms),
            on_error=on_error,
            timeout=timeout,
            owner=owner,
        )
        guard._owns_client = True
        return guard

    # ------------------------------------------------------------------ the seam

    async def try_acquire(self) -> GuardResult:
        """``ACQUIRED`` if this call set the key, ``TAKEN`` if it was already set,
        ``UNAVAILABLE`` if Redis failed and ``on_error="skip"``. Never raises for Redis
        faults and returns within ``timeout``."""
        self._check_open()
        token = secrets.token_hex(8)
        try:
            result = await self._bounded(self._acquire(token))
        except Exception as exc:
            if not _is_store_error(exc):
                raise
            return self._fallback(exc)
        if result is GuardResult.ACQUIRED:
            self._granted_until = time.monotonic() + self._ttl / 1000
            self._token = token
        return result

    async def release(self) -> None:
        """Give back this guard's yes, if the key still holds it: the greeting failed before
        any of it was heard, so the next connection of the conversation greets. Deletes
        only its own key (never one another worker set since); Redis faults are logged."""
        token, self._token = self._token, None
        self._granted_until = None
        if token is None or self._closed:
            return

        async def delete_if_ours() -> None:
            stored = _record(await self._client.get(self._key))
            if stored.get("token") == token:  # (a race needs the TTL to expire in between)
                await self._client.delete(self._key)

        try:
            await self._bounded(delete_if_ours())
        except Exception as exc:
            if not _is_store_error(exc):
                raise
            log.warning(
                "voicelive-proactive: could not give back guard key %r (%s); it expires "
                "with its TTL",
                self._key,
                self._describe(exc),
            )

    async def _acquire(self, token: str) -> GuardResult:
        value = json.dumps(
            {
                "by": self._owner,
                "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "token": token,
            },
            separators=(",", ":"),
        )
        # The one atomic command that decides. Whole seconds go as EX, the rest as PX.
        if self._ttl % 1000 == 0:
            was_set = await self._client.set(self._key, value, nx=True, ex=self._ttl // 1000)
        else:
            was_set = await self._client.set(self._key, value, nx=True, px=self._ttl)
        if was_set:
            log.debug("voicelive-proactive: acquired guard key %r", self._key)
            return GuardResult.ACQUIRED
        # Taken. If the client retried a SET whose first reply was lost, the key holds our
        # own token: then it was us after all. (Reading it also says who greeted, for logs.)
        stored = _record(await self._client.get(self._key))
        if stored.get("token") == token:
            log.debug("voicelive-proactive: acquired guard key %r (on a retry)", self._key)
            return GuardResult.ACQUIRED
        log.info(
            "voicelive-proactive: guard key %r already taken by %s at %s",
            self._key,
            stored.get("by", "?"),
            stored.get("at", "?"),
        )
        return GuardResult.TAKEN

    def _fallback(self, exc: BaseException) -> GuardResult:
        if self._granted_until is not None and time.monotonic() < self._granted_until:
            result = GuardResult.TAKEN  # this very guard said yes, and Redis cannot say more
            consequence = "this guard already said yes, so: taken"
        elif self._on_error == "greet":
            result = GuardResult.ACQUIRED
            consequence = 'greeting anyway (on_error="greet")'
            self._granted_until = time.monotonic() + self._ttl / 1000
        else:
            result = GuardResult.UNAVAILABLE
            consequence = 'not greeting (on_error="skip")'
        log.warning(
            "voicelive-proactive: Redis at %s failed for guard key %r (%s); %s",
            self._where(),
            self._key,
            self._describe(exc),
            consequence,
        )
        return result

    # ------------------------------------------------------------------ housekeeping

    async def holder(self) -> str | None:
        """Who acquired the key (the ``owner`` stored with it), or ``None`` if nobody has.

        Raises :class:`GuardUnavailableError` if Redis does not answer within ``timeout``.
        """
        self._check_open()
        raw = await self._call("read", lambda: self._client.get(self._key))
        if raw is None:
            return None
        by = _record(raw).get("by")
        return by if isinstance(by, str) else _text(raw)

    async def reset(self) -> None:
        """Delete the key, so the next ``try_acquire`` anywhere says yes (for a new
        conversation under the same key, or between tests).

        Raises :class:`GuardUnavailableError` if Redis does not answer within ``timeout``.
        """
        self._check_open()
        await self._call("delete", lambda: self._client.delete(self._key))
        self._granted_until = None

    async def aclose(self) -> None:
        """Close the client if the guard built it (:meth:`from_url`); a client the app
        passed stays open. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> RedisOnceGuard:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def key(self) -> str:
        """The Redis key naming the conversation."""
        return self._key

    @property
    def ttl(self) -> timedelta:
        """How long the conversation counts as greeted."""
        return timedelta(milliseconds=self._ttl)

    @property
    def on_error(self) -> OnError:
        """What the guard answers when Redis fails: ``"greet"`` or ``"skip"``."""
        return self._on_error

    @property
    def timeout(self) -> float:
        """Seconds an acquisition may take before ``on_error`` applies."""
        return self._timeout

    @property
    def owner(self) -> str:
        """Who this guard says greeted, in the value it stores."""
        return self._owner

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    def __repr__(self) -> str:
        return (
            f"RedisOnceGuard(key={self._key!r}, ttl={self._ttl / 1000:g}s, "
            f"on_error={self._on_error!r}, "
            f"timeout={self._timeout}, redis={self._where()})"
        )

    # ------------------------------------------------------------------ internals

    async def _bounded(self, awaitable: Awaitable[_T]) -> _T:
        return await asyncio.wait_for(awaitable, self._timeout)

    async def _call(self, what: str, command: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await self._bounded(command())
        except Exception as exc:
            if not _is_store_error(exc):
                raise
            raise GuardUnavailableError(
                f"Redis at {self._where()} could not {what} the guard key {self._key!r}: "
                f"{self._describe(exc)}. Check that Redis is up and reachable."
            ) from exc

    def _where(self) -> str:
        return _location(self._client)

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, asyncio.TimeoutError | TimeoutError) and not str(exc):
            text = f"no answer within {self._timeout} s"
        else:
            text = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "This RedisOnceGuard is closed (aclose() ran); build a new guard to use it."
            )


# ---------------------------------------------------------------------- validation


def check_guard_key(key: object) -> str:
    """Return ``key`` if it can name one conversation; raise :class:`GuardKeyError`."""
    advice = 'pass the conversation\'s own id, e.g. key=f"greeted:{call_id}"'
    if not isinstance(key, str):
        raise GuardKeyError(f"The guard key must be a str; got {type(key).__name__}: {advice}.")
    if not key.strip():
        raise GuardKeyError(f"The guard key is empty: {advice}.")
    if len(key) > MAX_GUARD_KEY_CHARS:
        raise GuardKeyError(
            f"The guard key is {len(key)} characters (at most {MAX_GUARD_KEY_CHARS}): {advice}, "
            "or a hash of a long id."
        )
    bad = next((c for c in key if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise GuardKeyError(
            f"The guard key {key!r} holds whitespace or a control character ({bad!r}): "
            f"{advice}, with no spaces or line breaks."
        )
    missing = _MISSING_ID.search(key)
    if missing is not None:
        raise GuardKeyError(
            f"The guard key {key!r} contains {missing.group(1)!r}, which is what an f-string "
            f"renders for a missing id; every call would share this key. Check the id is set: "
            f"{advice}."
        )
    first, last = _KEY_SEPARATORS.split(key)[0], _KEY_SEPARATORS.split(key)[-1]
    ends_on_separator = key[-1] in _TRAILING and not _is_base64_id(last)
    starts_on_separator = key[0] in _LEADING and not _is_base64_id(first)
    if ends_on_separator or starts_on_separator or "::" in key:
        raise GuardKeyError(
            f"The guard key {key!r} has an empty part (it starts or ends on a separator, or "
            f"has '::'), as when an f-string's id is an empty string: {advice}."
        )
    return key


def _is_base64_id(part: str) -> bool:
    """Whether ``part`` is an id in base64 (ACS's ``serverCallId`` is), so that a trailing
    ``=``, ``/``, ``-`` or ``_`` is part of it rather than a separator left without its value.

    Padded: a canonical base64 string ending in ``=`` (``call=`` and ``callId=`` are not:
    wrong length, or bits set that padding zeroes). Unpadded: only a long one (16 or more
    characters) that mixes character classes as encoded bytes do (upper and lower case, and
    a digit, a symbol inside or 24 characters), so that an empty f-string value after a word
    prefix (``greeted-``, ``session-``, ``CustomerSession-``) is still refused.
    """
    if len(part) < 4 or len(part) % 4 or not _BASE64.fullmatch(part):
        return False
    standard = part.replace("-", "+").replace("_", "/")
    try:
        canonical = base64.b64encode(base64.b64decode(standard, validate=True)).decode()
    except (binascii.Error, ValueError):
        return False
    if canonical != standard:
        return False
    if part.endswith("="):
        return True
    if len(part) < 16 or not any(c.isupper() for c in part):
        return False
    if not any(c.islower() for c in part):
        return False
    inner_symbol = any(c in "+/-_" for c in part[:-1])
    return len(part) >= 24 or inner_symbol or any(c.isdigit() for c in part)


def _check_ttl(ttl: object) -> int:
    """Return the TTL in whole milliseconds."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | timedelta):
        raise ConfigurationError(
            f"ttl must be an int number of seconds or a datetime.timedelta; got "
            f"{type(ttl).__name__}. For example ttl=24 * 3600 or ttl=timedelta(hours=24)."
        )
    ms = ttl * 1000 if isinstance(ttl, int) else math.ceil(ttl / timedelta(milliseconds=1))
    if ms <= 0:
        raise ConfigurationError(
            f"ttl must be positive (got {ttl!r}): how long a conversation counts as greeted, "
            "longer than your longest call, e.g. ttl=24 * 3600."
        )
    if ms > MAX_GUARD_TTL / timedelta(milliseconds=1):
        raise ConfigurationError(
            f"ttl {ttl!r} is longer than {MAX_GUARD_TTL.days} days. ttl is in seconds (not "
            "milliseconds), and should outlast one conversation, e.g. ttl=24 * 3600."
        )
    return ms


def _check_on_error(on_error: object) -> OnError:
    choices = get_args(OnError)
    if on_error not in choices:
        raise ConfigurationError(
            f"on_error must be one of {choices} (what to do when Redis fails); got {on_error!r}."
        )
    return on_error  # type: ignore[return-value]


def _check_timeout(timeout: object) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= _MAX_TIMEOUT
    ):
        raise ConfigurationError(
            f"timeout must be a number of seconds in (0, {_MAX_TIMEOUT:g}]; got {timeout!r}. "
            "It bounds how long the greeting waits for Redis: keep it short (default "
            f"{DEFAULT_REDIS_TIMEOUT})."
        )
    return float(timeout)


def _check_owner(owner: object) -> str:
    if owner is None:
        return f"{socket.gethostname()}:{os.getpid()}"
    if (
        not isinstance(owner, str)
        or not owner.strip()
        or len(owner) > _OWNER_MAX_CHARS
        or not owner.isprintable()
    ):
        raise ConfigurationError(
            f"owner must be a short printable str naming who greets (a worker or host "
            f"name, at most {_OWNER_MAX_CHARS} characters); got {owner!r}."
        )
    return owner


def _check_url(url: object) -> str:
    """Return ``url`` with any password masked (for messages); raise if it is unusable."""
    if not isinstance(url, str):
        raise ConfigurationError(
            f"url must be a str such as 'redis://127.0.0.1:6379/0'; got {type(url).__name__}."
        )
    safe = _mask_url(url)
    try:
        scheme = urlsplit(url).scheme
    except ValueError:  # e.g. an unbalanced "[" in the host
        scheme = ""
    if scheme not in _SCHEMES:
        raise ConfigurationError(
            f"The Redis URL {safe} must start with redis://, rediss:// (TLS) or unix://."
        )
    return safe


def _mask_url(url: str) -> str:
    """``url`` with its password masked, in the user info and in the query (``?password=``)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[1]}"
        query = _SECRET_QUERY.sub(r"\1***", parts.query)
        if (netloc, query) == (parts.netloc, parts.query):
            return url
        return parts._replace(netloc=netloc, query=query).geturl()
    except ValueError:
        return "<unparsable URL>"


def _check_client(client: object) -> None:
    aioredis = _import_redis()
    import redis

    if isinstance(client, aioredis.Redis | aioredis.RedisCluster):
        return
    hint = "pass a redis.asyncio.Redis (or RedisCluster), or use RedisOnceGuard.from_url(url)"
    if isinstance(client, redis.Redis | redis.RedisCluster):
        raise ConfigurationError(
            f"RedisOnceGuard needs an asyncio client, not the blocking {type(client).__name__} "
            f"(it would stall the event loop): {hint}."
        )
    raise ConfigurationError(
        f"RedisOnceGuard needs a Redis client; got {type(client).__name__}: {hint}."
    )


def _import_redis() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        raise ConfigurationError(
            "RedisOnceGuard needs the redis package: pip install 'voicelive-proactive[redis]'."
        ) from None
    return aioredis


def _is_store_error(exc: BaseException) -> bool:
    """Redis down, slow, refusing or erroring: the faults ``on_error`` is about."""
    from redis.exceptions import RedisError

    return isinstance(exc, RedisError | OSError | asyncio.TimeoutError | TimeoutError)


def _password_of(client: Any) -> str | None:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    password = kwargs.get("password") if isinstance(kwargs, dict) else None
    return password if isinstance(password, str) and password else None


def _location(client: Any) -> str:
    """Where the client points, without credentials: ``redis://host:port/db``."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not isinstance(kwargs, dict):
        return f"<{type(client).__name__}>"
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    host = kwargs.get("host", "localhost")
    host = f"[{host}]" if ":" in str(host) else host
    return f"redis://{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _text(raw: object) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _record(raw: object) -> dict[str, Any]:
    """The stored value as a dict (empty if it is not one of ours)."""
    if raw is None:
        return {}
    try:
        record = json.loads(_text(raw))
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
