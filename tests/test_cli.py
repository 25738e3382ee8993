"""The ``voicelive-proactive`` command, run as a user would: a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

CLI = [sys.executable, "-m", "voicelive_proactive.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_VOICELIVE_")}
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or clean_env(),
        cwd=cwd,
        check=False,
    )


def speech_rms(path: Path) -> tuple[float, float]:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24_000, 1, 2)
        samples = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    return float(np.sqrt(np.mean(samples**2))), len(samples) / 24_000


@pytest.mark.parametrize("kind", ["static", "template", "random", "llm"])
def test_demo_against_the_embedded_emulator(kind: str, tmp_path: Path) -> None:
    out = tmp_path / "greeting.wav"
    result = run("demo", "--greeting", kind, "--name", "Ana", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert "embedded emulator" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "sent"
    assert summary["mode"] == ("instructed" if kind == "llm" else "spoken")
    if kind == "template":
        assert summary["greeting"] == "Hi Ana, welcome back! How can I assist you today?"
    assert summary["metrics"]["ready_to_first_audio_ms"] > 0
    events = [row["event"] for row in summary["timeline_ms"]]
    assert "response.done" in events
    rms, seconds = speech_rms(out)
    assert seconds > 0.5
    assert rms > 300  # audible, not silence


def test_demo_prints_a_readable_timeline(tmp_path: Path) -> None:
    result = run(
        "demo",
        "--greeting",
        "static",
        "--text",
        "Thanks for calling!",
        "--out",
        str(tmp_path / "a.wav"),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().endswith("ms  session.updated") for line in lines)
    assert any("'Thanks for calling!'" in line for line in lines)
    assert "ready_to_first_audio_ms" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["demo", "--greeting", "template", "--text", "Hi {user.name}"], {}, "only plain"),
        (["demo", "--greeting", "static", "--text", "   "], {}, "empty"),
        (["demo", "--greeting", "template", "--text", "Hi {nick}"], {}, "nick"),
        (["demo"], {"AZURE_VOICELIVE_ENDPOINT": "http://example.com"}, "https://"),
        (["demo"], {"AZURE_VOICELIVE_ENDPOINT": "not a url"}, "AZURE_VOICELIVE_ENDPOINT"),
        (["emulator", "--host", "0.0.0.0"], {}, "--allow-remote"),
    ],
)
def test_configuration_errors_exit_2_and_say_what_to_do(
    args: list[str], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    if args[0] == "demo":
        args = [*args, "--out", str(tmp_path / "x.wav")]
    result = run(*args, env=clean_env(**env))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_service_is_a_runtime_error(tmp_path: Path) -> None:
    env = clean_env(
        AZURE_VOICELIVE_ENDPOINT="http://127.0.0.1:9", AZURE_VOICELIVE_API_KEY="k-secret"
    )
    result = run("demo", "--out", str(tmp_path / "x.wav"), env=env)
    assert result.returncode == 1
    assert "error:" in result.stderr
    assert "k-secret" not in result.stderr + result.stdout


def test_emulator_command_serves_until_interrupted(tmp_path: Path) -> None:
    with subprocess.Popen(
        [*CLI, "emulator", "--port", "0", "--api-key", "dev-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("endpoint=http://127.0.0.1:")
            endpoint = line.split()[0].split("=", 1)[1]
            env = clean_env(AZURE_VOICELIVE_ENDPOINT=endpoint, AZURE_VOICELIVE_API_KEY="dev-key")
            demo = run(
                "demo", "--greeting", "static", "--json", "--out", str(tmp_path / "a.wav"), env=env
            )
            assert demo.returncode == 0, demo.stderr
            assert json.loads(demo.stdout)["status"] == "sent"
            assert "connecting to" in demo.stderr
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("voicelive-proactive ")
