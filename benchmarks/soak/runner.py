"""Run the soak: N conversations, K at a time, each judged, with task and descriptor checks.

Tasks are attributed to the conversation whose code created them: a task factory reads a
context variable that each conversation sets in its own task, and every task created under it
(by the app, the library, the SDK, aiohttp or the in-process emulator) inherits it. A task of
a conversation still alive a second after the conversation ended is a leak; it is described
(name, coroutine, where it waits), cancelled so it cannot skew later conversations, and
counted. File descriptors are process-wide, so they are compared at quiet points (no
conversation running) with the count after a warm-up.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import os
import statistics
import time
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from . import app, count
from .plan import KINDS, ConversationPlan, make_plan

CONVERSATION: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "soak_conversation", default=None
)
CONVERSATION_TIMEOUT = 90.0  # every step inside has its own, shorter, limit
LEAK_GRACE_S = 1.0  # closing transports may take a few loop turns; a leak outlives this
DRAIN_EVERY = 50  # conversations between quiet points (descriptor checkpoints)
MAX_SAMPLES = 40


class TaskLedger:
    """Remembers which conversation created each task (a loop task factory)."""

    def __init__(self) -> None:
        self.owner: weakref.WeakKeyDictionary[asyncio.Task[Any], int] = weakref.WeakKeyDictionary()
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.charged = 0  # tasks created inside a conversation, ever (proof it is watching)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._previous = loop, loop.get_task_factory()
        loop.set_task_factory(self._factory)  # type: ignore[arg-type]

    def uninstall(self) -> None:
        if self._loop is not None:
            self._loop.set_task_factory(self._previous)

    def _factory(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[Any]:
        extra: dict[str, Any] = {} if context is None else {"context": context}
        if self._previous is not None:
            task: asyncio.Task[Any] = self._previous(loop, coro, **extra)
        else:
            task = asyncio.Task(coro, loop=loop, **extra)
        owner = context.get(CONVERSATION) if context is not None else CONVERSATION.get()
        if owner is not None:
            self.owner[task] = owner
            self.charged += 1
        return task

    def alive(self, index: int) -> list[asyncio.Task[Any]]:
        me = asyncio.current_task()
        return [
            task
            for task, owner in list(self.owner.items())
            if owner == index and not task.done() and task is not me
        ]


def describe_task(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", repr(coro))
    frames = task.get_stack(limit=1)
    where = ""
    if frames:
        code = frames[-1].f_code
        where = f" waiting in {code.co_filename.rsplit('/site-packages/', 1)[-1]}:"
        where += f"{frames[-1].f_lineno} ({code.co_name})"
    return f"{task.get_name()} {name}{where}"


def open_fds() -> int | None:
    """Descriptors this process holds (Linux), or None where that cannot be read."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def fd_targets() -> Counter[str]:
    """What the open descriptors are (sockets, pipes, files), for a leak report."""
    kinds: Counter[str] = Counter()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return kinds
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        kinds[target.split(":", 1)[0] if ":" in target else "file"] += 1
    return kinds


class _Errors(logging.Handler):
    """Records of one logger at ``level`` and above (the library logs its internal errors at
    ERROR)."""

    def __init__(self, level: int = logging.ERROR) -> None:
        super().__init__(level)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}"[:300])


async def _quiet_fds() -> int | None:
    gc.collect()
    await asyncio.sleep(0.1)  # closed transports release their sockets on a later loop turn
    gc.collect()
    return open_fds()


async def _one(
    plan: ConversationPlan, client: Any, ledger: TaskLedger, gate: asyncio.Semaphore
) -> dict[str, Any]:
    async with gate:
        CONVERSATION.set(plan.index)
        started = time.monotonic()
        records: list[app.ConnectionRecord] = []
        crash = None
        try:
            records = await asyncio.wait_for(app.conversation(plan, client), CONVERSATION_TIMEOUT)
        except Exception as exc:  # the harness or a hang: judged as a failure below
            crash = f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - started
        verdict = count.judge(plan.index, records)
        if crash:
            verdict.app_errors.append(crash)
        CONVERSATION.set(None)
        deadline = time.monotonic() + LEAK_GRACE_S
        leaked = ledger.alive(plan.index)
        while leaked and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            leaked = ledger.alive(plan.index)
        described = [describe_task(task) for task in leaked]
        for task in leaked:
            task.cancel()
        return {"plan": plan, "verdict": verdict, "leaked": described, "seconds": seconds}


def calm_plan(seed: int, index: int) -> ConversationPlan:
    """A conversation with no faults (the warm-up)."""
    plan = make_plan(seed, index)
    return ConversationPlan(
        seed=seed,
        index=index,
        pace=0.0,
        greeting=plan.greeting,
        says=plan.says,
        faults=("none",),
        first={},
    )


