"""Where the library's dispatch time goes: ``python -m benchmarks.profile_dispatch``.

Not part of ``make bench``; it explains the ``dispatch`` figure (see ``benchmarks/PROFILE.md``).
It profiles the library's ``handle()`` path on ``session.updated`` as it runs **in real
sessions** (the SDK over loopback into the emulator, one session after another, so the path
runs as cold as it does in production: once per call, between handshakes), and again warm (the
same calls in a tight loop), in four ways:

1. ``window``: the dispatch window of :mod:`benchmarks.wiretap` for the bare loop and the
   drop-in, alternating, plus the time spent inside ``handle()`` / the bare ``send``;
2. ``steps``: every function of the path wrapped in a ``perf_counter_ns`` timer (in separate,
   alternating sessions, so the wrappers do not disturb part 1); inclusive and self times,
   minus the measured cost of a wrapper;
3. ``warm``: the same path, 5,000 times in a loop on ``FakeConnection`` (no socket);
4. ``cprofile``: ``cProfile`` enabled around each cold ``handle()`` call only.

The functions stamped are the engine's (``ENGINE_STEPS``), or the old session core's
(``OLD_STEPS``, commit 16b5e49) when there is no engine; a name that no longer exists is
reported as missing, not guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import statistics
import time
from collections import defaultdict
from typing import Any

from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.loops import SESSION, bare_events, event_ids, strategy
from benchmarks.wiretap import Wiretap

# (label, module path, attribute path): the session.updated → greeting path of the engine
# (voicelive_proactive.engine, the sans-IO core since commit c01d920), in the order it runs.
ENGINE_STEPS = [
    ("handle", "voicelive_proactive.session", "ProactiveSession.handle"),
    ("driver.handle", "voicelive_proactive.shell", "Driver.handle"),
    ("engine.receive", "voicelive_proactive.engine", "Engine.receive"),
    ("receiver.session_updated", "voicelive_proactive.receiving", "Receiver._session_updated"),
    ("engine.ready_now", "voicelive_proactive.engine", "Engine.ready_now"),
    ("first.send", "voicelive_proactive.first_update", "GreetFirst.send"),
    ("floor.may_speak", "voicelive_proactive.floor", "Floor.may_speak"),
    ("lifecycle.move", "voicelive_proactive.agenda", "move"),
    ("agenda.transmit", "voicelive_proactive.agenda", "Agenda.transmit"),
    ("floor.request_sent", "voicelive_proactive.floor", "Floor.request_sent"),
    ("agenda.hold_service", "voicelive_proactive.agenda", "Agenda.hold_service"),
    ("outbox.send", "voicelive_proactive.actions", "Outbox.send"),
    ("driver.perform", "voicelive_proactive.shell", "Driver.perform"),
    ("driver.drain", "voicelive_proactive.shell", "Driver.drain"),
    ("engine.take", "voicelive_proactive.engine", "Engine.take"),
    ("sender.flush", "voicelive_proactive.sending", "Sender.flush"),
    ("sdk_send", "azure.ai.voicelive.aio", "VoiceLiveConnection.send"),
]

# The same for the session core before the engine (commit 16b5e49 to af4c238).
OLD_STEPS = [
    ("handle", "voicelive_proactive.session", "ProactiveSession.handle"),
    ("on_session_updated", "voicelive_proactive.session", "_HANDLERS[session.updated]"),
    ("get_running_loop", "asyncio", "get_running_loop"),
    ("session_id", "voicelive_proactive.session", "_session_id"),
    ("busy", "voicelive_proactive.session", "ProactiveSession._busy"),
    ("inspect.isawaitable", "inspect", "isawaitable"),
    ("GreetingOutcome()", "voicelive_proactive.session", "GreetingOutcome"),
    ("attempt", "voicelive_proactive.session", "ProactiveSession._attempt"),
    ("guard.try_acquire", "voicelive_proactive.guard", "OnceGuard.try_acquire"),
    ("render_and_send", "voicelive_proactive.session", "ProactiveSession._render_and_send"),
    ("greeting_context", "voicelive_proactive.session", "ProactiveSession._greeting_context"),
    ("render_greeting", "voicelive_proactive.session", "render_greeting"),
    ("send", "voicelive_proactive.session", "ProactiveSession._send"),
    ("greeting_events", "voicelive_proactive.session", "greeting_events"),
    ("sdk_send", "azure.ai.voicelive.aio", "VoiceLiveConnection.send"),
]


def _steps() -> list[tuple[str, str, str]]:
    import importlib.util

    return ENGINE_STEPS if importlib.util.find_spec("voicelive_proactive.engine") else OLD_STEPS


class Timeline:
    """Stamps the entry and exit of every function of the path, while ``on`` is set.

    A stamp is one ``perf_counter_ns()`` and a list append (~0.1 µs; :func:`stamp_cost_ns`).
    Each span between two consecutive stamps is charged to the function innermost at that
    moment, which gives exact self times without per-call profiler overhead.
    """

    def __init__(self) -> None:
        self.on = False
        self.marks: list[tuple[str, int, int]] = []  # (label, 1 enter / 0 exit, ns)
        self.installed: list[tuple[Any, str, Any]] = []
        self.missing: list[str] = []

    def install(self) -> None:
        import importlib

        for label, module_name, path in _steps():
            owner: Any = importlib.import_module(module_name)
            if path.endswith("]"):  # an entry of a module-level dict: "_TABLE[key]"
                table_name, key = path[:-1].split("[", 1)
                table = getattr(owner, table_name, None)
                if not isinstance(table, dict) or key not in table:
                    self.missing.append(f"{module_name}.{path}")
                    continue
                self.installed.append((table, key, table[key]))
                table[key] = self.wrap(label, table[key])
                continue
            parts = path.split(".")
            for part in parts[:-1]:
                owner = getattr(owner, part, None)
            name = parts[-1]
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                self.missing.append(f"{module_name}.{path}")
                continue
            self.installed.append((owner, name, original))
            setattr(owner, name, self.wrap(label, original))

    def remove(self) -> None:
        for owner, name, original in reversed(self.installed):
            if isinstance(owner, dict):
                owner[name] = original
            else:
                setattr(owner, name, original)
        self.installed.clear()

    def mark(self, label: str, enter: int) -> None:
        if self.on:
            self.marks.append((label, enter, time.perf_counter_ns()))

    def wrap(self, label: str, func: Any) -> Any:
        marks, clock = self.marks, time.perf_counter_ns

        if asyncio.iscoroutinefunction(func):

            async def stamped_async(*args: Any, **kwargs: Any) -> Any:
                if not self.on:
                    return await func(*args, **kwargs)
                marks.append((label, 1, clock()))
                try:
                    return await func(*args, **kwargs)
                finally:
                    if self.on:
                        marks.append((label, 0, clock()))

            return stamped_async

        def stamped(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return func(*args, **kwargs)
            marks.append((label, 1, clock()))
            try:
                return func(*args, **kwargs)
            finally:
                if self.on:
                    marks.append((label, 0, clock()))

        return stamped

    def spans(self) -> dict[str, float]:
        """Self time per label (ns) over the recorded marks; the first mark opens ``app``."""
        out: dict[str, float] = defaultdict(float)
        stack: list[str] = []
        for (label, enter, t), (_, _, t_next) in zip(self.marks, self.marks[1:], strict=False):
            if enter:
                stack.append(label)
            elif stack and stack[-1] == label:
                stack.pop()
            out[stack[-1] if stack else "app"] += t_next - t
        self.marks.clear()
        return dict(out)


def stamp_cost_ns(rounds: int = 20000) -> float:
    """What one stamp costs (median ns): a wrapped no-op's enter→exit span."""
    timeline = Timeline()
    timeline.on = True
    wrapped = timeline.wrap("noop", lambda: None)
    costs = []
    for _ in range(rounds):
        wrapped()
        (_, _, t0), (_, _, t1) = timeline.marks[-2:]
        costs.append(t1 - t0)
        timeline.marks.clear()
    return float(statistics.median(costs))


