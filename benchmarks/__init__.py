"""Benchmarks: voicelive-proactive side by side with the bare SDK loop, in the same run.

``python -m benchmarks`` (or ``make bench``) runs them all and writes
``benchmarks/results/latest.json``, the PNG plots next to it and ``docs/performance.md``.
Every figure is a ratio against the hand-written loop measured in the same run; timings
are reported, never asserted. The run fails (exit 1) only when a session was greeted twice
or not at all.
"""
