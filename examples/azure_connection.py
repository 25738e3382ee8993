"""Moving to real Azure: the same greeting, with your endpoint and credentials.

Set the environment, then run it:

    export AZURE_VOICELIVE_ENDPOINT=https://<your-resource>.services.ai.azure.com/
    export AZURE_VOICELIVE_API_KEY=<key>     # or leave it unset and sign in (az login):
                                             # DefaultAzureCredential is used instead
    python examples/azure_connection.py

``AZURE_VOICELIVE_API_VERSION`` overrides the API version; a word-for-word greeting
(``pre_generated_assistant_message``) needs ``2026-01-01-preview`` or later, and the SDK's
default is later than that. With no endpoint set, it runs against the local emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

API_VERSION = os.environ.get("AZURE_VOICELIVE_API_VERSION", "2026-07-15")


async def main() -> vp.GreetingOutcome:
    async with contextlib.AsyncExitStack() as stack:
        endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT")
        credential: Any
        if endpoint:
            vp.check_endpoint(endpoint)  # refuses plain http:// to a remote host
            key = os.environ.get("AZURE_VOICELIVE_API_KEY")
            if key:
                credential = AzureKeyCredential(key)
                print(f"connecting to {endpoint} with an API key")
            else:
                from azure.identity.aio import DefaultAzureCredential

                credential = await stack.enter_async_context(DefaultAzureCredential())
                print(f"connecting to {endpoint} with DefaultAzureCredential")
        else:
            emulator = await stack.enter_async_context(Emulator())
            endpoint, credential = emulator.endpoint, AzureKeyCredential(emulator.api_key)
            print(f"(no AZURE_VOICELIVE_ENDPOINT set: using the local emulator at {endpoint})")
        conn = await stack.enter_async_context(
            connect(
                endpoint=endpoint,
                credential=credential,
                model=os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime"),
                api_version=API_VERSION,
            )
        )
        await conn.session.update(
            session={
                "modalities": ["text", "audio"],
                "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
                "turn_detection": {"type": "server_vad"},
            }
        )
        proactive = await stack.enter_async_context(
            vp.ProactiveSession(
                conn,
                # Spoken word for word; if the service refuses that (an older api-version),
                # the model is asked to say it instead.
                greeting=vp.StaticGreeting("Hi, thanks for calling Contoso!")
                | vp.LLMGreeting("Greet the caller warmly and briefly on behalf of Contoso."),
                audio=vp.NullAudioIO(),
            )
        )
        async for event in conn:
            await proactive.handle(event)
            if proactive.finished:
                break
    outcome = proactive.outcome
    print(f"api-version {API_VERSION}: greeting {outcome.status.value}: {outcome.transcript!r}")
    return outcome


if __name__ == "__main__":
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
