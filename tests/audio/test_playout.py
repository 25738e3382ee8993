"""PlayoutNotifier: each callback once, on its thread, not before its time."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from voicelive_proactive.audio.playout import PlayoutNotifier


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []
        self.done = threading.Event()

    def __call__(self) -> None:
        self.calls.append((time.monotonic(), threading.current_thread().name))
        self.done.set()


def test_a_callback_runs_once_on_the_notifier_thread_not_before_it_is_due() -> None:
    notifier = PlayoutNotifier("test-playout")
    due = time.monotonic() + 0.05
    record = Recorder()
    notifier.add(record, lambda: (due, True))
    assert record.done.wait(10)
    time.sleep(0.05)  # a second run would show up here
    assert len(record.calls) == 1
    at, thread = record.calls[0]
    assert at >= due and thread == "test-playout"
    assert notifier.pending == 0
    notifier.close()


def test_a_provisional_answer_is_asked_again_until_final() -> None:
    notifier = PlayoutNotifier("test-playout")
    answers = iter([(0.0, False), (time.monotonic(), False)])
    asked: list[int] = []

    def due() -> tuple[float, bool]:
        asked.append(1)
        return next(answers, (time.monotonic(), True))

    record = Recorder()
    notifier.add(record, due)
    assert record.done.wait(10)
    assert len(asked) == 3 and len(record.calls) == 1
    notifier.close()


def test_poke_makes_a_waiting_notifier_look_again() -> None:
    notifier = PlayoutNotifier("test-playout")
    state = {"when": time.monotonic() + 3600.0}
    record = Recorder()
    notifier.add(record, lambda: (state["when"], True))
    time.sleep(0.05)
    assert not record.calls, "an hour away"
    state["when"] = 0.0  # e.g. a barge-in dropped the audio
    notifier.poke()
    assert record.done.wait(10)
    notifier.close()


def test_close_runs_what_is_pending_on_the_caller_thread_and_later_adds_at_once() -> None:
    notifier = PlayoutNotifier("test-playout")
    early, late = Recorder(), Recorder()
    notifier.add(early, lambda: (time.monotonic() + 3600.0, True))
    notifier.close()
    assert early.calls and early.calls[0][1] == threading.current_thread().name
    notifier.add(late, lambda: (time.monotonic() + 3600.0, True))
    assert late.calls, "closed: nothing will play, so it runs now"
    assert notifier.pending == 0


def test_callbacks_due_together_run_in_order_and_a_failure_spares_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = PlayoutNotifier("test-playout")
    order: list[str] = []
    done = threading.Event()

    def broken() -> None:
        order.append("broken")
        raise RuntimeError("callback bug")

    def last() -> None:
        order.append("last")
        done.set()

    hold = threading.Event()
    gate = lambda: (time.monotonic(), hold.is_set())  # noqa: E731
    notifier.add(lambda: order.append("first"), gate)
    notifier.add(broken, gate)
    notifier.add(last, gate)
    with caplog.at_level(logging.ERROR, logger="voicelive_proactive.audio.playout"):
        hold.set()
        notifier.poke()
        assert done.wait(10)
    assert order == ["first", "broken", "last"]
    assert "notify_when_played callback failed" in caplog.text
    notifier.close()


def test_a_failing_estimate_notifies_rather_than_never(caplog: pytest.LogCaptureFixture) -> None:
    notifier = PlayoutNotifier("test-playout")
    record = Recorder()

    def due() -> tuple[float, bool]:
        raise ZeroDivisionError("estimate bug")

    with caplog.at_level(logging.ERROR, logger="voicelive_proactive.audio.playout"):
        notifier.add(record, due)
        assert record.done.wait(10)
    assert "estimating when audio is played failed" in caplog.text
    notifier.close()
