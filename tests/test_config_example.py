"""examples/greeting_from_config.py runs against the emulator and speaks the caller's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import copy_example, run_python


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
    wav = {"VOICELIVE_PROACTIVE_WAV": str(tmp_path / "out.wav")}
    # The example finds greeting.toml next to itself (copied with it), not in the cwd.
    script = copy_example("greeting_from_config", tmp_path / "project")
    result = run_python(["-W", "error", str(script), *args], tmp_path, wav, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "using the local emulator" in result.stdout
    assert expected in result.stdout
