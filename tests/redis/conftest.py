"""A real ``redis-server`` for the Redis guard's tests: loopback, no persistence, own temp dir.

``make test`` installs the Debian package (``make system-deps``); without it, the tests that
need a server skip and say so.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

REDIS_SERVER = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin")
START_TIMEOUT = 20.0


class RedisServer:
    """One ``redis-server`` process on a free loopback port."""

    def __init__(self, workdir: Path, *, password: str | None = None) -> None:
        assert REDIS_SERVER is not None
        self.workdir = workdir
        self.password = password
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(host="127.0.0.1", port=self.port, password=self.password)

    def start(self) -> RedisServer:
        for _ in range(5):  # another process may grab the free port before redis binds it
            self.port = _free_port()
            args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
            args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
            args += ["--logfile", str(self.workdir / f"redis-{self.port}.log")]
            if self.password:
                args += ["--requirepass", self.password]
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL)
            if self._wait_for_pong():
                return self
            self.stop()
        raise RuntimeError(f"redis-server did not start; see the logs in {self.workdir}")

    def stop(self) -> None:
        """Kill it (as a crash would) and wait until the port is closed."""
        if self._proc is None:
            return
        self.resume()
        self._proc.kill()
        self._proc.wait(timeout=START_TIMEOUT)
        self._proc = None

    def pause(self) -> None:
        """Freeze it: connections are accepted by the kernel but nothing is answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)

    def _wait_for_pong(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        ping = b"PING\r\n" if not self.password else f"AUTH {self.password}\r\nPING\r\n".encode()
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(ping)
                    reply = b""
                    while b"+PONG" not in reply:
                        chunk = sock.recv(64)
                        if not chunk:
                            break
                        reply += chunk
                    if b"+PONG" in reply:
                        return True
            except OSError:
                pass
            time.sleep(0.02)  # polling for readiness, not a timing assertion
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _require_redis_server() -> None:
    if REDIS_SERVER is None:
        pytest.skip(
            "redis-server not found: install it (make system-deps, or apt-get install "
            "redis-server) to run the Redis guard tests against a real server"
        )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A server shared by the tests that never stop it (each test uses its own keys)."""
    _require_redis_server()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start private servers, for tests that stop, freeze or password-protect them."""
    _require_redis_server()
    servers: list[RedisServer] = []

    def start(*, password: str | None = None) -> RedisServer:
        server = RedisServer(tmp_path, password=password).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """An asyncio client the test owns (a guard built from it must not close it)."""
    client = redis_server.client()
    yield client
    await client.aclose()


@pytest.fixture
def key() -> str:
    """A fresh conversation key, so tests sharing a server never see each other's keys."""
    return f"greeted:{uuid.uuid4().hex}"
