"""The README's quickstart works as written: run it against the emulator.

It uses the default audio (the sound device), so it runs in a subprocess whose ALSA default
device is a ``file`` PCM writing to /dev/null (no sound card needed, PortAudio is real).
"""

from __future__ import annotations

import ctypes.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voicelive_proactive.testing.alsa import asoundrc

README = Path(__file__).resolve().parent.parent / "README.md"


HARNESS = """\
import asyncio, json, os, sys
from voicelive_proactive.emulator import Emulator

QUICKSTART = sys.stdin.read().replace("asyncio.run(main())", "")

async def drive() -> None:
    async with Emulator(pace=0) as emu:
        os.environ["AZURE_VOICELIVE_ENDPOINT"] = emu.endpoint
        os.environ["AZURE_VOICELIVE_API_KEY"] = emu.api_key
        scope: dict = {}
        exec(compile(QUICKSTART, "README.md", "exec"), scope)
        app = asyncio.create_task(scope["main"]())
        await emu.wait_sent("response.done", timeout=20)
        await emu.stop()  # hang up: the quickstart's `async for` ends
        await asyncio.wait_for(app, 10)
        print(json.dumps(emu.received[0]))

asyncio.run(drive())
"""


def quickstart() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README has a Quickstart code block"
    return match.group(1)


@pytest.mark.skipif(
    ctypes.util.find_library("portaudio") is None, reason="libportaudio2 is not installed"
)
def test_quickstart_greets_once_against_the_emulator(tmp_path: Path) -> None:
    (tmp_path / ".asoundrc").write_text(asoundrc("/dev/null"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_VOICELIVE_", "ALSA_"))}
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HARNESS)],
        input=quickstart(),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    received = json.loads(result.stdout.strip().splitlines()[-1])
    creates = [e for e in received if e["type"] == "response.create"]
    assert len(creates) == 1
    message = creates[0]["response"]["pre_generated_assistant_message"]
    assert message["content"][0]["text"] == "Hi Lisa, welcome back!"
