"""The examples are documentation that runs: each must exit 0 against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["pregenerated_greeting", "llm_greeting", "custom_strategy"])
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
    assert "sent" in result.stdout or "said:" in result.stdout
