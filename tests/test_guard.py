from __future__ import annotations

import threading

import voicelive_proactive as vp


def test_true_exactly_once_then_reset() -> None:
    guard = vp.OnceGuard()
    assert not guard.done
    assert guard.try_acquire() is True
    assert guard.try_acquire() is False
    assert guard.done
    guard.reset()
    assert guard.try_acquire() is True


def test_race_many_threads_many_trials() -> None:
    threads_per_trial = 32
    for _ in range(200):
        guard = vp.OnceGuard()
        barrier = threading.Barrier(threads_per_trial)
        wins: list[bool] = []

        def contend(
            g: vp.OnceGuard = guard, b: threading.Barrier = barrier, out: list[bool] = wins
        ) -> None:
            b.wait()
            out.append(g.try_acquire())  # list.append is atomic

        threads = [threading.Thread(target=contend) for _ in range(threads_per_trial)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wins.count(True) == 1 and len(wins) == threads_per_trial


def test_is_a_guard_like() -> None:
    assert isinstance(vp.OnceGuard(), vp.GuardLike)
