"""The wheel and the sdist are complete, and the wheel works in a clean virtual environment.

One clean venv (no ``--system-site-packages``) gets the wheel plus ``pytest`` and
``pytest-asyncio``, as a newcomer's project would: then the package imports without
PortAudio being touched, the pytest plugin's fixtures load, and
``examples/test_my_agent.py``, copied into an empty project, passes as it is.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import documented_pytest_configuration

from .snippets import REPO


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO, cwd=REPO)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def clean_venv(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    venv.create(home / "env", with_pip=True)
    python = home / "env" / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        dists["wheel"],
        "pytest",
        "pytest-asyncio",
        cwd=home,
    )
    return python


def test_the_wheel_carries_the_licence_and_the_project_urls(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(wheel.read(metadata))
        licence = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert licence, names
        assert b"MIT License" in wheel.read(licence[0])
    assert meta["License-Expression"] == "MIT"
    urls = dict(value.split(", ", 1) for value in meta.get_all("Project-URL", []))
    assert {"Documentation", "Changelog", "Source"} <= set(urls), urls
    assert "voicelive_proactive/py.typed" in names
    assert "voicelive_proactive/greeting.schema.json" in names


def test_the_sdist_carries_the_licence_docs_and_tests(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for expected in (
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "mkdocs.yml",
        "pyproject.toml",
        "docs/getting-started.md",
        "examples/test_my_agent.py",
        "tests/docs/snippets.py",
    ):
        assert expected in names, expected


def test_the_package_imports_without_portaudio(clean_venv: Path, tmp_path: Path) -> None:
    code = (
        "import sys; import voicelive_proactive as vp; import voicelive_proactive.testing; "
        "print(vp.__version__, 'sounddevice' in sys.modules, '_sounddevice' in sys.modules)"
    )
    version, sounddevice, portaudio = run(clean_venv, "-c", code, cwd=tmp_path).split()
    assert (sounddevice, portaudio) == ("False", "False"), "importing must not load PortAudio"
    assert version == __import__("voicelive_proactive").__version__


def test_the_pytest_plugin_loads(clean_venv: Path, tmp_path: Path) -> None:
    out = run(clean_venv, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", cwd=tmp_path)
    for fixture in ("fake_connection", "memory_audio", "emulator"):
        assert fixture in out, out


def test_the_documented_configuration_runs_cleanly_with_warnings_as_errors(
    clean_venv: Path, tmp_path: Path
) -> None:
    project = tmp_path / "my-agent"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(documented_pytest_configuration(), encoding="utf-8")
    example = (REPO / "examples" / "test_my_agent.py").read_text(encoding="utf-8")
    (project / "tests" / "test_my_agent.py").write_text(example, encoding="utf-8")
    out = run(clean_venv, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", cwd=project)
    assert "4 passed" in out, out
    assert "warning" not in out.lower(), out


def test_the_example_test_file_passes_in_a_fresh_project(clean_venv: Path, tmp_path: Path) -> None:
    project = tmp_path / "my-agent"
    (project / "tests").mkdir(parents=True)
    example = (REPO / "examples" / "test_my_agent.py").read_text(encoding="utf-8")
    (project / "tests" / "test_my_agent.py").write_text(example, encoding="utf-8")
    out = run(clean_venv, "-m", "pytest", "-p", "no:cacheprovider", "tests", cwd=project)
    assert "4 passed" in out, out
