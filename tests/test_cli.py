"""The ``voicelive-proactive`` command, run as a user would: a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
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


# ------------------------------------------------------------------ issue 8: demo input bugs


@pytest.mark.parametrize("kind", ["static", "template", "random", "llm"])
def test_empty_text_is_an_error_not_the_default_line(kind: str, tmp_path: Path) -> None:
    result = run("demo", "--greeting", kind, "--text", "", "--out", str(tmp_path / "x.wav"))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "--text:" in result.stderr
    assert "must not be empty" in result.stderr
    assert not (tmp_path / "x.wav").exists()  # it never connected


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf", "soon"])
def test_timeout_must_be_positive_and_finite(value: str) -> None:
    result = run("demo", f"--timeout={value}")
    assert result.returncode == 2
    assert "--timeout" in result.stderr
    assert "seconds" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_usage_errors_are_json_on_stdout() -> None:
    result = run("demo", "--json", "--timeout", "-1")
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["status"] == "error" and error["exit_code"] == 2
    assert "--timeout" in error["error"]["message"]


def test_json_connection_failure_prints_a_json_error_without_the_key(tmp_path: Path) -> None:
    env = clean_env(
        AZURE_VOICELIVE_ENDPOINT="http://127.0.0.1:9", AZURE_VOICELIVE_API_KEY="k-secret-123"
    )
    result = run("demo", "--json", "--out", str(tmp_path / "x.wav"), env=env)
    assert result.returncode == 1
    error = json.loads(result.stdout)  # exactly one JSON object
    assert error["status"] == "error" and error["exit_code"] == 1
    assert error["error"]["type"] and error["error"]["message"]
    assert "k-secret-123" not in result.stdout + result.stderr


def test_json_configuration_error_is_json_too(tmp_path: Path) -> None:
    env = clean_env(AZURE_VOICELIVE_ENDPOINT="http://example.com")
    result = run("demo", "--json", "--out", str(tmp_path / "x.wav"), env=env)
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2 and "https://" in error["error"]["message"]


# ------------------------------------------------------------------ greetings from a file

GREETING_TOML = """\
[greeting]
type = "fallback"
chain = [
  { type = "template", text = "Hi {name}, welcome back!" },
  { type = "random", choices = ["Hello!", "Hi there!"] },
]
[greeting.locales]
"de-DE" = { type = "static", text = "Hallo, willkommen zurück!" }
fr = { type = "llm", instructions = "Greet {name} in French." }
"""


@pytest.fixture
def greeting_file(tmp_path: Path) -> Path:
    path = tmp_path / "greeting.toml"
    path.write_text(GREETING_TOML, encoding="utf-8")
    return path


def test_demo_uses_the_config_file(greeting_file: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "a.wav")
    args = ["demo", "--config", str(greeting_file), "--json", "--out", out]
    german = run(*args, "--context", "locale=de-DE")
    assert german.returncode == 0, german.stderr
    assert json.loads(german.stdout)["greeting"] == "Hallo, willkommen zurück!"
    default = run(*args, "--name", "Ana")
    assert json.loads(default.stdout)["greeting"] == "Hi Ana, welcome back!"
    french = run(*args, "--context", "locale=fr-CA", "--context", "name=Zoé")
    summary = json.loads(french.stdout)
    assert (summary["mode"], summary["greeting"]) == ("instructed", 'Greet "Zoé" in French.')


def test_demo_config_errors_exit_2(greeting_file: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "a.wav")
    both = run("demo", "--config", str(greeting_file), "--text", "Hi", "--out", out)
    assert both.returncode == 2 and "--config" in both.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[greeting]\ntype = "random"\nchoices = []\n')
    invalid = run("demo", "--config", str(bad), "--out", out)
    assert invalid.returncode == 2
    assert "greeting.choices" in invalid.stderr and "at least one line" in invalid.stderr
    missing = run("demo", "--config", str(tmp_path / "nope.toml"), "--json", "--out", out)
    assert missing.returncode == 2
    assert "No such file" in json.loads(missing.stdout)["error"]["message"]


def test_check_shows_what_each_locale_would_say(greeting_file: Path) -> None:
    result = run("check", str(greeting_file))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"{greeting_file}: valid" in text
    assert "sample values (not given with --context, shown as <field>): name=<name>" in text
    assert "1. template  says: 'Hi <name>, welcome back!'" in text
    assert "2. random    says one of: 'Hello!' | 'Hi there!'" in text
    assert "de-DE:\n  1. static    says: 'Hallo, willkommen zurück!'" in text
    assert "fr:\n  1. llm       asks the model: 'Greet \"<name>\" in French.'" in text


def test_check_with_context_and_a_locale(greeting_file: Path) -> None:
    result = run("check", str(greeting_file), "--context", "name=Lisa", "--context", "locale=fr-CA")
    assert result.returncode == 0
    assert "sample values" not in result.stdout
    assert "fr-CA (uses fr):" in result.stdout
    assert 'Greet "Lisa" in French.' in result.stdout
    assert "de-DE" not in result.stdout
    unknown = run("check", str(greeting_file), "--context", "locale=es")
    assert "es (uses the default):" in unknown.stdout


def test_check_json(greeting_file: Path) -> None:
    result = run("check", str(greeting_file), "--json", "--context", "name=Lisa")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["status"] == "valid" and report["valid"] is True
    assert report["context_fields"] == ["name"] and report["samples"] == {}
    rows = {row["locale"]: row for row in report["locales"]}
    assert list(rows) == [None, "de-DE", "fr"]
    first, second = rows[None]["alternatives"]
    assert (first["type"], first["mode"], first["text"]) == (
        "template",
        "spoken",
        "Hi Lisa, welcome back!",
    )
    assert second["choices"] == ["Hello!", "Hi there!"]
    assert rows["de-DE"]["entry"] == "de-DE"


def test_check_invalid_exits_2_with_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GREETING_TOML.replace('["Hello!", "Hi there!"]', "[]"), encoding="utf-8")
    result = run("check", str(bad))
    assert result.returncode == 2
    assert "invalid greeting configuration" in result.stderr
    assert "greeting.chain[1].choices: RandomGreeting needs at least one line" in result.stderr
    as_json = run("check", str(bad), "--json")
    assert as_json.returncode == 2
    report = json.loads(as_json.stdout)
    assert report["status"] == "invalid" and report["valid"] is False
    [error] = report["errors"]
    assert error["path"] == "greeting.chain[1].choices"


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("g.toml", '[greeting]\ntype = "static"\ntext = \n', "line 3, column 8: invalid TOML", 3),
        ("g.json", '{"greeting": \n}', "line 2, column 1: invalid JSON", 2),
        ("g.yaml", "greeting: {}", "*.toml or *.json", None),
        ("missing.toml", None, "No such file", None),
    ],
)
def test_check_file_errors(
    name: str, content: str | None, message: str, line: int | None, tmp_path: Path
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run("check", str(path))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    report = json.loads(run("check", str(path), "--json").stdout)
    [error] = report["errors"]
    assert error["line"] == line and message in error["message"]


def test_check_bad_context_argument(greeting_file: Path) -> None:
    result = run("check", str(greeting_file), "--context", "name", "--json")
    assert result.returncode == 2
    assert "KEY=VALUE" in json.loads(result.stdout)["error"]["message"]


def test_schema_command_prints_the_shipped_schema() -> None:
    from voicelive_proactive.config import SCHEMA_PATH

    result = run("schema")
    assert result.returncode == 0
    assert result.stdout == SCHEMA_PATH.read_text(encoding="utf-8")
    where = run("schema", "--path")
    assert Path(where.stdout.strip()) == SCHEMA_PATH


# ------------------------------------------------------------------ issue 19: a newcomer's CLI

ALL_AT_ONCE_TOML = """\
[greeting]
type = "template"
text = "Hi {user.name}"

