"""Speak from a plain thread: a webhook handler calls ``say()`` while the conversation runs.

Your app learns things on threads that are not the session's event loop: a web framework's
request thread, a queue consumer, a callback from a payment SDK. ``say()`` is safe from any
thread: it queues the speech on the session's loop and returns its ``Speech`` at once.

Here a tiny webhook (``http.server``, one thread per request) receives
``POST {"say": "..."}`` from the restaurant's kitchen system, says it, and answers with the
outcome once the service has spoken it.

python examples/say_from_thread.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import urllib.request
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator


def webhook(
    proactive: vp.ProactiveSession, loop: asyncio.AbstractEventLoop
) -> type[BaseHTTPRequestHandler]:
    """A request handler class that speaks what it is sent, on the session ``proactive``."""

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # runs on the server's thread for this request
            text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["say"]
            speech = proactive.say(text)  # a plain call: queued on the session's loop
            # Block this thread (never the loop) until the service has spoken it.
            waiting = asyncio.run_coroutine_threadsafe(speech.wait(timeout=30), loop)
            outcome = waiting.result()
            answer = {"status": outcome.status.value, "said": outcome.transcript}
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet, for the example
            pass

    return Webhook


def kitchen(url: str, text: str) -> dict[str, str | None]:
    """Stands in for the kitchen's system: it posts to the webhook and reads the answer."""
    request = urllib.request.Request(url, data=json.dumps({"say": text}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, str | None] = json.load(response)
    return answer


async def main() -> bool:
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn, greeting=vp.StaticGreeting("Welcome to Chez Lisa!"), audio=example_audio()
        ) as proactive,
    ):
        runner = asyncio.create_task(proactive.run())
        await proactive.wait(timeout=30)
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), webhook(proactive, asyncio.get_running_loop())
        )
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            # The post comes from another thread too, as it would from another process.
            answer = await asyncio.to_thread(kitchen, url, "Your table is ready.")
        finally:
            server.shutdown()
            server.server_close()
        runner.cancel()
    print(f"the webhook answered: {answer}")
    return answer["status"] == "sent"


# -- the connection: the same in every example --------------------------------------------
# Azure when AZURE_VOICELIVE_ENDPOINT is set (with AZURE_VOICELIVE_API_KEY, or signed in for
# DefaultAzureCredential without it); otherwise the bundled emulator, so it runs anywhere.

SESSION = {
    "modalities": ["text", "audio"],
    "instructions": "You are a helpful, concise assistant.",
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
}


@contextlib.asynccontextmanager
async def voicelive_connection() -> AsyncIterator[VoiceLiveConnection]:
    """A connected Voice Live session, configured with SESSION."""
    async with contextlib.AsyncExitStack() as stack:
        endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT")
        key = os.environ.get("AZURE_VOICELIVE_API_KEY")
        if not endpoint:
            emulator = await stack.enter_async_context(Emulator())
            endpoint, key = emulator.endpoint, emulator.api_key
            print(f"(no AZURE_VOICELIVE_ENDPOINT set: using the local emulator at {endpoint})")
        credential: AzureKeyCredential | AsyncTokenCredential
        if key:
            credential = AzureKeyCredential(key)
        else:
            credential = await stack.enter_async_context(DefaultAzureCredential())
        model = os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime")
        conn = await stack.enter_async_context(
            connect(endpoint=vp.check_endpoint(endpoint), credential=credential, model=model)
        )
        await conn.session.update(session=SESSION)
        yield conn


def example_audio() -> vp.AudioIO:
    """The sound card when there is one; otherwise a WAV file (a server has no sound card)."""
    try:
        return vp.SounddeviceAudioIO()
    except vp.AudioUnavailableError:
        path = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
        print(f"(no sound device: writing the agent's audio to {path})")
        return vp.WavAudioIO(path)


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