# --------------------------------------------------------------------------- cold sessions


async def _one(
    endpoint: str,
    api_key: str,
    kind: str,
    timeline: Timeline | None,
    profiler: cProfile.Profile | None,
) -> dict[str, Any]:
    from azure.ai.voicelive.aio import connect
    from azure.core.credentials import AzureKeyCredential

    from voicelive_proactive import ProactiveSession

    gcs = {"n": 0}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gcs["n"] += 1

    out: dict[str, Any] = {"kind": kind}
    async with connect(
        endpoint=endpoint, credential=AzureKeyCredential(api_key), model="gpt-realtime"
    ) as conn:
        tap = Wiretap(conn)
        ws = conn._connection
        tapped_send_str = ws.send_str
        sent_at: list[int] = []

        async def send_str(data: str, *args: Any, **kwargs: Any) -> None:
            if not sent_at:
                sent_at.append(time.perf_counter_ns())
                if timeline is not None:
                    timeline.mark("socket", 1)
                    timeline.on = False
            await tapped_send_str(data, *args, **kwargs)

        ws.send_str = send_str  # type: ignore[method-assign]
        payloads = bare_events("spoken", event_ids())
        proactive = (
            None
            if kind == "bare"
            else ProactiveSession(conn, greeting=strategy("spoken"), audio=None)
        )
        await conn.session.update(session=SESSION)
        gc.callbacks.append(on_gc)
        try:
            async for event in conn:
                if event["type"] == "session.updated" and "until_send_us" not in out:
                    gcs["n"] = 0
                    sent_at.clear()
                    if timeline is not None:
                        timeline.on = True
                        timeline.mark("app", 1)
                    t0 = time.perf_counter_ns()
                    if proactive is not None:
                        if profiler is not None:
                            profiler.enable()
                        await proactive.handle(event)
                        if profiler is not None:
                            profiler.disable()
                    else:
                        for payload in payloads:
                            await conn.send(payload)
                    if timeline is not None:
                        timeline.on = False
                        out["spans_ns"] = timeline.spans()
                    out["until_send_us"] = (sent_at[0] - t0) / 1000
                    out["gc_in_call"] = gcs["n"]
                elif proactive is not None:
                    await proactive.handle(event)
                if event["type"] == "response.done":
                    break
        finally:
            gc.callbacks.remove(on_gc)
            if proactive is not None:
                await proactive.aclose()
    out["window_us"] = tap.dispatch_us
    return out


