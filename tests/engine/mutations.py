"""Seed each defect issue 16 found back into the engine, and check the machine catches it.

    .venv/bin/python -m tests.engine.mutations            # every mutation, a table at the end
    .venv/bin/python -m tests.engine.mutations 7 12       # some of them

Each mutation is a small edit to a copy of the package (the real bug, or the same mistake in
the new code); the machine (``test_engine_machine.py``) then runs against the copy until it
fails or its budget runs out. A mutation the machine does not catch is a hole in the tests.
Defects of the shell (not the engine) have regression tests instead:
``tests/test_engine_defects.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "voicelive_proactive"


@dataclass(frozen=True)
class Mutation:
    defect: str
    what: str
    path: str
    old: str
    new: str
    more: tuple[tuple[str, str, str], ...] = ()
    """Further edits of the same mistake: (path, old, new)."""

    def edits(self) -> list[tuple[str, str, str]]:
        return [(self.path, self.old, self.new), *self.more]


MUTATIONS = [
    Mutation(
        "1",
        "cancel() does nothing once the service has finished the response",
        "speaking.py",
        "        if phase in NOT_STARTED:\n"
        '            self.agenda.skip(speech, "cancelled by the app")',
        "        if phase is Phase.PLAYING:\n            return\n"
        "        if phase in NOT_STARTED:\n"
        '            self.agenda.skip(speech, "cancelled by the app")',
    ),
    Mutation(
        "2",
        "the library's session.update echoes are matched by count, not content",
        "override.py",
        "        if td is None or not self._echoes or td != self._echoes[0][1]:",
        "        if td is None or not self._echoes:",
    ),
    Mutation(
        "4",
        "say() is sent while the service's own tool call is outstanding",
        "agenda.py",
        "        if core.tools.blocking:\n            return False",
        "        if False:\n            return False",
    ),
    Mutation(
        "5",
        "a speech cancelled while its guard or strategy is working is rendered and sent",
        "preparing.py",
        "        if speech is None or speech.token != token:",
        "        if speech is None:",
        more=(
            (
                "preparing.py",
                "            self._tokens.pop(speech.token, None)\n",
                "",
            ),
            (
                "preparing.py",
                "        if speech.phase is not Phase.PREPARING:\n            return\n",
                "        if speech.phase is Phase.DONE:\n"
                "            speech.phase = Phase.PREPARING\n",
            ),
        ),
    ),
    Mutation(
        "6",
        "the app's interrupt_response comes back only after playout (never, if rejected)",
        "engine.py",
        "        self.agenda.pump(now)\n        self.speaking.keep_override()\n",
        "        self.agenda.pump(now)\n",
        more=(
            (
                "engine.py",
                "        self.agenda.played(position, now)\n        self._after(now)\n",
                "        self.agenda.played(position, now)\n        self.speaking.keep_override()\n"
                "        self._after(now)\n",
            ),
        ),
    ),
    Mutation(
        "7",
        "a second cut-off of the same speech rewrites what was heard",
        "floor.py",
        "            if view.played_ms is not None:\n                continue  # cut off before",
        "            if False:\n                continue  # cut off before",
    ),
    Mutation(
        "8",
        "a tool call the user cut off before its arguments were complete blocks later speech",
        "floor.py",
        "        if view.ours and view.calls_done and not view.spoke and completed and not view"
        ".muted:",
        "        if view.ours and view.function_call and not view.spoke and not view.muted:",
    ),
    Mutation(
        "9",
        "no truncate is sent for a cut-off speech",
        "speaking.py",
        "        if fact.truncate and core.config.truncate:",
        "        if False and fact.truncate and core.config.truncate:",
    ),
    Mutation(
        "10",
        "an item nobody heard stays in the conversation",
        "speaking.py",
        "        if view.strong and view.item_id is not None and not view.truncated:",
        "        if False:",
    ),
    Mutation(
        "11",
        "audio that played while the response was only presumed ours is not counted",
        "speaking.py",
        "        if view.queued_bytes:  # it reached the speaker while only presumed ours",
        "        if view.queued_bytes and not view.muted:",
    ),
    Mutation(
        "12",
        "the echo guard counts from the first chunk's arrival, not from when it is heard",
        "agenda.py",
        "            self.core.out.add(WatchPlayout(position))",
        "            self.core.deadlines.set(('echo', speech), now + "
        "self.core.config.echo_guard_ms / 1000)",
    ),
    Mutation(
        "13",
        "a guess (elimination) licenses cancelling and truncating",
        "floor.py",
        "        return self is Proof.TAG or self is Proof.LOCAL",
        "        return True",
    ),
    Mutation(
        "14",
        "what was heard is measured in the current format, not the item's own",
        "floor.py",
        "            view.played_ms = view.ms(max(0, view.queued_bytes))\n"
        "            if view.ours:",
        "            view.played_ms = max(0, view.queued_bytes) * 1000 // self.bytes_per_second\n"
        "            if view.ours:",
    ),
    Mutation(
        "-",
        "a response.create is sent while a response is active",
        "floor.py",
        "        if self.active is not None or self.request is not None or self.awaiting_tool:",
        "        if self.request is not None or self.awaiting_tool:",
    ),
    Mutation(
        "-",
        "events are still sent after close",
        "actions.py",
        "        if not self.sealed:\n            self.actions.append(Send(event, speech))",
        "        self.actions.append(Send(event, speech))",
    ),
    Mutation(
        "-",
        "the greeting sent first on session.updated although the user already spoke",
        "first_update.py",
        "            or core.user_spoke\n",
        "",
    ),
    Mutation(
        "-",
        "the greeting sent first never catches up (the session settings go unread)",
        "first_update.py",
        "        later, self.later = self.later, None\n        if later is None:\n",
        "        later, self.later = None, None\n        if later is None:\n",
    ),
]


def run(
    source: Path, mutation: Mutation | None, budget: float, examples: int
) -> tuple[bool, float, str]:
    """Run the machine against a mutated copy of ``source``; (caught, seconds, why)."""
    with tempfile.TemporaryDirectory() as tmp:
        # A tree of its own (the package and the machine, no conftest): the mutated copy is
        # the only voicelive_proactive the run can import.
        copy = Path(tmp) / "voicelive_proactive"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        tests = Path(tmp) / "tests"
        shutil.copytree(
            source.parent / "engine", tests / "engine", ignore=shutil.ignore_patterns("__pycache__")
        )
        (tests / "__init__.py").write_text("")
        if mutation is not None:
            for path, old, new in mutation.edits():
                target = copy / path
                text = target.read_text()
                if old not in text:
                    raise SystemExit(f"mutation {mutation.defect}: the code to mutate is gone")
                target.write_text(text.replace(old, new, 1))
        env = {
            **os.environ,
            "PYTHONPATH": tmp,
            "VP_EXPECT_PACKAGE": str(copy),
            "VP_ENGINE_EXAMPLES": str(examples),
            "PYTHONDONTWRITEBYTECODE": "1",
            "VP_ENGINE_NO_DATABASE": "1",
            "VP_ENGINE_NO_SHRINK": "1",
            "VP_ENGINE_RANDOM": "1",
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:logging",
            "-p",
            "no:asyncio",
            "-W",
            "error",
            "tests/engine/test_engine_machine.py",
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, cwd=tmp, env=env, capture_output=True, text=True, timeout=budget
            )
        except subprocess.TimeoutExpired:
            return False, time.monotonic() - started, "budget ran out"
        seconds = time.monotonic() - started
        lines = [line.strip() for line in done.stdout.splitlines() if "AssertionError:" in line]
        lines.sort(key=lambda line: not line.startswith("E"))  # the message, not the source
        if done.returncode != 0 and not lines:  # not a rule of behaviour: the run is broken
            raise SystemExit(f"the machine did not run:\n{done.stdout[-2000:]}")
        return done.returncode != 0, seconds, (lines[0] if lines else "")


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not argv or m.defect in argv]
    budget, examples = 120.0, 20_000
    with tempfile.TemporaryDirectory() as snapshot:  # the code as it is now, throughout
        source = Path(snapshot) / "voicelive_proactive"
        shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(
            ROOT / "tests" / "engine",
            Path(snapshot) / "engine",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        return _run_all(source, chosen, budget, examples)


def _run_all(source: Path, chosen: list[Mutation], budget: float, examples: int) -> int:
    caught, seconds, why = run(source, None, budget, 300)
    print(f"unmutated: {'FAILS' if caught else 'passes'} ({seconds:.1f} s, 300 examples)")
    if caught:
        print(f"             {why[:300]}")
    rows = []
    for mutation in chosen:
        caught, seconds, why = run(source, mutation, budget, examples)
        rows.append((mutation, caught, seconds, why))
        verdict = "caught" if caught else "MISSED"
        print(f"defect {mutation.defect:>3}: {verdict} in {seconds:5.1f} s  {mutation.what}")
        print(f"             {why[:150]}")
    missed = [m for m, c, _, _ in rows if not c]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
