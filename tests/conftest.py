from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from voicelive_proactive.testing import FakeConnection

Deliver = Callable[..., Any]


async def deliver(proactive: Any, fake: FakeConnection, *events: dict[str, Any]) -> None:
    """Push wire events through the fake (so the SDK deserializes them) into handle()."""
    for event in events:
        fake.push(event)
        await proactive.handle(await fake.recv())


@pytest.fixture
def session_updated() -> dict[str, Any]:
    return {"type": "session.updated", "session": {"id": "sess_1"}}


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Data files an example reads from its own directory: a user copies them with it.
EXAMPLE_DATA = {"greeting_from_config": ("greeting.toml",)}


def copy_example(name: str, directory: Path) -> Path:
    """Copy ``examples/<name>.py`` (and its data files, nothing else) into ``directory``, as a
    user who copies one example into a project of their own does; return the copy."""
    directory.mkdir(parents=True, exist_ok=True)
    for file in (f"{name}.py", *EXAMPLE_DATA.get(name, ())):
        shutil.copyfile(EXAMPLES / file, directory / file)
    return directory / f"{name}.py"


def run_python(
    argv: Sequence[str], cwd: Path, extra_env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python *argv`` as a user would with no Azure settings (so the examples use the
    local emulator), in ``cwd``, and return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_VOICELIVE_")}
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )


def documented_pytest_configuration() -> str:
    """The ```toml block of the testing how-to: what a reader puts in pyproject.toml."""
    page = (EXAMPLES.parent / "docs" / "how-to" / "testing.md").read_text(encoding="utf-8")
    [block] = re.findall(r"^```toml\n(\[tool\.pytest\.ini_options\]\n.*?)^```", page, re.M | re.S)
    return str(block)
