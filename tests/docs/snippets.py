"""Run the code blocks of README.md and docs/ as tests, with Sybil.

The conventions, which the pages follow and ``test_doc_blocks.py`` enforces:

- ```` ```python ```` runs, as ``python block.py`` would run it: each block is a complete
  program (its own imports, ``asyncio.run(main())`` where it needs ``await``), starting
  from an empty namespace, so a reader can copy any one block into a file and run it.
  Top-level ``await`` is a ``SyntaxError`` there, so it is one here too. The blocks of a
  page run in a fresh temporary directory, per page.
- ``<!-- invisible-code-block: python ... -->`` runs too, unseen: it calls what the
  visible block before it defined (a test function, say).
- ```` ```python title="Sketch: ..." ```` is a deliberately unrunnable sketch (a
  signature, a fragment); the title shows it on the page, and it is not run.
- A ```` ```text ```` block right after a paragraph ending in "It prints:" is the exact
  output of the block before it (``...`` matches anything, as in doctest).
- ```` ```console ```` runs too: each ``$ command`` in a shell, and the lines after it up
  to the next ``$`` are its expected output (``...`` matches anything; none: not checked).
  Commands that are not safe to run in a test (installing packages, servers that run until
  Ctrl-C, ``make``) go in ```` ```bash ```` blocks, which are shown, not run.
- ```` ```toml ```` blocks on the greeting-configuration page are loaded as greetings.

Pages that need a service talk to the bundled emulator: either in their own code, or, for
the pages about connecting to Azure, through ``AZURE_VOICELIVE_ENDPOINT`` and
``AZURE_VOICELIVE_API_KEY``, which point at an emulator process during the test; that
process also answers ``DefaultAzureCredential`` as a managed identity endpoint would
(``IDENTITY_ENDPOINT``, ``IDENTITY_HEADER``), with a token the emulator accepts.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer
from sybil.parsers.markdown.skip import SkipParser

REPO = Path(__file__).resolve().parents[2]
SNIPPET_TIMEOUT = 120.0
# Pages whose Python blocks a dedicated test runs (both with and without a Redis server).
RUN_ELSEWHERE = ("docs/how-to/redis.md",)

_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _fenced(language: str) -> FencedCodeBlockLexer:
    return FencedCodeBlockLexer(
        language=language, mapping={"language": "language", "source": "source"}
    )


def _blocks(document: Document, language: str) -> Iterator[Region]:
    for region in _fenced(r"[^\n]*")(document):
        info = str(region.lexemes["language"]).strip()
        if info == language:
            yield region


def _expect_output(expected: str, actual: str, what: str) -> str | None:
    """A failure message (Sybil reports it as the example's failure), or None."""
    if _CHECKER.check_output(expected, actual, _FLAGS):
        return None
    return f"{what} printed:\n{actual}\nbut the page says:\n{expected}"


# ------------------------------------------------------------------------------------ python


def _run_module(example: Example) -> None:
    """Run the block as ``python block.py`` would: a module, no top-level ``await``."""
    namespace = example.namespace
    source = "\n" * (example.line + example.parsed.line_offset) + str(example.parsed)
    code = compile(source, example.path, "exec", dont_inherit=True)
    out = io.StringIO()
    sdk = _Warnings()
    logging.getLogger("azure").addHandler(sdk)
    try:
        with contextlib.redirect_stdout(out), _time_limit(SNIPPET_TIMEOUT):
            try:
                exec(code, namespace)
            finally:
                namespace.pop("__builtins__", None)
                namespace["__stdout__"] = out.getvalue()
                sys.stdout.write(out.getvalue())
    finally:
        logging.getLogger("azure").removeHandler(sdk)
    # A reader running the block would see these on stderr (e.g. the SDK's "Unexpected
    # WebSocket message type" when a connection is closed under a running reader).
    assert not sdk.messages, f"the block made the Azure SDK warn: {sdk.messages}"


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


def evaluate_python(example: Example) -> None:
    """A visible block is a program of its own: it starts from an empty namespace, so it
    cannot lean on an earlier block (a reader copies one block into one file)."""
    for name in [name for name in example.namespace if not name.startswith("__")]:
        del example.namespace[name]
    _run_module(example)


def evaluate_hidden(example: Example) -> None:
    """An invisible block runs after the visible one, in its namespace (to call its tests)."""
    _run_module(example)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Fail a block that hangs (asyncio.run has no timeout of its own)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the block ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_python(document: Document) -> Iterable[Region]:
    if any(document.path.endswith(path) for path in RUN_ELSEWHERE):
        return
    hidden = DirectiveInHTMLCommentLexer(directive="invisible-code-block", arguments="python")
    for region in _blocks(document, "python"):
        region.parsed = region.lexemes["source"]
        region.evaluator = evaluate_python
        yield region
    for region in hidden(document):
        region.parsed = region.lexemes["source"]
        region.evaluator = evaluate_hidden
        yield region


def parse_printed(document: Document) -> Iterable[Region]:
    """A ```text block introduced by "It prints:" checks the output of the block before."""
    for region in _blocks(document, "text"):
        before = document.text[: region.start].rstrip()
        if before.endswith("It prints:"):
            expected = str(region.lexemes["source"])
            region.parsed = expected
            region.evaluator = lambda example, expected=expected: _expect_output(
                expected, example.namespace.get("__stdout__", ""), "the block before"
            )
            yield region


# ----------------------------------------------------------------------------------- console


def _commands(source: str) -> Iterator[tuple[str, str]]:
    command: str | None = None
    output: list[str] = []
    for line in source.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(output)
            command, output = line[2:], []
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "\n".join(output)


def evaluate_console(example: Example) -> str | None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command, expected in _commands(str(example.parsed)):
        line, _, comment = command.partition("  # ")  # a comment explains the command
        code = re.search(r"exits? (?:with )?(\d+)", comment)
        result = subprocess.run(
            ["bash", "-c", line],
            capture_output=True,
            text=True,
            timeout=SNIPPET_TIMEOUT,
            env=env,
            check=False,
        )
        want = int(code.group(1)) if code else 0
        if result.returncode != want:
            return (
                f"$ {command} exited {result.returncode}, not {want}:\n"
                f"{result.stdout}{result.stderr}"
            )
        if expected.strip():
            failure = _expect_output(expected + "\n", result.stdout + result.stderr, f"$ {command}")
            if failure:
                return failure
    return None


def parse_console(document: Document) -> Iterable[Region]:
    for region in _blocks(document, "console"):
        region.parsed = region.lexemes["source"]
        region.evaluator = evaluate_console
        yield region


# -------------------------------------------------------------------------------------- toml


def evaluate_toml(example: Example) -> None:
    import voicelive_proactive as vp
    from voicelive_proactive.config._files import tomllib

    strategy = vp.load_greeting(tomllib.loads(str(example.parsed)))
    assert strategy.alternatives(), "a greeting file loads to a strategy with alternatives"


def parse_toml(document: Document) -> Iterable[Region]:
    if "load_greeting" not in document.text:
        return
    for region in _blocks(document, "toml"):
        region.parsed = region.lexemes["source"]
        region.evaluator = evaluate_toml
        yield region


# ------------------------------------------------------------------------------------- pages


def setup(namespace: dict[str, Any]) -> None:
    """Each page runs in its own temporary directory."""
    workdir = tempfile.TemporaryDirectory(prefix="vp-docs-")
    namespace["__workdir__"] = workdir
    namespace["__cwd__"] = os.getcwd()
    os.chdir(workdir.name)


def teardown(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["__cwd__"])
    namespace["__workdir__"].cleanup()


SYBIL = Sybil(
    parsers=[parse_python, parse_printed, parse_console, parse_toml, SkipParser()],
    patterns=["README.md", "docs/*.md", "docs/**/*.md"],
    excludes=["docs/sdk-live-tests.md", "docs/performance.md"],
    setup=setup,
    teardown=teardown,
    fixtures=["voicelive_service"],
    path=str(REPO),
)


@contextlib.contextmanager
def emulator_process() -> Iterator[dict[str, str]]:
    """A standalone emulator (as fast as it goes) and a managed identity endpoint whose token
    it accepts (``service.py``), for pages that read the environment."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.docs.service"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        yield dict(part.split("=", 1) for part in shlex.split(line))
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
