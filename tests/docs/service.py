"""The service the docs' Azure pages talk to: an emulator, and Entra ID on this machine.

``python -m tests.docs.service`` (from the repository) runs an emulator as fast as it goes
and a managed identity endpoint (see ``tests/managed_identity.py``) whose token the emulator
accepts, then prints one line, ``endpoint=... api_key=... identity_endpoint=...
identity_header=...``, and serves until SIGTERM or SIGINT. With those four values in
``AZURE_VOICELIVE_ENDPOINT``, ``AZURE_VOICELIVE_API_KEY``, ``IDENTITY_ENDPOINT`` and
``IDENTITY_HEADER``, a page's API-key block and its ``DefaultAzureCredential`` block both run
as written.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from tests.managed_identity import ManagedIdentityEndpoint
from voicelive_proactive.emulator import Emulator


async def serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    async with (
        ManagedIdentityEndpoint() as identity,
        Emulator(pace=0, record=False, bearer_tokens=[identity.token]) as emu,
    ):
        print(
            f"endpoint={emu.endpoint} api_key={emu.api_key} "
            f"identity_endpoint={identity.url} identity_header={identity.secret}",
            flush=True,
        )
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve())
