"""The examples are documentation that runs: each must exit 0 against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


EXPECTED = {
    "pregenerated_greeting": "sent",
    "llm_greeting": "sent",
    "custom_strategy": "strategies tried)",
    "say_later": "said: 'Your table is ready.' (sent)",
    "idle_nudge": "nudge 1\nnudge 2\nnobody there: hanging up",
    "uninterruptible_notice": "interrupted: False",
    "speech_events": "event: SpeechFinished",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_against_the_emulator(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_VOICELIVE_")}
    env["VOICELIVE_PROACTIVE_WAV"] = str(tmp_path / "out.wav")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "using the local emulator" in result.stdout
    assert EXPECTED[name] in result.stdout
