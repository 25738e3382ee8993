"""Entra ID: the real ``DefaultAzureCredential`` and SDK, a bearer token, the emulator.

``docs/how-to/azure.md`` shows ``DefaultAzureCredential`` passed to ``connect`` as the
production way to sign in. Here it gets its token from a managed identity endpoint on
loopback (``tests/managed_identity.py``), as it would on App Service, and the emulator
accepts the connection only with that token as ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.aio import connect
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from tests.managed_identity import COMPETING_VARIABLES, ManagedIdentityEndpoint, TokenRequest
from voicelive_proactive.emulator import Emulator


@pytest.fixture
async def identity(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ManagedIdentityEndpoint]:
    for name in COMPETING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    async with ManagedIdentityEndpoint() as endpoint:
        for name, value in endpoint.environment.items():
            monkeypatch.setenv(name, value)
        yield endpoint


async def test_default_azure_credential_greets_through_a_bearer_token(
    identity: ManagedIdentityEndpoint,
) -> None:
    async with (
        Emulator(pace=0, bearer_tokens=[identity.token]) as emu,
        DefaultAzureCredential() as credential,
        connect(endpoint=emu.endpoint, credential=credential, model="gpt-realtime") as conn,
    ):
        await conn.session.update(session={"modalities": ["text", "audio"]})
        async with vp.ProactiveSession(conn, greeting="Hello!", audio=None) as proactive:
            async for event in conn:
                await proactive.handle(event)
                if proactive.finished:
                    break
    assert proactive.outcome.status is vp.GreetingStatus.SENT
    assert proactive.outcome.transcript == "Hello!"
    # The SDK asked for a token for Voice Live's scope (https://ai.azure.com/.default) ...
    assert identity.requests == [TokenRequest("https://ai.azure.com", identity.secret)]
    # ... and the emulator, which was given no API key by the client, let it in.
    assert len(emu.connections) == 1


async def test_the_emulator_refuses_a_bearer_token_it_was_not_given(
    identity: ManagedIdentityEndpoint,
) -> None:
    # The control: the connection above was let in because of the token, nothing else.
    async with (
        Emulator(pace=0, bearer_tokens=["some-other-token"]) as emu,
        DefaultAzureCredential() as credential,
    ):
        with pytest.raises(VoiceLiveConnectionError, match="401"):
            async with connect(endpoint=emu.endpoint, credential=credential, model="gpt-realtime"):
                pass
    assert len(identity.requests) == 1
    assert emu.connections == ()
