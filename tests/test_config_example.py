"""examples/greeting_from_config.py runs against the emulator and speaks the caller's language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "greeting_from_config.py"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "said (de-AT): 'Hallo, willkommen zurück! Wie kann ich helfen?'"),
        (["fr-CA"], "said (fr-CA): 'Bonjour Lisa, comment puis-je vous aider ?'"),
        (["en-US"], "said (en-US): 'Hi Lisa, welcome back! How can I help you today?'"),
    ],
)
def test_example_greets_in_the_callers_language(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_VOICELIVE_")}
    env["VOICELIVE_PROACTIVE_WAV"] = str(tmp_path / "out.wav")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,  # the example finds greeting.toml next to itself, not in the cwd
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "using the local emulator" in result.stdout
    assert expected in result.stdout
