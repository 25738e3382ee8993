"""Start, stop, waiting, secrets, and the standalone process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

import pytest
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from emulator_helpers import sdk, until

from voicelive_proactive.emulator import Emulator, EmulatorState


def _own_tasks(before: set[asyncio.Task[object]]) -> list[asyncio.Task[object]]:
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t not in before and t is not current]


async def test_stop_mid_response_closes_clients_and_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    emu = Emulator(pace=1.0)
    await emu.start()
    async with sdk(emu) as conn:
        await conn.response.create()
        await until(conn, "response.audio.delta")
        reader = asyncio.ensure_future(_drain(conn))
        await emu.stop()
        closed_code = await asyncio.wait_for(reader, 5)
    assert closed_code == 1001
    assert emu.connections[0].closed
    await asyncio.sleep(0)
    assert _own_tasks(before) == []
    assert emu.state is EmulatorState.STOPPED


async def _drain(conn: object) -> int | None:
    async for _ in conn:  # type: ignore[attr-defined]
        pass
    return conn._connection.close_code  # type: ignore[attr-defined,no-any-return]


async def test_a_client_leaving_mid_response_cancels_its_tasks() -> None:
    before = asyncio.all_tasks()
    async with Emulator(pace=1.0) as emu:
        async with sdk(emu) as conn:
            await conn.response.create()
            await until(conn, "response.audio.delta")
        await emu.wait_for(lambda: emu.connections[0].closed)
        await asyncio.sleep(0)
        leftovers = [t for t in _own_tasks(before) if "EmulatedConnection" in repr(t.get_coro())]
        assert leftovers == []
        assert emu.connections[0].active_response_id is None
    assert _own_tasks(before) == []


async def test_the_port_is_free_after_stop() -> None:
    async with Emulator(pace=0) as emu:
        endpoint = emu.endpoint
    with pytest.raises(VoiceLiveConnectionError):
        async with sdk_to(endpoint, emu.api_key):
            pass


def sdk_to(endpoint: str, key: str) -> object:
    from azure.ai.voicelive.aio import connect
    from azure.core.credentials import AzureKeyCredential

    return connect(endpoint=endpoint, credential=AzureKeyCredential(key), model="m")


async def test_many_sessions_at_once_share_one_synthesis() -> None:
    async with Emulator(pace=0) as emu:

        async def greet() -> bool:
            async with sdk(emu) as conn:
                await conn.response.create(
                    response={
                        "pre_generated_assistant_message": {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "text", "text": "Same greeting for all."}],
                        }
                    }
                )
                done = (await until(conn, "response.done"))[-1]
                return bool(done.response.status == "completed")

        statuses = await asyncio.gather(*(greet() for _ in range(40)))
    assert all(statuses)
    first_chunks = [
        next(event["delta"] for event in events if event["type"] == "response.audio.delta")
        for events in emu.sent
    ]
    # One synthesis, shared: every session sent the very same cached string.
    assert len({id(chunk) for chunk in first_chunks}) == 1


async def test_wait_helpers() -> None:
    async with Emulator(pace=0) as emu:
        waiting = asyncio.ensure_future(emu.wait_received("response.create", timeout=5))
        async with sdk(emu) as conn:
            await conn.response.create(event_id="evt_waited")
            received = await waiting
            sent = await emu.wait_sent("response.done", connection=-1)
            await until(conn, "response.done")
        assert received["event_id"] == "evt_waited"
        assert sent["response"]["status"] == "completed"
        with pytest.raises(TimeoutError, match=r"response\.cancel"):
            await emu.wait_received("response.cancel", timeout=0.05)
        with pytest.raises(TimeoutError):
            await emu.wait_for(lambda: False, timeout=0.05)
        assert emu.received[0][0]["type"] == "response.create"
        assert emu.sent[0][0]["type"] == "session.created"


async def test_the_key_is_generated_and_never_in_the_repr() -> None:
    emu = Emulator()
    assert len(emu.api_key) >= 24
    assert emu.api_key not in repr(emu)
    assert Emulator().api_key != emu.api_key
    async with Emulator(api_key="my-key", pace=0) as chosen:
        assert chosen.api_key == "my-key"
        assert "my-key" not in repr(chosen)
        assert chosen.endpoint in repr(chosen)


def test_non_loopback_hosts_need_allow_remote() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        Emulator("0.0.0.0")
    with pytest.raises(ValueError, match="allow_remote"):
        Emulator("example.com")
    Emulator("0.0.0.0", allow_remote=True)
    Emulator("localhost")
    Emulator("::1")


@pytest.mark.parametrize(
    "kwargs", [{"pace": -1}, {"voice": "robot"}, {"max_frame_bytes": 10}, {"api_key": ""}]
)
def test_bad_options_fail_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each message is checked by its own test
        Emulator(**kwargs)  # type: ignore[arg-type]


async def test_an_emulator_starts_once() -> None:
    emu = Emulator(pace=0)
    with pytest.raises(RuntimeError, match="new; start it first"):
        _ = emu.endpoint
    async with emu:
        with pytest.raises(RuntimeError, match="running"):
            await emu.start()
    with pytest.raises(RuntimeError, match="stopped"):
        await emu.start()
    await emu.stop()  # stopping twice is harmless


async def test_localhost_and_ipv6_loopback_work() -> None:
    async with Emulator("localhost", pace=0) as emu, sdk(emu) as conn:
        assert (await conn.recv()).type == "session.created"


async def test_standalone_process_prints_its_endpoint_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicelive_proactive.emulator",
        "--pace",
        "0",
        "--api-key",
        "standalone-key",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        fields = dict(part.split("=", 1) for part in line.split())
        assert fields["api_key"] == "standalone-key"
        assert fields["endpoint"].startswith("http://127.0.0.1:")
        async with sdk_to(fields["endpoint"], fields["api_key"]) as conn:  # type: ignore[attr-defined]
            await conn.response.create()
            assert (await until(conn, "response.done"))[-1].response.status == "completed"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_standalone_refuses_a_remote_host_without_the_flag() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicelive_proactive.emulator",
        "--host",
        "0.0.0.0",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert b"allow_remote" in stderr or b"allow-remote" in stderr


async def test_cancelling_a_waiter_cancels_it() -> None:
    async with Emulator(pace=0) as emu:
        waiting = asyncio.ensure_future(emu.wait_for(lambda: False, timeout=5))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting


async def test_a_client_that_leaves_during_the_upgrade_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An app that closes before its connect() finished (LiveKit's AgentSession.aclose() right
    # after start() does) resets the socket while the server writes the 101 response.
    import base64

    caplog.set_level(logging.ERROR)
    async with Emulator(pace=0) as emu:
        host, port = emu.endpoint.removeprefix("http://").rsplit(":", 1)
        for _ in range(3):
            _, writer = await asyncio.open_connection(host, int(port))
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (
                    f"GET /voice-live/realtime?api-version=2026-07-15 HTTP/1.1\r\nHost: {host}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    f"api-key: {emu.api_key}\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            writer.transport.abort()
        await asyncio.sleep(0.2)
        async with sdk(emu) as conn:  # and it still serves the next client
            await conn.response.create()
            await until(conn, "response.done")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