[greeting.locales]
"de DE" = { type = "static", text = "Hallo" }
fr = { type = "static", txt = "Bonjour" }
"""


def test_check_reports_every_problem_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(ALL_AT_ONCE_TOML, encoding="utf-8")
    result = run("check", str(bad))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{bad}: invalid greeting configuration"
    assert any(line.startswith("  greeting.text: The template may not use") for line in lines)
    assert any('greeting.locales."de DE": Locale' in line for line in lines)
    assert any(
        "greeting.locales.fr.txt: a static greeting has no key 'txt'" in line for line in lines
    )
    report = json.loads(run("check", str(bad), "--json").stdout)
    assert sorted(error["path"] for error in report["errors"]) == [
        'greeting.locales."de DE"',
        "greeting.locales.fr.text",
        "greeting.locales.fr.txt",
        "greeting.text",
    ]


def test_usage_errors_read_as_argparse_usage_errors() -> None:
    result = run("bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: voicelive-proactive")
    assert "voicelive-proactive: error: argument command: invalid choice: 'bogus'" in result.stderr
    assert "configuration error" not in result.stderr
    typo = run("demo", "--nmae", "Ana")
    assert typo.returncode == 2
    assert "error: unrecognized arguments: --nmae" in typo.stderr
    assert "configuration error" not in typo.stderr


def test_a_missing_field_fails_before_connecting_and_names_the_flag(tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    result = run("demo", "--text", "Hi {nme}!", "--out", str(out))
    assert result.returncode == 2
    assert "--text needs nme" in result.stderr and "Pass --context nme=VALUE" in result.stderr
    assert "context=" not in result.stderr  # the Python argument means nothing here
    assert "emulator" not in result.stdout + result.stderr  # it never started one
    assert not out.exists()
    blank = run("demo", "--name", " ", "--json", "--out", str(out))
    assert blank.returncode == 2
    message = json.loads(blank.stdout)["error"]["message"]
    assert "the template greeting needs name" in message and "--name NAME" in message
    assert not out.exists()


def test_an_unknown_voice_fails_at_once_with_the_services_reason(tmp_path: Path) -> None:
    out = str(tmp_path / "x.wav")
    result = run("demo", "--voice", "nosuchvoice", "--json", "--out", out)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert summary["service_error"]["code"] == "invalid_value"
    assert "Unknown voice 'nosuchvoice'" in summary["service_error"]["message"]
    assert summary["error"].startswith("invalid_value: Unknown voice 'nosuchvoice'")
    assert summary["reason"].startswith("the service refused the session configuration")
    events = [row["event"] for row in summary["timeline_ms"]]
    assert "the service refused the session configuration: stopping" in events
    assert not any(event.startswith("timed out") for event in events)  # it did not wait
    human = run("demo", "--voice", "nosuchvoice", "--out", out)
    assert human.returncode == 1
    assert "greeting failed: nothing was said" in human.stdout
    assert "reason: the service refused the session configuration (invalid_value" in human.stdout


def _unanswering_endpoint() -> tuple[socket.socket, dict[str, str]]:
    """A loopback port that accepts TCP and never answers: the handshake hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = clean_env(AZURE_VOICELIVE_ENDPOINT=endpoint, AZURE_VOICELIVE_API_KEY="key-0123456789")
    return listener, env


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_during_demo_exits_130_with_a_message(as_json: bool, tmp_path: Path) -> None:
    listener, env = _unanswering_endpoint()
    args = ["demo", "--out", str(tmp_path / "x.wav"), *(["--json"] if as_json else [])]
    with (
        listener,
        subprocess.Popen(
            [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as proc,
    ):
        progress = proc.stderr if as_json else proc.stdout
        assert progress is not None
        assert progress.readline().startswith("connecting to http://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
    if as_json:
        error = json.loads(stdout)
        assert error["exit_code"] == 130 and error["error"]["type"] == "KeyboardInterrupt"


def test_emulator_command_has_help_and_the_modules_options() -> None:
    from voicelive_proactive.cli import _parser
    from voicelive_proactive.emulator.__main__ import _parser as module_parser

    result = run("emulator", "--help")
    assert result.returncode == 0
    for option in ("--pace", "--voice", "--phrase", "--phrases-file", "--port", "--api-key"):
        assert option in result.stdout
    assert "picks a free one" in result.stdout and "audio speed vs real time" in result.stdout
    # One definition, so the same options and the same defaults (port 0: a free port).
    from_cli = vars(_parser().parse_args(["emulator"]))
    assert from_cli.pop("command") == "emulator"
    assert from_cli == vars(module_parser().parse_args([]))
    assert from_cli["port"] == 0
    module_help = subprocess.run(
        [sys.executable, "-m", "voicelive_proactive.emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert result.stdout.split("options:")[1] == module_help.split("options:")[1]


def test_demo_options_are_described() -> None:
    result = run("demo", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--model MODEL the model to connect to" in text
    assert "--voice VOICE the voice to speak with" in text
    assert "--api-version API_VERSION the Voice Live API version" in text