async def soak(
    conversations: int,
    seed: int,
    *,
    redis_url: str,
    concurrency: int = 8,
    only: list[int] | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the soak; return the ``soak`` section (every key, see :func:`summarize`)."""
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    ledger = TaskLedger()
    ledger.install(loop)
    unhandled: list[str] = []
    previous_handler = loop.get_exception_handler()

    def on_unhandled(_: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        unhandled.append(f"{context.get('message')}: {context.get('exception')!r}"[:300])

    loop.set_exception_handler(on_unhandled)
    errors = _Errors()
    library_log = logging.getLogger("voicelive_proactive")
    library_log.addHandler(errors)
    # The SDK warns "Unexpected WebSocket message type: 256" (aiohttp's CLOSING) each time
    # the app hangs up while it is reading: counted, not printed a thousand times.
    sdk_log = logging.getLogger("azure.ai.voicelive")
    sdk_warnings = _Errors(logging.WARNING)
    sdk_log.addHandler(sdk_warnings)
    sdk_propagate, sdk_log.propagate = sdk_log.propagate, False
    client = aioredis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    gate = asyncio.Semaphore(concurrency)
    results: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    started = time.monotonic()
    indices = only if only is not None else list(range(conversations))
    try:
        warm = [calm_plan(seed, -1 - i) for i in range(concurrency)]
        await asyncio.gather(*(_one(p, client, ledger, gate) for p in warm))
        baseline = await _quiet_fds()
        baseline_kinds = fd_targets()
        for start in range(0, len(indices), DRAIN_EVERY):
            batch = [make_plan(seed, i) for i in indices[start : start + DRAIN_EVERY]]
            results += await asyncio.gather(*(_one(p, client, ledger, gate) for p in batch))
            fds = await _quiet_fds()
            grown = None if fds is None or baseline is None else fds - baseline
            point: dict[str, Any] = {"after": len(results), "fd_growth": grown}
            if grown:
                now = fd_targets()
                point["grew"] = {
                    kind: now[kind] - baseline_kinds[kind]
                    for kind in now | baseline_kinds
                    if now[kind] != baseline_kinds[kind]
                }
            checkpoints.append(point)
            bad = sum(not r["verdict"].ok or bool(r["leaked"]) for r in results)
            progress(
                f"[soak] {len(results)}/{len(indices)} conversations, "
                f"{bad} with a problem, descriptors {grown:+d}"
                if grown is not None
                else f"[soak] {len(results)}/{len(indices)} conversations, {bad} with a problem"
            )
    finally:
        await client.aclose()
        library_log.removeHandler(errors)
        sdk_log.removeHandler(sdk_warnings)
        sdk_log.propagate = sdk_propagate
        loop.set_exception_handler(previous_handler)
        ledger.uninstall()
    final = await _quiet_fds()
    leaked_fds = None if final is None or baseline is None else max(0, final - baseline)
    return summarize(
        results,
        seed=seed,
        concurrency=concurrency,
        seconds=time.monotonic() - started,
        leaked_fds=leaked_fds,
        checkpoints=checkpoints,
        unhandled=unhandled,
        library_errors=errors.records,
        sdk_warnings=sdk_warnings.records,
        tasks_watched=ledger.charged,
    )


def summarize(
    results: list[dict[str, Any]],
    *,
    seed: int,
    concurrency: int,
    seconds: float,
    leaked_fds: int | None,
    checkpoints: list[dict[str, Any]],
    unhandled: list[str],
    library_errors: list[str],
    sdk_warnings: list[str] = (),  # type: ignore[assignment]
    tasks_watched: int = 0,
) -> dict[str, Any]:
    """The ``soak.*`` keys from every conversation's verdict."""
    verdicts: list[count.Verdict] = [r["verdict"] for r in results]
    faults: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
    for r in results:
        plan: ConversationPlan = r["plan"]
        faults.update(plan.faults)
        verdict: count.Verdict = r["verdict"]
        faults.update(plan.reconnection_faults(verdict.connections))
    heard = Counter(f"{v.greetings_heard} greeting + {v.resumes_heard} resume" for v in verdicts)
    failures = []
    for r in results:
        verdict = r["verdict"]
        if verdict.ok and not r["leaked"] and not verdict.app_errors:
            continue
        plan = r["plan"]
        failures.append(
            {
                "index": plan.index,
                "faults": [*plan.faults, *plan.reconnection_faults(verdict.connections)],
                "emulator_faults": [plan.first, *plan.later[: verdict.connections - 1]],
                "greetings_heard": verdict.greetings_heard,
                "resumes_heard": verdict.resumes_heard,
                "connections": verdict.connections,
                "drops": verdict.drops,
                "problems": verdict.lost_greetings
                + verdict.lost
                + verdict.hangs
                + verdict.app_errors
                + [f"leaked task: {t}" for t in r["leaked"]]
                + (["greeted twice"] if verdict.duplicate else []),
                "reproduce": f"SOAK_SEED={seed} python -m benchmarks.soak --only {plan.index}",
            }
        )
    missed = [
        {
            "index": r["plan"].index,
            "faults": list(r["plan"].faults),
            "greeting_outcomes": r["verdict"].greeting_outcomes,
            "drops": r["verdict"].drops,
        }
        for r in results
        if r["verdict"].missed
    ]
    durations = sorted(r["seconds"] for r in results)
    notes = [n for v in verdicts for n in v.notes]
    health: Counter[str] = Counter()
    for v in verdicts:
        health.update(v.health)
    return {
        "conversations": len(results),
        "seed": seed,
        "concurrency": concurrency,
        "duration_s": round(seconds, 1),
        "conversation_s": {
            "p50": round(statistics.median(durations), 3) if durations else None,
            "p95": round(durations[int(0.95 * (len(durations) - 1))], 3) if durations else None,
            "max": round(durations[-1], 3) if durations else None,
        },
        "connections": sum(v.connections for v in verdicts),
        "duplicate_greetings": sum(v.duplicate for v in verdicts),
        "missed_greetings": sum(v.missed for v in verdicts),
        # Missed, and the last connection's outcome does not say why (failed or skipped,
        # with a reason): the caller sat in silence and the app was not told.
        "missed_greetings_unexplained": sum(
            v.missed and not _explained(v.greeting_outcomes[-1:]) for v in verdicts
        ),
        "missed_greeting_samples": missed[:MAX_SAMPLES],
        "greetings_heard": dict(sorted(heard.items())),
        "resumed_without_greeting": sum(
            v.resumes_heard > 0 and v.greetings_heard == 0 for v in verdicts
        ),
        # ...and what the first connection's greeting outcome said about it.
        "resumed_without_greeting_first_outcome": dict(
            Counter(
                v.greeting_outcomes[0][:90]
                for v in verdicts
                if v.resumes_heard > 0 and v.greetings_heard == 0 and v.greeting_outcomes
            )
        ),
        "lost_speech": _lost_count(verdicts),
        "lost_speech_by_problem": dict(Counter(_problem(p) for v in verdicts for p in v.lost)),
        "lost_greetings": sum(bool(v.lost_greetings) for v in verdicts),
        "lost_greetings_by_problem": dict(
            Counter(_problem(p) for v in verdicts for p in v.lost_greetings)
        ),
        "speeches": sum(v.speeches for v in verdicts),
        "speeches_heard": sum(v.heard_speeches for v in verdicts),
        "leaked_tasks": sum(len(r["leaked"]) for r in results),
        "leaked_task_samples": [t for r in results for t in r["leaked"]][:MAX_SAMPLES],
        "tasks_watched": tasks_watched,
        "leaked_fds": leaked_fds,
        "fd_checkpoints": checkpoints,
        "hangs": sum(len(v.hangs) for v in verdicts),
        "app_errors": sum(len(v.app_errors) for v in verdicts),
        "audio_left_open": sum(v.audio_left_open for v in verdicts),
        "unplaced_audio_bytes": sum(v.unplaced_bytes for v in verdicts),
        "faults": dict(faults),
        "drops_by_moment": dict(Counter(d for v in verdicts for d in v.drops)),
        "outcome_notes": len(notes),
        "outcome_note_kinds": dict(Counter(_note_kind(n) for n in notes)),
        "outcome_note_samples": notes[:MAX_SAMPLES],
        "health": dict(health),
        "unhandled_errors": len(unhandled),
        "unhandled_error_samples": unhandled[:MAX_SAMPLES],
        "library_errors_logged": len(library_errors),
        "library_error_samples": library_errors[:MAX_SAMPLES],
        "sdk_warnings": dict(Counter(w.split(": ", 1)[-1][:80] for w in sdk_warnings)),
        "failures": failures[:MAX_SAMPLES],
        "failures_total": len(failures),
    }


def _lost_count(verdicts: list[count.Verdict]) -> int:
    """Speeches lost: each say() with at least one problem counts once."""
    return sum(len({problem.split(":", 1)[0] for problem in v.lost}) for v in verdicts)


def _explained(outcomes: list[str]) -> bool:
    return bool(outcomes) and outcomes[0].startswith(("failed, ", "skipped, "))


def _problem(line: str) -> str:
    """ "connection 0 say1 (static): <problem> [<state>]" -> "<problem>"."""
    return line.split(": ", 1)[-1].rsplit(" [", 1)[0]


def _note_kind(note: str) -> str:
    text = note.split(": ", 1)[-1]
    return text.split(" (", 1)[0].split(",", 1)[0][:80]