async def cold(sessions: int) -> dict[str, Any]:
    emulator = EmulatorProcess(pace=0.0, voice="synthetic")
    timeline = Timeline()
    profiler = cProfile.Profile()
    rows: list[dict[str, Any]] = []
    try:
        for _ in range(5):  # warm-up: imports, caches
            await _one(emulator.endpoint, emulator.api_key, "bare", None, None)
            await _one(emulator.endpoint, emulator.api_key, "dropin", None, None)
        timeline.install()
        for i in range(sessions):
            order = ["bare", "dropin", "bare_steps", "steps", "cprofile"]
            order = order[i % 5 :] + order[: i % 5]
            for kind in order:
                row = await _one(
                    emulator.endpoint,
                    emulator.api_key,
                    "bare" if kind.startswith("bare") else "dropin",
                    timeline if kind in ("steps", "bare_steps") else None,
                    profiler if kind == "cprofile" else None,
                )
                row["kind"] = kind
                rows.append(row)
    finally:
        timeline.remove()
        emulator.close()
    return {"rows": rows, "profiler": profiler, "missing": timeline.missing}


# --------------------------------------------------------------------------- warm loop


async def warm(rounds: int) -> dict[str, Any]:
    """The same calls hot, in a loop on ``FakeConnection`` (the SDK's send, no socket)."""
    from azure.ai.voicelive.models import ServerEvent

    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.testing import FakeConnection

    wire = {"type": "session.updated", "event_id": "e1", "session": {"id": "sess_1"}}
    created: Any = ServerEvent._deserialize(  # type: ignore[no-untyped-call]
        {"type": "session.created", "event_id": "e0", "session": {"id": "sess_1"}}, []
    )
    fake = FakeConnection()
    times: dict[str, list[int]] = {"bare": [], "handle": [], "construct": []}
    timeline = Timeline()
    found: list[dict[str, float]] = []
    for i in range(2 * rounds):
        stamped = i >= rounds  # first plain, then with the timeline
        if i == rounds:
            timeline.install()
        fake.clear_sent()
        event: Any = ServerEvent._deserialize(dict(wire), [])  # type: ignore[no-untyped-call]
        payloads = bare_events("spoken", event_ids())
        t0 = time.perf_counter_ns()
        for payload in payloads:
            await fake.send(payload)
        t1 = time.perf_counter_ns()
        proactive = ProactiveSession(fake, greeting=strategy("spoken"), audio=None)
        await proactive.handle(created)  # as in a session: the greeting renders here
        fake.clear_sent()
        t2 = time.perf_counter_ns()
        if stamped:
            timeline.on = True
            timeline.mark("app", 1)
        await proactive.handle(event)
        t3 = time.perf_counter_ns()
        if stamped:
            timeline.on = False
            found.append(timeline.spans())
        else:
            times["bare"].append(t1 - t0)
            times["handle"].append(t3 - t2)
            times["construct"].append(t2 - t1)
    timeline.remove()
    labels = sorted({label for f in found for label in f})
    return {
        "total_us": {
            k: round(statistics.median(v[rounds // 10 :]) / 1000, 2) for k, v in times.items()
        },
        "self_us_library": {
            label: round(statistics.median([f.get(label, 0.0) for f in found]) / 1000, 2)
            for label in labels
        },
    }


# --------------------------------------------------------------------------- report


def analyse(cold_result: dict[str, Any], stamp_ns: float) -> dict[str, Any]:
    rows = cold_result["rows"]

    def med(kind: str, key: str) -> float:
        values = [r[key] for r in rows if r["kind"] == kind and r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    def spans(kind: str) -> dict[str, float]:
        found = [r["spans_ns"] for r in rows if r["kind"] == kind and r.get("spans_ns")]
        labels = sorted({label for s in found for label in s})
        # Medians per label (µs), each span less the stamp that closes it.
        return {
            label: round(
                max(0.0, statistics.median([s.get(label, 0.0) for s in found]) - stamp_ns) / 1000,
                2,
            )
            for label in labels
        }

    stream = io.StringIO()
    stats = pstats.Stats(cold_result["profiler"], stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    gc_in = {
        kind: sum(r.get("gc_in_call", 0) for r in rows if r["kind"] == kind)
        for kind in ("bare", "dropin")
    }
    return {
        "sessions_per_kind": sum(1 for r in rows if r["kind"] == "bare"),
        "window_us": {k: round(med(k, "window_us"), 1) for k in ("bare", "dropin")},
        "until_send_us": {
            k: round(med(k, "until_send_us"), 1) for k in ("bare", "dropin", "bare_steps", "steps")
        },
        "gc_collections_in_call": gc_in,
        "self_us_library": spans("steps"),
        "self_us_bare": spans("bare_steps"),
        "stamp_cost_ns": stamp_ns,
        "missing": cold_result["missing"],
        "cprofile_top": stream.getvalue(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=300, help="sessions per kind")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    result = analyse(asyncio.run(cold(args.sessions)), stamp_cost_ns())
    result["warm"] = asyncio.run(warm(5000))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "cprofile_top"}, indent=1))
        return
    print(json.dumps({k: v for k, v in result.items() if k != "cprofile_top"}, indent=1))
    print(result["cprofile_top"])


if __name__ == "__main__":
    main()
